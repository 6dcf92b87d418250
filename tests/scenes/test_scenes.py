"""Scene specs load and validate; every room renders with the bust at eye level, the label,
flickering candles and the family's photos on the frames (real offscreen renders, 160x120)."""

from __future__ import annotations

import numpy as np
import pytest

from assets.errors import UsageError
from scenes import spec as scene_spec
from scenes import textures
from tests.vr_app.heads import face_texture, make_head

ROOMS = ("garden", "living_room", "chapel")


@pytest.fixture(scope="module")
def head():
    return make_head(4)


def render_scene(name, head, size=(160, 120), photos=None, t=0.0):
    from vr_app.offscreen import OffscreenRenderer
    from vr_app.scene import MemorialScene
    from scenes.panda_textures import TextureStream

    spec = scene_spec.load(name)
    r = OffscreenRenderer(size)
    r.buffer.set_clear_color((*spec.background, 1))
    sc = MemorialScene(r.stage, spec, head, TextureStream(face_texture(), 1.0), None, photos, intro_s=0.0)
    sc.update(t)
    return r, sc, r.frame()


def test_the_three_rooms_exist_and_load():
    assert set(ROOMS) <= set(scene_spec.available())
    specs = {n: scene_spec.load(n) for n in ROOMS}
    assert len(specs["chapel"].candles) >= 3 and specs["chapel"].ambience == "chapel"
    assert len(specs["living_room"].photos) >= 4
    assert specs["garden"].sky is not None
    for s in specs.values():
        eye_height = s.bust_pos[2]
        assert 1.05 <= eye_height <= 1.3, "a seated visitor meets the eyes at about 1.2 m"
        assert abs(s.camera_pos[2] - eye_height) < 0.1


def test_unknown_scene_names_the_available_ones():
    with pytest.raises(UsageError, match="unknown scene 'moon'.*garden"):
        scene_spec.load("moon")


def test_bad_spec_fields_are_named(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[camera]\npos=[0,0,1]\nlook_at=[0,1,1]\n[bust]\npos=[0,0,1.2]\n'
                   '[[objects]]\nshape="pyramid"\npos=[0,0,0]\n')
    with pytest.raises(UsageError, match="object 1: shape must be one of"):
        scene_spec.load(bad)
    bad.write_text('[camera]\npos=[0,0]\nlook_at=[0,1,1]\n[bust]\npos=[0,0,1.2]\n')
    with pytest.raises(UsageError, match=r"\[camera\]: 'pos' must be a list of 3 numbers"):
        scene_spec.load(bad)
    bad.write_text("not = [toml")
    with pytest.raises(UsageError, match="not valid TOML"):
        scene_spec.load(bad)


def test_procedural_textures_are_deterministic_and_textured():
    for name in textures.MAKERS:
        a, b = textures.make(name, 64, seed=3), textures.make(name, 64, seed=3)
        assert a.shape == (64, 64, 3) and a.dtype == np.uint8
        assert np.array_equal(a, b)
        assert a.std() > 3, f"{name} is flat"
    assert not np.array_equal(textures.make("wood", 64, 1), textures.make("wood", 64, 2))


@pytest.mark.parametrize("name", ROOMS)
def test_room_renders_with_bust_label_and_skin(name, head):
    r, sc, img = render_scene(name, head)
    h, w, _ = img.shape
    assert img.std() > 15, "blank render"
    x0, y0, x1, y1 = sc.face_box()
    assert 0 < x0 < w / 2 < x1 < w and 0 <= y0 < h / 2, f"head not centred at eye level: {(x0, y0, x1, y1)}"
    face = img[(y0 + y1) // 2 - 3:(y0 + y1) // 2 + 3, (x0 + x1) // 2 - 3:(x0 + x1) // 2 + 3].reshape(-1, 3).astype(int)
    r_, g_, b_ = np.median(face, axis=0)
    assert r_ > g_ > b_ and r_ > 60, f"face centre is not skin-like: {(r_, g_, b_)}"
    label = img[int(h * 0.93):, int(w * 0.6):]  # bottom-right: white text on a dark card
    assert (label.min(axis=2) > 200).sum() >= 5 and (label.max(axis=2) < 40).sum() >= 20
    r.close()


def test_candle_flames_flicker_over_time(head):
    r, sc, a = render_scene("chapel", head)
    sc.update(0.37)
    b = r.frame()
    diff = np.abs(a.astype(int) - b.astype(int)).sum(axis=2)
    x0, y0, x1, y1 = sc.face_box()
    assert diff.sum() > 200, "candles did not change between t=0 and t=0.37"
    assert diff[y0:y1, x0:x1].sum() < diff.sum(), "the change should come from the candles, not the head"
    r.close()


def test_photo_frames_show_the_family_photos(head):
    blue = np.zeros((40, 30, 3), np.uint8)
    blue[..., 2] = 230
    r, _, with_photos = render_scene("living_room", head, photos=[blue] * 6)
    r.close()
    r, _, without = render_scene("living_room", head)
    r.close()

    def bluish(img):
        i = img.astype(int)
        return ((i[..., 2] > 120) & (i[..., 2] > i[..., 0] + 60)).sum()

    assert bluish(with_photos) > 100 and bluish(without) == 0


def test_a_plane_is_its_subdivided_top_and_a_closed_rim_without_underside():
    from scenes.build import MAX_EDGE, PLANE_THICKNESS, _slab

    m = _slab(2.4, 1.8, PLANE_THICKNESS)
    n = m.face_normals
    top, rim = n[:, 2] > 0.99, np.abs(n[:, 2]) < 1e-6
    assert top.sum() + rim.sum() == len(m.faces), "no face points down"
    assert np.isclose(m.area_faces[top].sum(), 2.4 * 1.8)
    assert np.isclose(m.area_faces[rim].sum(), 2 * (2.4 + 1.8) * PLANE_THICKNESS)
    edges = np.linalg.norm(m.vertices[m.faces[top]] - m.vertices[np.roll(m.faces[top], 1, 1)], axis=-1)
    assert edges.max() <= MAX_EDGE + 1e-6, "the top keeps its per-vertex lighting density"
    centres = m.triangles_center[rim]
    assert (np.einsum("ij,ij->i", n[rim], centres) > 0).all(), "the rim faces outward"


def test_big_flat_surfaces_are_cut_into_tiles_that_hold_the_same_triangles():
    from scenes.build import TILE, _slab, _tiles

    lawn = _slab(24, 24, 0.01)
    tiles = _tiles(lawn)
    assert len(tiles) == (24 / TILE) ** 2
    assert max(np.ptp(t.vertices[:, :2], axis=0).max() for t in tiles) <= TILE + 1.0, "pieces stay near TILE"
    pieces = np.concatenate([t.triangles for t in tiles])
    assert len(pieces) == len(lawn.triangles)
    rows = lambda tris: np.unique(np.round(tris.reshape(len(tris), -1), 5), axis=0)  # sorted, one per triangle
    assert np.array_equal(rows(pieces), rows(lawn.triangles))
    assert len(_tiles(_slab(0.62, 0.42, 0.01))) == 1, "a small surface stays whole"


def test_a_texture_image_goes_in_bottom_row_first_in_pandas_bgr():
    from scenes.panda_textures import make_texture, set_texture_image

    rgb = np.random.default_rng(0).integers(0, 256, (8, 16, 3), np.uint8)
    tex = make_texture(np.zeros_like(rgb))
    set_texture_image(tex, rgb)
    back = np.frombuffer(tex.get_ram_image_as("RGB"), np.uint8).reshape(8, 16, 3)
    assert np.array_equal(back[::-1], rgb)


def test_the_sky_draws_after_the_opaque_room_and_before_blended_things_with_the_same_pixels(head):
    from panda3d.core import CullBinManager

    from scenes.bins import SKY as SKY_BIN

    r, sc, img = render_scene("garden", head, size=(320, 180))
    bins = CullBinManager.get_global_ptr()
    sort = {name: bins.get_bin_sort(bins.find_bin(name)) for name in ("opaque", SKY_BIN, "transparent")}
    assert sort["opaque"] < sort[SKY_BIN] < sort["transparent"]
    sky = sc.room.root.find("**/sky")
    assert sky.get_bin_name() == SKY_BIN
    sky.set_bin("background", 0)  # the old order: a full-screen sky first, the room painted over it
    assert np.array_equal(r.frame(), img)
    sky_px = (np.abs(img.astype(int) - np.array([200, 140, 110])).sum(-1) < 120).sum()
    assert sky_px > 0.05 * img.shape[0] * img.shape[1], "the sky shows above the hedge"
    r.close()


def test_the_room_draws_nearest_first_before_the_bust_and_looks_the_same(head):
    from panda3d.core import CullBinAttrib, CullBinManager

    from scenes.bins import ROOM as ROOM_BIN

    def bin_of(n) -> str:  # the bin the node draws in (set on it or above it)
        attrib = n.get_net_state().get_attrib(CullBinAttrib)
        return attrib.get_bin_name() if attrib else ""

    r, sc, img = render_scene("garden", head, size=(320, 180))
    bins = CullBinManager.get_global_ptr()
    room_bin = bins.find_bin(ROOM_BIN)
    assert bins.get_bin_type(room_bin) == CullBinManager.BT_front_to_back
    assert bins.get_bin_sort(room_bin) < bins.get_bin_sort(bins.find_bin("opaque"))
    root = sc.room.root
    solid = [root.find(f"**/{name}") for name in ("plane-0", "box-2", "sphere-4", "candle-0/wax", "photo-0/frame")]
    assert all(not n.is_empty() and bin_of(n) == ROOM_BIN for n in solid)
    assert bin_of(root.find("**/candle-0/**/halo")) == "fixed", "blended things keep their bin"
    assert bin_of(sc.rig.head_np) == "" and bin_of(sc.rig.shell.node if sc.rig.shell else sc.rig.root) == "", \
        "the bust keeps Panda's own order"
    for n in [c for c in root.get_children() if c.get_bin_name() == ROOM_BIN]:
        n.clear_bin()  # the old order: everything solid in Panda's opaque bin
    old = r.frame()
    differ = (np.abs(old.astype(int) - img).max(axis=-1) > 0).sum()
    assert differ <= 1e-3 * img.shape[0] * img.shape[1], "only pixels where surfaces meet at equal depth"
    r.close()
