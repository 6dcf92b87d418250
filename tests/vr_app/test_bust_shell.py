"""The person's own hair and upper body in the room (BustModel shell), the detailed face texture
under the generator's frames, and the living-portrait presentation; rendered offscreen, software."""

from __future__ import annotations

import numpy as np
import pytest

from assets import expression


@pytest.fixture(scope="module")
def grace():
    """(photo, head, bust) for the bundled Grace Hopper portrait."""
    from PIL import Image

    from assets.default_subject import portrait_path
    from generation.face.bust import build_bust
    from generation.face.head import fit_head
    from generation.face.landmarks import LandmarkDetector

    img = np.asarray(Image.open(portrait_path()).convert("RGB"))
    with LandmarkDetector() as det:
        lm = det.detect(img)[0].landmarks
    head = fit_head(lm[None], images=[img])
    return img, head, build_bust(img, lm, head)


def test_bust_seen_from_the_photos_camera_matches_the_persons_outline(grace):
    """Hair, collar and shoulders follow the photo's person segment: silhouette IoU >= 0.90 (0.98
    measured), and the colours over the segment come back (masked PSNR >= 18 dB; 22.6 measured)."""
    from generation.face.segment import segment_person
    from vr_app.likeness import BustCamera, iou, masked_psnr_ssim

    img, head, bust = grace
    h, w = img.shape[:2]
    segment = segment_person(img) > 0.5
    cam = BustCamera(head, bust.face_texture, bust, size=(w, h))
    rgb, sil = cam.photo_view(np.asarray(bust.meta["photo_pose"]), (w, h))
    cam.close()
    assert iou(sil, segment) >= 0.90
    psnr, ssim = masked_psnr_ssim(rgb, img, segment)
    assert psnr >= 18.0 and ssim >= 0.6
    plain = BustCamera(head, bust.face_texture, None, size=(w, h))  # the generic neck and shoulders
    _, sil_plain = plain.photo_view(np.asarray(bust.meta["photo_pose"]), (w, h))
    plain.close()
    assert iou(sil_plain, segment) < iou(sil, segment) - 0.08


def test_hair_turns_with_the_head_and_shoulders_stay(grace):
    from panda3d.core import NodePath

    from vr_app.rig import HeadRig
    from scenes.panda_textures import TextureStream

    _, head, bust = grace
    rig = HeadRig(head, NodePath("render"), TextureStream(bust.face_texture, 1.0), bust=bust)
    assert rig.shell is not None and rig.bust is bust
    assert rig.root.find("**/chest").is_empty()  # no generic cylinder body
    # Her photo ends at the chest: the bust stands on a socle reaching a usual bust's cut (metres).
    lo, hi = rig.shell.socle.get_tight_bounds(rig.root)
    assert lo.z == pytest.approx(-0.48, abs=0.01) and hi.z > lo.z + 0.03
    rest = rig.shell.mesh.data[:, 0:3].copy()
    rig.set_pose(np.array([25, 0, 0, 0, 0, 0], np.float32))
    moved = np.linalg.norm(rig.shell.mesh.data[:, 0:3] - rest, axis=1)
    follow = bust.follow[rig.shell.order]  # the shell's vertices in its own order
    hair, body = follow > 0.99, follow == 0
    assert np.median(moved[hair]) > 0.02  # the hair/cap swings with a 25 degree turn (metres)
    assert moved[body].max() < 1e-6  # the shoulders do not move
    rig.set_pose(np.zeros(6, np.float32))
    assert np.abs(rig.shell.mesh.data[:, 0:3] - rest).max() < 1e-5


def test_detailed_stream_keeps_the_generators_colour_and_fills_what_it_never_saw(grace):
    from vr_app.bust_shell import DetailedStream
    from scenes.panda_textures import TextureStream

    bust = grace[2]
    red = np.zeros((4, 256, 256, 3), np.uint8)
    red[..., 0] = 200  # generator frames: flat red, black where the generator knows nothing
    red[:, 200:] = 0
    out = DetailedStream(TextureStream(red, 10.0), bust).at(0.15)
    assert out.shape == (512, 512, 3)
    seen = bust.face_detail > 0
    core = seen.copy()
    core[380:] = False  # rows fed by the red part of the frames (200/256 of the height, minus a margin)
    core &= np.pad(seen, 8)[16:, 8:-8][:512, :512] & np.pad(seen, 8)[:512, 8:-8]  # away from the seen edge
    assert abs(float(out[core][:, 0].mean()) - 200) < 25  # the generator's colour, plus fine detail
    from scipy import ndimage

    unseen = ~ndimage.binary_dilation(seen, iterations=16)  # 16 texels away from anything seen (4 sigma of feather)
    assert unseen.mean() > 0.1
    assert np.abs(out[unseen].astype(int) - bust.face_texture[unseen]).max() <= 1  # the completed texture
    assert not np.all(out == 0, axis=-1).any()


def test_living_portrait_scene_builds_and_shows_the_face(grace):
    import dataclasses

    from scenes.spec import load
    from vr_app.offscreen import OffscreenRenderer
    from vr_app.scene import MemorialScene
    from scenes.panda_textures import TextureStream

    from .heads import make_track

    _, head, bust = grace
    spec = load("portrait_room")
    assert spec.presentation == "portrait"
    r = OffscreenRenderer((320, 180))
    try:
        sides = np.stack([bust.face_texture] * 2)  # as a subject with turned pictures has
        sc = MemorialScene(r.stage, spec, head, TextureStream(bust.face_texture, 1.0), make_track(0.5), intro_s=0,
                           bust=dataclasses.replace(bust, side_textures=sides))
        assert sc.portrait is not None
        assert sc.rig.stream.sides is None  # a picture: seen from aside it stays its photo
        assert sc.rig.root.get_parent() == sc.portrait.photo_space
        assert sc.rig.shell.socle is None  # a framed picture stands on its easel, not on a socle
        assert not sc.rig.delit  # the face keeps its photo's light, as the picture around it does
        sc.update(0.2)
        img = r.frame()
        x0, y0, x1, y1 = sc.face_box()
        assert x1 - x0 > 10 and y1 - y0 > 10
        # The face box lies inside the picture frame, which is centred where the bust would stand.
        assert 100 < (x0 + x1) / 2 < 220
        face = img[y0:y1, x0:x1].reshape(-1, 3).astype(int)
        assert face.std() > 15  # a textured face, not a flat patch
        ex0, ex1, ez0, ez1 = sc.portrait.extent
        assert ex1 - ex0 > 0.2 and ez1 - ez0 > 0.2  # life-size picture, metres
        assert sc.mouth_relative_to_camera()[1] > 0.5  # the voice still comes from the mouth, in front
    finally:
        r.close()


def test_portrait_room_without_a_bust_falls_back_to_the_free_standing_head():
    from scenes.spec import load
    from vr_app.offscreen import OffscreenRenderer
    from vr_app.scene import MemorialScene
    from scenes.panda_textures import TextureStream

    from .heads import face_texture, make_head

    r = OffscreenRenderer((64, 64))
    try:
        sc = MemorialScene(r.stage, load("portrait_room"), make_head(3), TextureStream(face_texture(), 1.0), intro_s=0)
        assert sc.portrait is None and sc.rig.shell is None
    finally:
        r.close()


def test_presentation_is_validated():
    from assets.errors import UsageError
    from scenes.spec import parse

    base = {"camera": {"pos": [0, -1, 1], "look_at": [0, 0, 1]}, "bust": {"pos": [0, 0, 1]}}
    assert parse(base, "x").presentation == "bust"
    base["bust"]["presentation"] = "hologram"
    with pytest.raises(UsageError, match="presentation must be one of bust, portrait"):
        parse(base, "x")


def test_code_changes_still_deform_the_head_under_the_shell(grace):
    from panda3d.core import NodePath

    from vr_app.rig import HeadRig
    from scenes.panda_textures import TextureStream

    _, head, bust = grace
    rig = HeadRig(head, NodePath("render"), TextureStream(bust.face_texture, 1.0), bust=bust)
    before = rig.mesh.data[:, 0:3].copy()
    code = expression.neutral()
    code[expression.index("jaw_open")] = 1.0
    rig.set_code(code)
    assert np.abs(rig.mesh.data[:, 0:3] - before).max() > 0.005


def test_the_lit_bust_shows_its_face_and_shell_delit_and_unlit_views_as_photographed(grace):
    """Rooms light the bust, so the rig shows the face and shell with the capture's light divided out
    (generation.face.delight); an unlit view (the likeness benchmark's photo comparisons) gets the
    textures back as they were photographed."""
    from panda3d.core import NodePath

    from scenes.panda_textures import TextureStream
    from vr_app.rig import HeadRig

    _, head, bust = grace
    rig = HeadRig(head, NodePath("render"), TextureStream(bust.face_texture, 1.0), bust=bust)
    assert rig.delit and rig.gain is not None
    lit = rig.stream.at(0.0).astype(float)
    expected = np.clip(bust.face_texture * rig.gain[..., None], 0, 255)
    assert np.abs(lit - expected).max() <= 1.0
    assert np.abs(rig.gain - 1).max() > 0.02  # her photo's light is not nothing
    assert rig.shell.node.get_texture().get_name() == "bust-shell-delit"
    rig.set_delighting(False)
    assert np.abs(rig.stream.at(0.0).astype(int) - bust.face_texture).max() <= 1
    assert rig.shell.node.get_texture().get_name() == "bust-shell"


def test_the_rig_shows_the_side_of_the_face_its_camera_sees(grace):
    """Given side textures (a single photo's are its refilled front), the rig shows the frontal texture to a camera
    in front, the subject's left side texture to a camera on her left (+x), and her right one when
    the head itself turns to her left in front of the camera (the turntable's +35)."""
    import dataclasses

    from panda3d.core import NodePath

    from scenes.panda_textures import TextureStream
    from vr_app.rig import HeadRig

    _, head, bust = grace
    assert bust.side_textures is not None and bust.meta["side_views"] == 0
    tex = bust.face_texture
    sides = np.stack([np.clip(tex.astype(int) - 40, 0, 255), np.clip(tex.astype(int) + 40, 0, 255)]).astype(np.uint8)
    render = NodePath("render")
    rig = HeadRig(head, render, TextureStream(tex, 1.0), bust=dataclasses.replace(bust, side_textures=sides), delit=False)
    camera = render.attach_new_node("camera")

    def uploaded() -> np.ndarray:
        img = np.frombuffer(rig.texture.get_ram_image_as("RGB"), np.uint8)
        return img.reshape(tex.shape)[::-1].astype(int)

    camera.set_pos(0, -0.75, 0)  # Panda's -y is out of the face
    rig.set_viewer(camera)
    rig.set_texture_time(0.0)
    assert abs(rig.view_angle) < 5 and np.array_equal(uploaded(), tex)
    a = np.radians(35)
    camera.set_pos(0.75 * np.sin(a), -0.75 * np.cos(a), 0)  # on her left
    rig.set_viewer(camera)
    rig.set_texture_time(0.0)
    assert rig.view_angle == pytest.approx(35, abs=5)
    assert np.abs(uploaded() - sides[1]).max() <= 1
    camera.set_pos(0, -0.75, 0)
    rig.root.set_h(35)  # she turns to her left: the camera sees her right side
    rig.set_viewer(camera)
    rig.set_texture_time(0.0)
    assert rig.view_angle == pytest.approx(-35, abs=5)
    assert np.abs(uploaded() - sides[0]).max() <= 1


def test_the_rig_shows_the_shells_refilled_side_only_to_a_view_that_sees_it_turned(grace):
    """From the front the shell shows its photo's texture exactly (what the photo saw edge-on is right
    from there); seen from her left it shows its refilled left side (her ear and jaw's stretched texels
    gone), delit alike; a single photo's bust carries such sides too (its own edge-on texels)."""
    from panda3d.core import NodePath

    from scenes.panda_textures import TextureStream
    from vr_app.bust_shell import SHELL_SIDE_FULL, pow2
    from vr_app.rig import HeadRig

    _, head, bust = grace
    assert bust.shell_sides is not None
    w = bust.texture.shape[1] // 2
    changed = np.abs(bust.shell_sides.astype(int) - bust.texture[None, :, :w, :3]).max(-1) > 30  # [2,H,W/2]
    assert changed[0].sum() > 500 and changed[1].sum() > 500  # each side refills texels of its own

    render = NodePath("render")
    rig = HeadRig(head, render, TextureStream(bust.face_texture, 1.0), bust=bust, delit=False)
    camera = render.attach_new_node("camera")

    def shown() -> np.ndarray:
        tex = rig.shell.node.get_texture()
        img = np.frombuffer(tex.get_ram_image_as("RGBA"), np.uint8).reshape(tex.get_y_size(), tex.get_x_size(), 4)
        return img[::-1].astype(int)

    camera.set_pos(0, -0.75, 0)
    rig.set_viewer(camera)
    assert np.array_equal(shown(), pow2(bust.texture))
    a = np.radians(SHELL_SIDE_FULL + 5)
    camera.set_pos(0.75 * np.sin(a), -0.75 * np.cos(a), 0)  # on her left
    rig.set_viewer(camera)
    expected = bust.texture.copy()
    expected[:, :w, :3] = bust.shell_sides[1]
    expected = pow2(expected).astype(int)  # (resized to power-of-two sides, as every shell texture)
    assert np.abs(shown() - expected).max() <= 1
    rig.set_delighting(True)  # delit: the same side, with the capture's light taken out
    delit = shown()
    assert np.abs(delit[..., 3] - expected[..., 3]).max() == 0
    camera.set_pos(0, -0.75, 0)
    rig.set_viewer(camera)
    assert np.abs(shown()[..., :3] - delit[..., :3]).max() > 30  # back to the photo's texture, delit


def test_the_eyes_are_delit_with_the_face_around_them_the_balls_for_their_own_surface(grace, monkeypatch):
    """The eyeballs, their lid bands and socket cards are cut from the bust's face texture. In a lit room
    the socket cards (and the bands' lid skin) are cut from the delit face, as the lids around them are
    shown; the balls, and the bands where they lie over the balls, are delit for the ball's own normals:
    the face's gain across the opening is that of the skin over the eye, facing the camera, while the
    white turns away towards the corners, where the capture lit it less and the room shades it again (as
    skin, the whites were darkened twice). Unlit views get the photographed cut back. The capture's light
    here is a known one: a gain of 0.8 over the face, and a frontal light (shade 80 + 20 n_z, level 100)."""
    import dataclasses

    from panda3d.core import NodePath

    import vr_app.rig as rig_module
    from assets.mesh import inside_polygon
    from generation.face.delight import delight
    from scenes.panda_textures import TextureStream
    from vr_app.eyes import ball_normals, texel_xy
    from vr_app.rig import HeadRig

    _, head, bust = grace
    coeffs = np.zeros(9)
    coeffs[0], coeffs[3] = 80.0, 20.0
    known = dataclasses.replace(delight(bust.face_texture, bust.face_detail, head), coeffs=coeffs, level=100.0,
                                span=(0.0, 1000.0), gain=np.full(bust.face_texture.shape[:2], 0.8, np.float32))
    monkeypatch.setattr(rig_module, "delight", lambda *args: known)

    def image(node):
        tex = node.get_texture()
        return np.frombuffer(bytes(tex.get_ram_image_as("RGB")), np.uint8).astype(float).reshape(
            tex.get_y_size(), tex.get_x_size(), 3)[::-1]  # Panda's rows go up

    def images(rig):
        return {side: (image(rig.eyes[side].get_child(0)), image(rig.lid_bands[side]), image(rig.sockets[side]))
                for side in rig.eyes}

    rig = HeadRig(head, NodePath("render"), TextureStream(bust.face_texture, 1.0), bust=bust)
    photographed = images(HeadRig(head, NodePath("render"), TextureStream(bust.face_texture, 1.0), bust=bust,
                                  delit=False))
    assert len(photographed) == 2
    for side, (ball, band, card) in images(rig).items():
        eye, r, _, band_half, _ = rig._eye_cuts[side]
        p_ball, p_band, p_card = photographed[side]
        lit = p_card > 40  # away from the dark iris, where 8-bit rounding dominates the ratio
        assert lit.sum() > 100
        assert abs(float(np.median(card[lit] / p_card[lit])) - 0.8) < 0.02
        # the ball, in the opening: 1 / (0.8 + 0.2 n_z) of its photographed colours, n its own normal there
        outline = head.vertices[eye["ring"], :2] - eye["iris"][:2]
        size = ball.shape[0]
        seen = inside_polygon(texel_xy(r, size), outline).reshape(size, size)[..., None] * np.ones(3, bool)
        want = known.gain_at(ball_normals(r, r, size))[..., None] * np.ones(3)
        lit = (p_ball > 40) & (p_ball.max(-1, keepdims=True) * want < 245)
        assert (lit & seen).sum() > 100
        assert np.abs(np.median(ball[lit & seen] / p_ball[lit & seen] - want[lit & seen])) < 0.02
        corner = lit & seen & (want > 1.08)  # where the ball has turned well away
        assert corner.sum() > 20 and float(np.median(ball[corner] / p_ball[corner])) > 1.06
        # what the lids hid (the seen white's colours) keeps one gain, that of the white the photo saw
        hidden = ball[lit & ~seen] / p_ball[lit & ~seen]
        assert hidden.size > 100 and np.percentile(hidden, 90) - np.percentile(hidden, 10) < 0.03
        assert 1.0 < np.median(hidden) < float(np.percentile(want[lit & seen], 90))
        # the band: as the ball inside the opening, as the face outside it
        size = band.shape[0]
        inside = inside_polygon(texel_xy(band_half, size), outline).reshape(size, size)[..., None] * np.ones(3, bool)
        want = known.gain_at(ball_normals(r, band_half, size))[..., None] * np.ones(3)
        lit = (p_band > 40) & (p_band.max(-1, keepdims=True) * want < 245)
        assert abs(float(np.median(band[lit & ~inside] / p_band[lit & ~inside])) - 0.8) < 0.02
        assert np.abs(np.median(band[lit & inside] / p_band[lit & inside] - want[lit & inside])) < 0.02
    rig.set_delighting(False)
    for side, shown in images(rig).items():
        for back, was in zip(shown, photographed[side]):
            assert np.array_equal(back, was)


def _sheet_bust(n: int = 33, size: int = 256):
    """A flat 0.4 m square sheet facing the viewer, (n-1)^2 quads over the whole texture; texels fully
    opaque left of x=100, fading to empty over x=100..160 (the soft rim), empty beyond."""
    from assets.artifacts import BustModel

    u, v = np.meshgrid(np.linspace(0, 1, n, dtype=np.float32), np.linspace(0, 1, n, dtype=np.float32))
    uvs = np.c_[u.ravel(), v.ravel()]
    vertices = np.c_[uvs * 0.4 - 0.2, np.zeros(n * n, np.float32)].astype(np.float32)
    i = (np.arange(n - 1)[:, None] * n + np.arange(n - 1)[None]).ravel()
    faces = np.concatenate([np.c_[i, i + 1, i + n + 1], np.c_[i, i + n + 1, i + n]]).astype(np.int32)
    rng = np.random.default_rng(1)
    texture = np.empty((size, size, 4), np.uint8)
    texture[..., :3] = rng.integers(40, 220, (size, size, 3))
    texture[..., 3] = np.clip(255 * (160 - np.arange(size)) / 60, 0, 255).astype(np.uint8)[None]
    face = np.zeros((8, 8, 3), np.uint8)
    return BustModel(vertices=vertices, faces=faces, uvs=uvs, follow=np.ones(n * n, np.float32), texture=texture,
                     face_texture=face, face_detail=face[..., 0], backdrop=face, meta={"framed": True})


def test_opaque_faces_keep_clear_of_partial_alpha_at_coarser_mipmaps():
    from vr_app.bust_shell import opaque_faces

    bust = _sheet_bust()
    alpha = bust.texture[..., 3]
    x_max = (bust.uvs[bust.faces][..., 0].max(1)) * alpha.shape[1]  # each face's rightmost texel
    x_min = (bust.uvs[bust.faces][..., 0].min(1)) * alpha.shape[1]
    fine, coarse = opaque_faces(alpha, bust.uvs, bust.faces, 0), opaque_faces(alpha, bust.uvs, bust.faces, 4)
    assert fine[x_max < 98].all() and not fine[x_max > 101].any()  # one bilinear texel of margin
    # Level 4 reads whole 16-texel blocks plus one: opaque only up to x=80 (the block 96..112 holds 101).
    assert coarse[x_max < 81].all() and not coarse[x_max > 81].any() and fine[(x_max > 81) & (x_max < 99)].all()
    assert not fine[x_min > 160].any()  # empty faces are not opaque either


@pytest.mark.parametrize("backend", ["software", "gl"])
def test_shell_draws_the_second_pass_of_dual_transparency_over_the_rim_only(backend):
    """Geom 0 is M_dual's opaque pass over every face, geom 1 its blended pass over the faces that are
    not fully opaque; the picture is the one the whole shell in M_dual draws."""
    from panda3d.core import AlphaTestAttrib, DepthWriteAttrib, RenderState, TransparencyAttrib

    from vr_app.bust_shell import ShellNode
    from vr_app.errors import RenderError
    from vr_app.offscreen import OffscreenRenderer

    try:
        r = OffscreenRenderer((160, 120), backend=backend)
    except RenderError as exc:
        pytest.skip(f"no EGL here: {exc}")
    r.buffer.set_clear_color((0.2, 0.5, 0.3, 1))
    bust = _sheet_bust()
    root = r.stage.render.attach_new_node("root")
    root.set_pos(0, 0.6, 0)
    shell = ShellNode(bust, root, np.zeros(3, np.float32))
    node = shell.mesh.node
    assert node.get_num_geoms() == 2 and 0 < shell.opaque.sum() < len(bust.faces)
    drawn = [np.asarray(node.get_geom(g).get_primitive(0).get_vertex_list()).reshape(-1, 3) for g in range(2)]
    order = shell.order  # the shell's vertex i is the bust's order[i]
    assert np.array_equal(order[drawn[0]], bust.faces) and np.array_equal(order[drawn[1]], bust.faces[~shell.opaque])
    rim_vertices = len(np.unique(drawn[1]))
    assert drawn[1].min() == len(order) - rim_vertices, "the blended pass's vertices are the last ones, together"
    first, second = node.get_geom_state(0), node.get_geom_state(1)
    assert first.get_attrib(TransparencyAttrib).get_mode() == TransparencyAttrib.M_none
    assert first.get_attrib(AlphaTestAttrib).get_mode() == AlphaTestAttrib.M_greater_equal
    assert second.get_attrib(TransparencyAttrib).get_mode() == TransparencyAttrib.M_alpha
    assert second.get_attrib(DepthWriteAttrib).get_mode() == DepthWriteAttrib.M_off
    uv_x = bust.uvs[bust.faces][..., 0] * bust.texture.shape[1]
    assert not shell.opaque[uv_x.max(1) > 100].any()  # faces over the soft rim get the blended pass
    turn = np.eye(4, dtype=np.float32)
    turn[3, 2] = 0.01  # a centimetre up: both geoms must see the moved vertices
    shell.follow(turn)
    split = r.frame().astype(int)
    assert node.get_geom(1).get_vertex_data() == node.get_geom(0).get_vertex_data()
    node.remove_geom(1)
    node.set_geom_state(0, RenderState.make(TransparencyAttrib.make(TransparencyAttrib.M_dual)))  # Panda's own
    whole = r.frame().astype(int)
    r.close()
    assert (np.abs(split - (0.2 * 255, 0.5 * 255, 0.3 * 255)).max(-1) > 20).mean() > 0.1  # the sheet shows
    assert np.abs(split - whole).max() == 0
