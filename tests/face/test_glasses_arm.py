"""The glasses' arm along the temple on a single photo's side textures (Grace Hopper's portrait; the astronaut
wears none)."""

from __future__ import annotations

import numpy as np
import pytest

SIZE = 256


def _sides_and_arms(img, lm, head, monkeypatch):
    """face_textures' side textures for one photo, and what `glasses_arm` answered for each side."""
    import generation.face.glasses_arm as G
    from generation.face.bust import face_textures

    arms = []
    real = G.glasses_arm

    def spy(*args, **kw):
        arms.append(real(*args, **kw))
        return arms[-1]

    monkeypatch.setattr(G, "glasses_arm", spy)
    out = face_textures([(img, lm, 1.0)], head, SIZE)
    return out, arms


@pytest.fixture(scope="module")
def grace_sides(faces, grace_head):
    with pytest.MonkeyPatch.context() as mp:
        return _sides_and_arms(*faces["grace"], grace_head, mp)


def _places(head):
    """([S,S] texel heights over the eyes, [S,S] x, [S,S] z, [S,S] bool used) at SIZE."""
    from generation.face.fill import eye_height, texel_positions
    from generation.face.unwrap import uv_raster

    fid, bary = uv_raster(head, SIZE)
    xyz = texel_positions(head, fid, bary)
    return xyz[..., 1] - eye_height(head), xyz[..., 0], xyz[..., 2], fid >= 0


def test_her_glasses_arm_runs_from_the_frames_end_to_the_ear_on_each_side(grace_sides, grace_head):
    """Her frame ends dark at both temples (0.4-1 cm above the eyes); each side texture carries a dark band from
    there back over more than 2 cm towards the ear, at about the frame's height, with her skin 4-6 mm above and
    below it; the front texture (which the room shows facing her) has none."""
    out, arms = grace_sides
    assert len(arms) == 2 and all(a is not None for a in arms)
    lum = np.array([0.299, 0.587, 0.114])
    y, x, z, used = _places(grace_head)
    for side, sign, arm in zip(out.sides, (-1, 1), arms):
        band = used & (sign * x > 0.06) & (z < -0.03) & (z > -0.055)
        on = band & (arm[0] > 0.9)
        assert on.sum() > 20 and np.ptp(z[on]) > 0.02
        assert -0.005 < np.median(y[on]) < 0.015
        off = np.abs(y - np.median(y[on]))
        skin = band & (off > 0.004) & (off < 0.006)
        assert skin.sum() > 20 and arm[0][skin].max() < 0.05
        arm_luma, skin_luma = (side[on] @ lum).mean(), (side[skin] @ lum).mean()
        front_luma = (out.texture[on] @ lum).mean()
        assert arm_luma < 0.5 * skin_luma  # measured 0.3: her frame's dark
        assert arm_luma < 0.6 * front_luma  # the front has no arm drawn


def test_without_glasses_no_arm_is_drawn(faces, monkeypatch):
    """The astronaut wears no glasses: no frame ends at her temples, and her side textures get no arm."""
    from generation.face.head import fit_head

    img, lm = faces["astronaut"]
    head = fit_head(lm[None], images=[img])
    _, arms = _sides_and_arms(img, lm, head, monkeypatch)
    assert arms == [None, None]


def test_drawn_lays_the_arms_colour_over_its_cover_and_its_shadow_below():
    from generation.face.glasses_arm import drawn

    side = np.full((4, 4, 3), 200, np.uint8)
    cover = np.zeros((4, 4), np.float32)
    shade = np.zeros((4, 4), np.float32)
    cover[1], shade[2] = 1.0, 0.25
    out = drawn(side, (cover, shade, np.array([20.0, 10.0, 5.0])))
    assert out.dtype == np.uint8
    assert (out[1] == (20, 10, 5)).all() and (out[2] == 150).all() and (out[[0, 3]] == 200).all()
    assert drawn(side, None) is side
