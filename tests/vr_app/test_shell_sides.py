"""The shell's view-dependent front: from the photo's direction its own texture, seen turned the refilled
side the view sees (BustModel.shell_sides), an older bust without sides the same from every angle."""

from __future__ import annotations

import io

import numpy as np
import pytest

from assets.artifacts import BustModel


def _bust(sides: bool = True, h: int = 16, w: int = 32) -> BustModel:
    rng = np.random.default_rng(2)
    texture = rng.integers(60, 200, (h, w, 4)).astype(np.uint8)
    front = texture[:, : w // 2, :3].astype(int)
    shell_sides = np.stack([front - 50, front + 50]).clip(0, 255).astype(np.uint8)
    vertices = np.array([[-0.1, -0.1, 0], [0.1, -0.1, 0], [0, 0.1, 0]], np.float32)
    face = np.zeros((8, 8, 3), np.uint8)
    return BustModel(vertices=vertices, faces=np.array([[0, 1, 2]], np.int32), uvs=np.zeros((3, 2), np.float32),
                     follow=np.ones(3, np.float32), texture=texture, face_texture=face, face_detail=face[..., 0],
                     backdrop=face, meta={"framed": True}, shell_sides=shell_sides if sides else None)


def _seen(shell) -> np.ndarray:
    """The shell's texture as its current view sees it (the blend the rig shows, before delighting)."""
    from vr_app.bust_shell import blend_ends

    return blend_ends(shell.side_ends(), shell.side_weights)


def _shell(bust: BustModel):
    from panda3d.core import NodePath

    from vr_app.bust_shell import ShellNode

    return ShellNode(bust, NodePath("root"), np.zeros(3, np.float32))


def test_from_the_front_the_shell_shows_its_photos_texture_exactly():
    from vr_app.bust_shell import SHELL_SIDE_FROM

    bust = _bust()
    shell = _shell(bust)
    for angle in (0.0, 2.0, -SHELL_SIDE_FROM, SHELL_SIDE_FROM):
        shell.set_view(angle)
        assert np.array_equal(_seen(shell), bust.texture), angle


def test_seen_turned_the_shell_shows_the_side_the_view_sees_and_keeps_its_back_and_alpha():
    from vr_app.bust_shell import SHELL_SIDE_FULL

    bust = _bust()
    shell = _shell(bust)
    w = bust.texture.shape[1] // 2
    for angle, side in ((SHELL_SIDE_FULL, 1), (-SHELL_SIDE_FULL - 10, 0), (35.0, 1)):
        shell.set_view(angle)
        seen = _seen(shell)
        assert np.array_equal(seen[:, :w, :3], bust.shell_sides[side]), (angle, side)
        assert np.array_equal(seen[:, w:], bust.texture[:, w:]) and np.array_equal(seen[..., 3], bust.texture[..., 3])
    assert shell.set_view(0.0) and np.array_equal(_seen(shell), bust.texture)


def test_the_shells_blend_rises_with_the_angle_between_its_ends():
    from vr_app.bust_shell import SHELL_SIDE_FROM, SHELL_SIDE_FULL

    bust = _bust()
    shell = _shell(bust)
    w = bust.texture.shape[1] // 2
    moved = []
    for angle in np.linspace(SHELL_SIDE_FROM, SHELL_SIDE_FULL, 7):
        shell.set_view(float(angle))
        moved.append(np.abs(_seen(shell)[:, :w, :3].astype(int) - bust.texture[:, :w, :3]).mean())
    assert moved[0] == 0 and np.all(np.diff(moved) > 0) and moved[-1] == pytest.approx(50, abs=1)


def test_a_bust_without_shell_sides_looks_the_same_from_every_angle_and_older_ones_load():
    from assets.artifacts import _pack

    bust = _bust(sides=False)
    shell = _shell(bust)
    for angle in (-90.0, -35.0, 20.0, 35.0):
        assert not shell.set_view(angle)
        assert np.array_equal(_seen(shell), bust.texture)
    arrays = {k: getattr(bust, k) for k in ("vertices", "faces", "uvs", "follow", "texture", "face_texture",
                                             "face_detail", "backdrop")}
    stored = _pack(BustModel.FORMAT, BustModel.VERSION, {"meta": {}}, arrays, coded=False)
    assert BustModel.from_bytes(stored).shell_sides is None  # written before shell sides existed
    assert "shell_sides" not in np.load(io.BytesIO(bust.to_bytes())).files
    new = _bust()
    assert np.array_equal(BustModel.from_bytes(new.to_bytes()).shell_sides, new.shell_sides)
    with pytest.raises(AssertionError):
        BustModel(**{**arrays, "shell_sides": new.shell_sides[:, :, :3]})


def test_a_side_that_hides_texels_fades_them_out_turned_and_its_faces_are_blended():
    """Sides with alpha (the far ear's strip hidden under the mirrored ear): from the front the photo's texture as
    it is; turned to that side its alpha goes to the side's, so the faces over hidden texels are drawn in the
    blended pass (the opaque pass's alpha test would drop them at the first step of the turn); the bust stores
    and loads its four-channel sides."""
    from vr_app.bust_shell import SHELL_SIDE_FROM, SHELL_SIDE_FULL

    bust = _bust(h=64, w=128)
    h, w = bust.texture.shape[0], bust.texture.shape[1] // 2
    bust.texture[..., 3] = 255
    alpha = np.full((2, h, w), 255, np.uint8)
    alpha[1, :, :4] = 0  # her left side hides its first columns
    bust.shell_sides = np.concatenate([bust.shell_sides, alpha[..., None]], -1)
    bust.vertices = np.array([[-0.1, -0.1, 0], [0.1, -0.1, 0], [0, 0.1, 0], [0.2, 0.1, 0]], np.float32)
    bust.faces = np.array([[0, 1, 2], [1, 3, 2]], np.int32)
    bust.uvs = np.array([[0.01, 0.3], [0.25, 0.3], [0.25, 0.6], [0.4, 0.6]], np.float32)  # face 0 on the hidden texels
    bust.follow = np.ones(4, np.float32)
    shell = _shell(bust)
    assert not shell.opaque[0] and shell.opaque[1]
    shell.set_view(0.0)
    assert np.array_equal(_seen(shell), bust.texture)
    shell.set_view(SHELL_SIDE_FULL)
    seen = _seen(shell)
    assert (seen[:, :4, 3] == 0).all() and (seen[:, 4:, 3] == 255).all() and np.array_equal(seen[:, :w, :3], bust.shell_sides[1, ..., :3])
    shell.set_view(-SHELL_SIDE_FULL)
    assert (_seen(shell)[..., 3] == 255).all()  # her right side hides nothing
    halfway = (SHELL_SIDE_FROM + SHELL_SIDE_FULL) / 2
    shell.set_view(halfway)
    assert 0 < int(_seen(shell)[0, 0, 3]) < 255
    assert np.array_equal(BustModel.from_bytes(bust.to_bytes()).shell_sides, bust.shell_sides)
