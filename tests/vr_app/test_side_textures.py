"""The view-dependent face texture: seen from the front the bust shows its sharp frontal texture
exactly; seen turned, the side texture of the side the view sees blends in (her turned pictures'
texels there), continuously; a bust without side textures (a single photo, an older stored bust)
looks the same from every angle."""

from __future__ import annotations

import io
import itertools

import numpy as np
import pytest

from assets.artifacts import BustModel


def _bust(size: int = 64, sides: bool = True) -> BustModel:
    rng = np.random.default_rng(1)
    face = rng.integers(60, 200, (size, size, 3)).astype(np.uint8)
    side = np.stack([np.clip(face.astype(int) - 40, 0, 255), np.clip(face.astype(int) + 40, 0, 255)]).astype(np.uint8)
    detail = np.full((size, size), 255, np.uint8)
    return BustModel(vertices=np.zeros((3, 3), np.float32), faces=np.array([[0, 1, 2]], np.int32),
                     uvs=np.zeros((3, 2), np.float32), follow=np.zeros(3, np.float32),
                     texture=np.zeros((8, 8, 4), np.uint8), face_texture=face, face_detail=detail,
                     backdrop=np.zeros((8, 8, 3), np.uint8), side_textures=side if sides else None)


def _stream(bust: BustModel, gain=None):
    from scenes.panda_textures import TextureStream
    from vr_app.bust_shell import DetailedStream

    return DetailedStream(TextureStream(bust.face_texture, 1.0), bust, gain)


def test_seen_from_the_front_the_texture_is_the_frontal_one_exactly():
    from vr_app.bust_shell import SIDE_FROM

    bust = _bust()
    stream = _stream(bust)
    for angle in (0.0, 5.0, -SIDE_FROM, SIDE_FROM):
        stream.set_view(angle)
        assert np.array_equal(stream.at(0.0), bust.face_texture), angle


@pytest.mark.parametrize("gain", [None, 1.2])
def test_past_the_blend_angle_each_side_shows_its_own_texture_only(gain):
    from vr_app.bust_shell import SIDE_FULL

    bust = _bust()
    s = bust.face_texture.shape[0]
    g = None if gain is None else np.full((s, s), gain, np.float32)
    scale = 1.0 if gain is None else gain
    stream = _stream(bust, g)
    for angle, side in ((SIDE_FULL + 1, 1), (-SIDE_FULL - 1, 0), (60.0, 1), (-90.0, 0)):
        assert stream.set_view(angle) or angle in (60.0, -90.0)  # the same side in full: nothing new
        shown = stream.at(0.0).astype(float)
        expected = np.clip(bust.side_textures[side] * scale, 0, 255)
        assert np.abs(shown - expected).max() <= 1.0, (angle, side)
        other = np.clip(bust.side_textures[1 - side] * scale, 0, 255)
        assert np.abs(shown - other).min() >= 30  # the other side's texture is nowhere in it


def test_the_blend_is_continuous_and_rises_with_the_angle():
    from vr_app.bust_shell import SIDE_FROM, SIDE_FULL, SIDE_STEPS, side_weights

    bust = _bust()
    stream = _stream(bust)
    angles = np.arange(-45.0, 45.01, 0.25)
    shown = []
    for a in angles:
        stream.set_view(float(a))
        shown.append(stream.at(0.0).astype(float))
    steps = np.array([np.abs(b - a).max() for a, b in itertools.pairwise(shown)])
    # the sides differ from the front by 40 levels; a quarter degree moves the blend by at most
    # 1.5 / (SIDE_FULL - SIDE_FROM) / 4 plus one rounding step of 1 / SIDE_STEPS
    assert steps.max() <= 40 * (1.5 / (SIDE_FULL - SIDE_FROM) / 4 + 1 / SIDE_STEPS) + 1
    left = [side_weights(float(a))[1] for a in angles]
    right = [side_weights(float(a))[0] for a in angles]
    assert np.all(np.diff(left) >= 0) and np.all(np.diff(right) <= 0)
    near = side_weights(SIDE_FROM + 0.5)
    assert near[0] == 0.0 and 0.0 <= near[1] < 0.05  # it starts gently, on one side only
    assert side_weights(-(SIDE_FROM + SIDE_FULL) / 2) == (0.5, 0.0)


def test_a_single_photos_refilled_sides_come_in_as_soon_as_the_shells():
    """A bust from one photo (meta side_views 0) has sides that differ from its front only where the
    photo saw edge-on: they blend in from SHELL_SIDE_FROM to SHELL_SIDE_FULL, and still not at all
    at yaw 0; a bust with turned pictures keeps SIDE_FROM."""
    import dataclasses

    from vr_app.bust_shell import SHELL_SIDE_FROM, SHELL_SIDE_FULL, SIDE_FROM

    turned = _bust()
    single = dataclasses.replace(turned, meta={"side_views": 0})
    between = (SHELL_SIDE_FULL + SHELL_SIDE_FROM) / 2
    assert between < SIDE_FROM
    for bust, moves in ((single, True), (turned, False)):
        stream = _stream(bust)
        stream.set_view(0.0)
        assert np.array_equal(stream.at(0.0), bust.face_texture)
        stream.set_view(between)
        changed = np.abs(stream.at(0.0).astype(int) - bust.face_texture).max()
        assert (changed >= 15) == moves, changed  # half of the side's 40 levels, or none
    stream = _stream(single)
    stream.set_view(-SHELL_SIDE_FULL - 1)
    assert np.abs(stream.at(0.0).astype(float) - single.side_textures[0]).max() <= 1.0


def test_a_bust_without_side_textures_looks_the_same_from_every_angle():
    bust = _bust(sides=False)
    stream = _stream(bust)
    front = stream.at(0.0).copy()
    for angle in (-90.0, -35.0, 20.0, 35.0):
        assert not stream.set_view(angle)
        assert np.array_equal(stream.at(0.0), front)


def test_an_older_stored_bust_without_side_textures_loads_and_new_ones_round_trip():
    from assets.artifacts import _pack

    old = _bust(sides=False)
    arrays = {k: getattr(old, k) for k in ("vertices", "faces", "uvs", "follow", "texture", "face_texture",
                                            "face_detail", "backdrop")}
    stored = _pack(BustModel.FORMAT, BustModel.VERSION, {"meta": {"source": "photo"}}, arrays, coded=False)
    loaded = BustModel.from_bytes(stored)  # written before side textures existed
    assert loaded.side_textures is None and loaded.meta == {"source": "photo"}
    assert np.array_equal(loaded.face_texture, old.face_texture)
    assert "side_textures" not in np.load(io.BytesIO(old.to_bytes())).files
    new = _bust()
    again = BustModel.from_bytes(new.to_bytes())
    assert np.array_equal(again.side_textures, new.side_textures)
    with pytest.raises(AssertionError):
        BustModel(**{**{k: getattr(new, k) for k in arrays}, "side_textures": new.side_textures[:1]})


def test_a_viewer_hovering_on_a_blend_step_does_not_recompose_every_frame():
    from vr_app.bust_shell import SIDE_HOLD, side_weights

    stream = _stream(_bust())
    angles = np.arange(16.0, 29.0, 0.01)
    edge = float(angles[np.nonzero(np.diff([side_weights(a)[1] for a in angles]))[0][0]])  # a step's edge
    stream.set_view(edge - 1.0)
    assert stream.set_view(edge + 0.5)  # a clear move shows the next step
    changes = [stream.set_view(edge + d) for d in np.tile([-0.05, 0.05], 10)]  # head tremor around the edge
    assert not any(changes)
    assert stream.set_view(edge - SIDE_HOLD - 0.5)  # a clear move back does
