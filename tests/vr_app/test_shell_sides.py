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
