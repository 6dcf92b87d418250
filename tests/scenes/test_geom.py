"""MeshGeom: a deformed mesh's bounds follow its vertices, so the renderer culls it only when it is
out of view (the bounds are set from the positions we write, not walked by Panda every frame)."""

from __future__ import annotations

import numpy as np
from panda3d.core import BoundingBox, NodePath, Point3

from scenes.geom import MeshGeom


def _contains_all(bounds, points: np.ndarray) -> bool:
    return all(bounds.contains(Point3(*map(float, p))) for p in points)


def test_moved_vertices_carry_their_bounds_to_every_geom_that_shares_them():
    rng = np.random.default_rng(0)
    verts = rng.uniform(-0.1, 0.1, (50, 3)).astype(np.float32)
    faces = rng.integers(0, 50, (40, 3))
    mesh = MeshGeom("blob", verts, faces, dynamic=True)
    shared = mesh.node.get_geom(0).make_copy()  # a second pass over the same data (the shell's rim)
    mesh.node.add_geom(shared)
    moved = verts + np.float32([3.0, -2.0, 1.0])
    mesh.update_vertices(moved)
    for i in range(mesh.node.get_num_geoms()):
        b = mesh.node.get_geom(i).get_bounds()
        assert isinstance(b, BoundingBox)
        assert _contains_all(b, moved)
        assert not b.contains(Point3(0, 0, 0)), "the bounds moved with the vertices"
    node_bounds = NodePath(mesh.node).get_bounds()
    assert _contains_all(node_bounds, moved) and not node_bounds.contains(Point3(0, 0, 0))
    lo, hi = np.asarray(b.get_min()), np.asarray(b.get_max())
    assert np.allclose(lo, moved.min(0), atol=1e-6) and np.allclose(hi, moved.max(0), atol=1e-6), "tight"


def test_a_deformed_mesh_in_view_is_drawn_and_one_moved_out_of_view_is_not():
    from vr_app.offscreen import OffscreenRenderer

    with OffscreenRenderer((64, 48)) as r:
        quad = np.float32([[-0.5, 0, -0.5], [0.5, 0, -0.5], [0.5, 0, 0.5], [-0.5, 0, 0.5]])
        mesh = MeshGeom("card", quad + [0, 150, 0], np.array([[0, 1, 2], [0, 2, 3]]), dynamic=True)
        np_ = r.stage.render.attach_new_node(mesh.node)
        np_.set_light_off(1)
        r.stage.camera.set_pos(0, 0, 0)
        r.stage.camera.look_at(0, 1, 0)
        assert r.frame().max() == 0, "out of view (behind the far plane)"
        mesh.update_vertices(quad + [0, 3, 0])  # now straight ahead
        assert r.frame()[24, 32].min() == 255, "the card that moved into view is drawn"
        mesh.update_vertices(quad + [0, -3, 0])  # behind the camera
        assert r.frame().max() == 0


def _corners(node) -> np.ndarray:
    """[F,3,8] each face's corners as (position, normal, uv), from the GeomNode's first geom."""
    geom = node.get_geom(0)
    rows = np.frombuffer(geom.get_vertex_data().get_array(0), np.float32).reshape(-1, 12)[:, :8]
    faces = np.frombuffer(geom.get_primitive(0).get_vertices(), np.uint32).reshape(-1, 3)
    return rows[faces]


def test_a_flat_mesh_shares_the_vertices_its_coplanar_faces_have_in_common_and_keeps_hard_edges():
    import trimesh

    from scenes.build import _slab
    from scenes.geom import trimesh_geom

    lawn = _slab(4.0, 4.0, 0.01)
    node = trimesh_geom("lawn", lawn, uv_scale=1.5, flat=True)
    n_rows = node.get_geom(0).get_vertex_data().get_num_rows()
    assert n_rows < len(lawn.faces), "a grid's corners are shared (not three per face)"
    corners = _corners(node)
    assert corners.shape == (len(lawn.faces), 3, 8)
    assert np.array_equal(corners[..., :3], np.asarray(lawn.triangles, np.float32)), "same faces, same order"
    top = np.abs(corners[:, 0, 5] - 1) < 1e-6
    assert np.allclose(corners[top][..., 6:8], corners[top][..., :2] / 1.5), "each corner keeps its own uv"
    box = trimesh_geom("box", trimesh.creation.box(extents=[1, 1, 1]), uv_scale=1.0, flat=True)
    c = _corners(box)
    assert box.get_geom(0).get_vertex_data().get_num_rows() == 24, "a cube's corners keep one normal per side"
    normals = c[..., 3:6]
    assert np.allclose(normals, normals[:, :1]), "every face is flat: its corners share its normal"
