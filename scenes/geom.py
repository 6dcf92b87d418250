"""numpy meshes to Panda3D geometry, with a fast whole-array rewrite for deforming meshes.

Vertex data is one interleaved float32 array per vertex: position, normal, uv, colour
(12 floats). Rewriting it through a memoryview is the one path that works on every
backend (software p3tinydisplay has no vertex shaders).
"""

from __future__ import annotations

import numpy as np
from panda3d.core import (
    BoundingBox,
    Geom,
    GeomNode,
    GeomTriangles,
    GeomVertexArrayFormat,
    GeomVertexData,
    GeomVertexFormat,
    InternalName,
    Material,
    MaterialAttrib,
    Point3,
)

from assets.mesh import vertex_normals

_FLOATS = 12  # x y z, nx ny nz, u v, r g b a


def to_panda(v: np.ndarray) -> np.ndarray:
    """Head coordinates [...,3] (x: subject's left, y: up, z: out of the face) -> Panda3D's (x, -z, y)."""
    v = np.asarray(v, dtype=np.float32)
    return np.stack([v[..., 0], -v[..., 2], v[..., 1]], axis=-1)


def from_panda(v: np.ndarray) -> np.ndarray:
    """Panda3D coordinates [...,3] -> head coordinates (the inverse of `to_panda`)."""
    v = np.asarray(v, dtype=np.float32)
    return np.stack([v[..., 0], v[..., 2], -v[..., 1]], axis=-1)


def _format() -> GeomVertexFormat:
    array = GeomVertexArrayFormat()
    array.add_column(InternalName.get_vertex(), 3, Geom.NT_float32, Geom.C_point)
    array.add_column(InternalName.get_normal(), 3, Geom.NT_float32, Geom.C_normal)
    array.add_column(InternalName.get_texcoord(), 2, Geom.NT_float32, Geom.C_texcoord)
    array.add_column(InternalName.get_color(), 4, Geom.NT_float32, Geom.C_color)
    fmt = GeomVertexFormat()
    fmt.add_array(array)
    return GeomVertexFormat.register_format(fmt)


class MeshGeom:
    """A GeomNode made from numpy arrays; `update_vertices` rewrites positions and normals."""

    def __init__(self, name: str, vertices: np.ndarray, faces: np.ndarray, uvs: np.ndarray | None = None,
                 colors: np.ndarray | None = None, normals: np.ndarray | None = None, dynamic: bool = False):
        vertices = np.asarray(vertices, dtype=np.float32)
        faces = np.asarray(faces, dtype=np.int32)
        v = len(vertices)
        assert vertices.shape == (v, 3) and faces.ndim == 2 and faces.shape[1] == 3
        self.faces = faces
        self.data = np.zeros((v, _FLOATS), dtype=np.float32)  # [V,12]
        self.data[:, 0:3] = vertices
        self.data[:, 3:6] = vertex_normals(vertices, faces) if normals is None else normals
        if uvs is not None:
            assert uvs.shape == (v, 2)
            self.data[:, 6:8] = uvs
        if colors is None:
            self.data[:, 8:12] = 1.0
        else:
            colors = np.asarray(colors, dtype=np.float32)
            self.data[:, 8:12] = np.broadcast_to(colors if colors.shape[-1] == 4 else np.c_[colors.reshape(-1, 3), np.ones(len(colors.reshape(-1, 3)))], (v, 4))
        self.vdata = GeomVertexData(name, _format(), Geom.UH_dynamic if dynamic else Geom.UH_static)
        self.vdata.unclean_set_num_rows(v)
        self._write()
        prim = GeomTriangles(Geom.UH_static)
        prim.set_index_type(Geom.NT_uint32)
        handle = prim.modify_vertices()
        handle.unclean_set_num_rows(faces.size)
        memoryview(handle).cast("B")[:] = faces.astype(np.uint32).tobytes()
        geom = Geom(self.vdata)
        geom.add_primitive(prim)
        self.node = GeomNode(name)
        self.node.add_geom(geom)

    def _write(self) -> None:
        array = self.vdata.modify_array(0)
        memoryview(array).cast("B")[:] = self.data.reshape(-1).view(np.uint8)  # no tobytes() copy per frame

    def show_faces(self, faces: np.ndarray) -> None:
        """Draw `faces` [F,3] (as many as it was made with; a face of one vertex thrice is not drawn)
        instead of those it shows now; its vertices and the normals worked out from `faces` stay."""
        assert faces.shape == self.faces.shape, faces.shape
        handle = self.node.modify_geom(0).modify_primitive(0).modify_vertices()
        memoryview(handle).cast("B")[:] = np.ascontiguousarray(faces, np.uint32).tobytes()

    def update_vertices(self, vertices: np.ndarray, normals: np.ndarray | None = None) -> None:
        """Replace positions [V,3] (and normals, recomputed when not given)."""
        assert vertices.shape == (len(self.data), 3), vertices.shape
        self.data[:, 0:3] = vertices
        self.data[:, 3:6] = vertex_normals(vertices, self.faces) if normals is None else normals
        self._send()

    def update_rows(self, ids: np.ndarray, vertices: np.ndarray, normals: np.ndarray) -> None:
        """New positions [K,3] and normals [K,3] for vertices `ids` [K]; the others keep theirs."""
        self.data[ids, 0:3] = vertices
        self.data[ids, 3:6] = normals
        self._send()

    def _send(self) -> None:
        geom = self.node.modify_geom(0)
        self.vdata = geom.modify_vertex_data()
        self._write()
        # Panda would walk every index of the changed data on the next cull for its bounds (the head and
        # shell: ~10% of a software frame); the box of the positions we hold is the same volume's bound.
        xyz = [self.data[:, k] for k in range(3)]  # per column: numpy's min(axis=0) over [V,3] is 10x slower
        box = BoundingBox(Point3(*(float(c.min()) for c in xyz)), Point3(*(float(c.max()) for c in xyz)))
        for i in range(self.node.get_num_geoms()):  # geoms sharing this data (the shell's rim) too
            self.node.modify_geom(i).set_bounds(box)


def _weld_equal(vertices: np.ndarray, faces: np.ndarray, normals: np.ndarray, uvs: np.ndarray | None):
    """One vertex per bit-identical (position, normal, uv) row, in order of first use; faces renumbered.
    A flat-shaded mesh keeps a vertex per face corner for its hard edges, but where coplanar faces meet
    (a subdivided lawn: six faces at each grid point) those copies are the same vertex, and the software
    renderer transforms and lights every vertex of a draw: the same pixels for a sixth of that work."""
    rows = np.ascontiguousarray(np.concatenate([vertices, normals] + ([] if uvs is None else [uvs]), axis=1))
    key = rows.view(np.dtype((np.void, rows.dtype.itemsize * rows.shape[1]))).reshape(-1)  # bitwise equality
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    order = np.argsort(first)
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    keep = first[order]
    faces = rank[inverse.reshape(-1)][faces]
    return vertices[keep], faces, normals[keep], None if uvs is None else uvs[keep]


def trimesh_geom(name: str, mesh, color=(1, 1, 1, 1), uv_scale: float | None = None, flat: bool = False) -> GeomNode:
    """A static GeomNode from a trimesh mesh; `uv_scale` metres per texture repeat (box mapping)."""
    if flat:
        mesh = mesh.copy()
        mesh.unmerge_vertices()
    vertices = np.asarray(mesh.vertices, dtype=np.float32)
    faces = np.asarray(mesh.faces, dtype=np.int32)
    normals = np.asarray(mesh.vertex_normals, dtype=np.float32)
    uvs = None
    if uv_scale:
        axis = np.abs(normals).argmax(axis=1)  # project along the dominant normal axis
        u = np.where(axis == 0, vertices[:, 1], vertices[:, 0])
        w = np.where(axis == 2, vertices[:, 1], vertices[:, 2])
        uvs = (np.c_[u, w] / uv_scale).astype(np.float32)
    if flat:
        vertices, faces, normals, uvs = _weld_equal(vertices, faces, normals, uvs)
    node = MeshGeom(name, vertices, faces, uvs=uvs, normals=normals).node  # white vertex colours
    node.set_attrib(MaterialAttrib.make(colour_material(name, color)))
    return node


def colour_material(name: str, color) -> Material:
    """A material of colour `color` (RGB or RGBA 0..1) for white-vertex geometry. The colour goes in a
    material, not the vertex colour or set_color: the software renderer multiplies a lit colour in twice,
    GL once; a material colour on white vertices renders alike on both."""
    mat = Material(name)
    rgba = tuple(float(c) for c in color) + ((1.0,) if len(color) == 3 else ())
    mat.set_ambient(rgba)
    mat.set_diffuse(rgba)
    return mat
