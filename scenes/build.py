"""Build a memorial room from its SceneSpec: geometry, procedural materials, warm lights,
soft blob shadows, flickering candles and photo frames showing the family's photos.

Fixed-function lighting only (it renders the same on p3tinydisplay, Mesa and NVIDIA; the
automatic shader generator fails headless). Large surfaces are subdivided because that
lighting is per vertex.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import trimesh
from panda3d.core import AmbientLight, ColorBlendAttrib, DirectionalLight, NodePath, PointLight, TransparencyAttrib

from . import textures
from .bins import ROOM, SKY, cull_bin
from .camera import FAR, NEAR
from .geom import MeshGeom, colour_material, trimesh_geom
from .panda_textures import make_texture
from .spec import Candle, Obj, Photo, SceneSpec

WAX_RGB = (0.93, 0.88, 0.76)  # ivory
MAT_RGB = (0.92, 0.89, 0.82)  # a photo's mat board: cream

MAX_EDGE = 0.4  # metres: subdivide big faces so per-vertex lighting shows the warm pools
TILE = 3.0  # metres: big flat surfaces are drawn as pieces this size, so those out of view are skipped
PLANE_THICKNESS = 0.01  # metres: a plane's rim (a rug's edge shows)


def _mesh(obj: Obj) -> trimesh.Trimesh:
    s = obj.size
    if obj.shape == "box":
        m = trimesh.creation.box(extents=s[:3])
    elif obj.shape == "plane":
        return _slab(s[0], s[1], PLANE_THICKNESS)
    elif obj.shape == "cylinder":
        m = trimesh.creation.cylinder(radius=s[0], height=s[1], sections=32)
    elif obj.shape == "cone":
        m = trimesh.creation.cone(radius=s[0], height=s[1], sections=32)
    elif obj.shape == "capsule":
        m = trimesh.creation.capsule(height=s[1], radius=s[0], count=(16, 16))
    else:
        m = trimesh.creation.icosphere(subdivisions=3, radius=1.0)
        m.apply_scale(s[:3] if len(s) >= 3 else [s[0]] * 3)
    if obj.shape == "box" and max(s[:2]) > MAX_EDGE:
        m.unmerge_vertices()  # flat-shaded boxes: split first so corners keep hard normals
        v, f = trimesh.remesh.subdivide_to_size(m.vertices, m.faces, max_edge=MAX_EDGE)
        m = trimesh.Trimesh(v, f, process=False)
    return m


def _slab(w: float, d: float, thickness: float) -> trimesh.Trimesh:
    """A plane: its top face subdivided for the per-vertex lighting and a rim of one quad per top
    edge, no underside. A plane lies flat and is seen from above (a lawn, floor, rug); its underside
    and rim, subdivided like the top, were three quarters of a garden frame's triangles (the lawn:
    38,600 of them) for nothing anyone sees."""
    m = trimesh.creation.box(extents=[w, d, thickness])
    m.unmerge_vertices()
    m = trimesh.Trimesh(m.vertices, m.faces[m.face_normals[:, 2] > 0.5], process=False)
    if max(w, d) > MAX_EDGE:
        v, f = trimesh.remesh.subdivide_to_size(m.vertices, m.faces, max_edge=MAX_EDGE)
    else:
        v, f = np.asarray(m.vertices), np.asarray(m.faces)
    # The rim: each top edge used by one face only (counter-clockwise seen from above) goes straight down.
    key = {tuple(np.round(p, 6)): i for i, p in enumerate(v)}
    canon = np.array([key[tuple(np.round(p, 6))] for p in v])
    edges = np.concatenate([f[:, [0, 1]], f[:, [1, 2]], f[:, [2, 0]]])
    c = canon[edges]
    pairs, counts = np.unique(np.sort(c, axis=1), axis=0, return_counts=True)
    single = {tuple(e) for e in pairs[counts == 1]}
    rim = edges[[tuple(sorted(e)) in single for e in c.tolist()]]
    a, b = v[rim[:, 0]], v[rim[:, 1]]
    down = np.array([0.0, 0.0, thickness])
    n = len(v)
    quads = np.concatenate([a, b, a - down, b - down])
    k = np.arange(len(rim))
    ai, bi, al, bl = n + k, n + len(rim) + k, n + 2 * len(rim) + k, n + 3 * len(rim) + k
    faces = np.concatenate([f, np.stack([ai, al, bl], 1), np.stack([ai, bl, bi], 1)])
    return trimesh.Trimesh(np.concatenate([v, quads]), faces, process=False)


def _radial(size: int, inner: float, rgb=(0, 0, 0)) -> np.ndarray:
    """RGBA uint8 [S,S,4]: colour with alpha falling from 1 at the centre to 0 at the edge."""
    y, x = np.mgrid[0:size, 0:size]
    r = np.hypot(x - size / 2 + 0.5, y - size / 2 + 0.5) / (size / 2)
    a = np.clip((1 - r) / (1 - inner), 0, 1) ** 2
    img = np.zeros((size, size, 4), np.uint8)
    img[..., :3] = rgb
    img[..., 3] = (a * 255).astype(np.uint8)
    return img


def _rgba_texture(img: np.ndarray, name: str):
    from panda3d.core import Texture

    tex = Texture(name)
    tex.setup_2d_texture(img.shape[1], img.shape[0], Texture.T_unsigned_byte, Texture.F_rgba8)
    tex.set_ram_image_as(np.ascontiguousarray(img[::-1]).tobytes(), "RGBA")
    return tex


def _quad(name: str, w: float, h: float) -> MeshGeom:
    """A card in the X-Z plane facing -Y, centred, uv 0..1."""
    v = np.array([[-w / 2, 0, -h / 2], [w / 2, 0, -h / 2], [w / 2, 0, h / 2], [-w / 2, 0, h / 2]], np.float32)
    uv = np.array([[0, 0], [1, 0], [1, 1], [0, 1]], np.float32)
    n = np.tile(np.array([0, -1, 0], np.float32), (4, 1))
    return MeshGeom(name, v, np.array([[0, 1, 2], [0, 2, 3]]), uvs=uv, normals=n)


def flicker(t: float, seed: int) -> float:
    """A candle's brightness wobble in -1..1: a few incommensurate sines, different per candle."""
    p = seed * 1.7
    return float(np.clip(0.5 * np.sin(11.3 * t + p) + 0.3 * np.sin(23.7 * t + 2 * p) + 0.2 * np.sin(5.1 * t + 3 * p), -1, 1))


@dataclass
class CandleNode:
    flame: NodePath
    halo: NodePath
    light: PointLight | None
    seed: int
    base_color: tuple = (1.0, 0.62, 0.28)

    def update(self, t: float) -> None:
        f = flicker(t, self.seed)
        self.flame.set_scale(1 + 0.06 * f, 1 + 0.06 * f, 1 + 0.22 * f)
        self.flame.set_h(25 * f)
        self.halo.set_scale(1 + 0.18 * f)
        self.halo.set_alpha_scale(0.55 + 0.3 * f)
        if self.light is not None:
            k = 0.85 + 0.15 * f
            r, g, b = self.base_color
            self.light.set_color((r * k, g * k, b * k, 1))


@dataclass
class BuiltScene:
    spec: SceneSpec
    root: NodePath
    bust_anchor: NodePath  # place the HeadRig's root here (subject's eye midpoint)
    candles: list[CandleNode] = field(default_factory=list)
    photo_nodes: list[NodePath] = field(default_factory=list)

    def update(self, t: float) -> None:
        for c in self.candles:
            c.update(t)

    def place_camera(self, camera: NodePath, lens=None) -> None:
        camera.set_pos(*self.spec.camera_pos)
        camera.look_at(*self.spec.camera_look_at)
        if lens is not None:  # every display gets the same view: field of view and clip range
            lens.set_min_fov(self.spec.fov)
            lens.set_near_far(NEAR, FAR)


def _sky(spec: SceneSpec, root: NodePath) -> None:
    zenith, horizon = (np.asarray(c, np.float32) for c in spec.sky)
    m = trimesh.creation.uv_sphere(radius=60, count=(16, 24))
    v = np.asarray(m.vertices, np.float32)
    t = np.clip(v[:, 2] / 60, 0, 1)[:, None] ** 0.6
    colors = np.c_[horizon + (zenith - horizon) * t, np.ones(len(v))]
    sky = root.attach_new_node(MeshGeom("sky", v, m.faces[:, ::-1], colors=colors).node)
    sky.set_light_off(1)
    sky.set_bin(cull_bin(SKY), 0)
    sky.set_depth_write(False)


def _tiles(mesh: trimesh.Trimesh, size: float = TILE) -> list[trimesh.Trimesh]:
    """A flat-shaded mesh cut into pieces of about `size` metres a side (by face centre): the renderer
    skips a piece out of view as a whole, where the one node it was lit every vertex of it each frame
    (a third of the garden's lawn lies behind the visitor). Faces keep their own corners, so each
    piece is lit exactly as before."""
    tri = np.asarray(mesh.triangles)  # [F,3,3]
    lo, hi = tri.reshape(-1, 3).min(axis=0), tri.reshape(-1, 3).max(axis=0)
    pieces = np.maximum(1, np.ceil((hi - lo) / size - 1e-6))  # per axis: a small mesh stays whole
    cell = np.clip(np.floor((tri.mean(axis=1) - lo) / (hi - lo + 1e-9) * pieces), 0, pieces - 1).astype(np.int64)
    _, which = np.unique(cell, axis=0, return_inverse=True)
    which = which.reshape(-1)
    out = []
    for k in range(which.max() + 1):
        t = tri[which == k].reshape(-1, 3)
        out.append(trimesh.Trimesh(t, np.arange(len(t)).reshape(-1, 3), process=False))
    return out


def _object(i: int, obj: Obj, root: NodePath, shadow_tex) -> NodePath:
    name, mesh, flat = f"{obj.shape}-{i}", _mesh(obj), obj.shape in ("box", "plane")
    parts = _tiles(mesh) if flat else [mesh]
    geoms = [trimesh_geom(name if len(parts) == 1 else f"{name}-tile-{k}", part, color=(*obj.color, 1),
                          uv_scale=obj.uv_scale if obj.texture else None, flat=flat) for k, part in enumerate(parts)]
    if len(geoms) == 1:
        node = root.attach_new_node(geoms[0])
    else:
        node = root.attach_new_node(name)
        for g in geoms:
            node.attach_new_node(g)
    node.set_pos(*obj.pos)
    node.set_hpr(*obj.hpr)
    node.set_bin(cull_bin(ROOM), 0)
    if obj.texture:
        node.set_texture(make_texture(textures.make(obj.texture, 128, seed=i), obj.texture))
    if obj.unlit:  # glowing things (a lamp shade, a window) keep their colour without light
        node.set_light_off(1)
        node.set_color(*obj.color, 1)
    if obj.shadow:
        r = 0.75 * max(obj.size[0], obj.size[1] if obj.shape in ("box", "plane", "sphere") else obj.size[0])
        _shadow(root, obj.pos[0], obj.pos[1], r, shadow_tex)
    return node


def _shadow(root: NodePath, x: float, y: float, radius: float, tex) -> None:
    """A soft dark disc on the floor: cheap contact shadow that works without shaders."""
    q = root.attach_new_node(_quad("shadow", 2 * radius, 2 * radius).node)
    q.set_p(-90)
    q.set_pos(x, y, 0.004)
    q.set_texture(tex)
    q.set_transparency(TransparencyAttrib.M_alpha)
    q.set_depth_write(False)
    q.set_light_off(1)
    q.set_bin("fixed", 0)
    q.set_color_scale(1, 1, 1, 0.55)


def _candle(i: int, c: Candle, root: NodePath, halo_tex) -> CandleNode:
    base = root.attach_new_node(f"candle-{i}")
    base.set_pos(*c.pos)
    base.set_bin(cull_bin(ROOM), 0)  # the halo keeps its own (blended) bin
    wax = base.attach_new_node(trimesh_geom("wax", trimesh.creation.cylinder(radius=c.radius, height=c.height, sections=20),
                                            color=WAX_RGB))
    wax.set_z(c.height / 2)
    mat = colour_material("wax", WAX_RGB)
    mat.set_emission((0.25, 0.18, 0.1, 1))  # wax glows a little around the flame
    wax.set_material(mat)
    pivot = base.attach_new_node("flame-pivot")
    pivot.set_z(c.height + 0.004)
    flame_mesh = trimesh.creation.icosphere(subdivisions=2, radius=1.0)
    v = np.asarray(flame_mesh.vertices, np.float32) * [c.radius * 0.32, c.radius * 0.32, c.radius * 1.0]
    v[:, 2] += c.radius
    v[:, :2] *= np.clip(1.2 - (v[:, 2] / (2 * c.radius)), 0.2, 1)[:, None]  # tapered tip
    heat = np.clip(v[:, 2] / (2 * c.radius), 0, 1)[:, None]
    colors = np.c_[np.array([1.0, 0.95, 0.7]) * (1 - heat) + np.array([1.0, 0.55, 0.12]) * heat, np.ones(len(v))]
    flame = pivot.attach_new_node(MeshGeom("flame", v, flame_mesh.faces, colors=colors).node)
    flame.set_light_off(1)
    halo = pivot.attach_new_node(_quad("halo", c.radius * 5, c.radius * 5).node)
    halo.set_z(c.radius)
    halo.set_billboard_point_eye()
    halo.set_texture(halo_tex)
    halo.set_transparency(TransparencyAttrib.M_alpha)
    halo.set_attrib(ColorBlendAttrib.make(ColorBlendAttrib.M_add, ColorBlendAttrib.O_incoming_alpha, ColorBlendAttrib.O_one))
    halo.set_depth_write(False)
    halo.set_light_off(1)
    halo.set_bin("fixed", 10)
    light = None
    if c.light:
        light = PointLight(f"candle-light-{i}")
        light.set_attenuation((1, 0, 2.5))
        lnp = pivot.attach_new_node(light)
        lnp.set_z(c.radius * 2)
        root.set_light(lnp)
    return CandleNode(flame=flame, halo=halo, light=light, seed=i + 1)


def _photo(i: int, p: Photo, root: NodePath, image: np.ndarray | None) -> NodePath:
    node = root.attach_new_node(f"photo-{i}")
    node.set_pos(*p.pos)
    node.set_hpr(*p.hpr)
    node.set_bin(cull_bin(ROOM), 0)
    w, h = p.size
    node.attach_new_node(trimesh_geom("frame", trimesh.creation.box(extents=[w + 0.05, 0.025, h + 0.05]),
                                      color=(*p.frame_color, 1), flat=True))
    mat_board = node.attach_new_node(_quad("mat", w, h).node)
    mat_board.set_y(-0.0135)
    mat_board.set_material(colour_material("mat", MAT_RGB))  # not set_color: see colour_material
    if image is not None:
        ih, iw = image.shape[:2]
        scale = min((w * 0.86) / iw, (h * 0.86) / ih)
        pic = node.attach_new_node(_quad("picture", iw * scale, ih * scale).node)
        pic.set_y(-0.0145)
        pic.set_texture(make_texture(image, f"photo-{i}"))
    return node


def build_scene(spec: SceneSpec, parent: NodePath, photos: list[np.ndarray] | None = None) -> BuiltScene:
    """Build `spec` under `parent`; `photos` are RGB thumbnails [h,w,3] for the frames, in order."""
    photos = list(photos or [])
    root = parent.attach_new_node(f"scene-{spec.name}")
    if spec.sky:
        _sky(spec, root)
    amb = AmbientLight("ambient")
    amb.set_color((*spec.ambient, 1))
    root.set_light(root.attach_new_node(amb))
    for i, li in enumerate(spec.lights):
        if li.type == "point":
            light = PointLight(f"light-{i}")
            light.set_attenuation(tuple(li.attenuation))
            lnp = root.attach_new_node(light)
            lnp.set_pos(*li.pos)
        else:
            light = DirectionalLight(f"light-{i}")
            lnp = root.attach_new_node(light)
            lnp.set_hpr(*li.hpr)
        light.set_color((*li.color, 1))
        root.set_light(lnp)
    shadow_tex = _rgba_texture(_radial(64, 0.1), "shadow")
    halo_tex = _rgba_texture(_radial(64, 0.0, (255, 190, 110)), "halo")
    for i, obj in enumerate(spec.objects):
        _object(i, obj, root, shadow_tex)
    candles = [_candle(i, c, root, halo_tex) for i, c in enumerate(spec.candles)]
    photo_nodes = [_photo(i, p, root, photos[i] if i < len(photos) else None) for i, p in enumerate(spec.photos)]
    anchor = root.attach_new_node("bust-anchor")
    anchor.set_pos(*spec.bust_pos)
    anchor.set_h(spec.bust_heading)
    _shadow(root, spec.bust_pos[0], spec.bust_pos[1], 0.35, shadow_tex)
    built = BuiltScene(spec=spec, root=root, bust_anchor=anchor, candles=candles, photo_nodes=photo_nodes)
    built.update(0.0)
    return built
