"""The bust's face stream with the capture's light divided out: the bust's texture and the
generator's change get the same gain, so a generator frame is delit like the still it moves."""

from __future__ import annotations

import numpy as np

from assets.artifacts import BustModel


def _bust(size: int = 128) -> BustModel:
    rng = np.random.default_rng(0)
    face = rng.integers(60, 200, (size, size, 3)).astype(np.uint8)
    detail = np.zeros((size, size), np.uint8)
    detail[16:-16, 16:-16] = 255  # the photos saw the middle sharply
    return BustModel(vertices=np.zeros((3, 3), np.float32), faces=np.array([[0, 1, 2]], np.int32),
                     uvs=np.zeros((3, 2), np.float32), follow=np.zeros(3, np.float32),
                     texture=np.zeros((8, 8, 4), np.uint8), face_texture=face, face_detail=detail,
                     backdrop=np.zeros((8, 8, 3), np.uint8))


def test_base_and_generator_change_get_the_same_gain():
    from scenes.panda_textures import TextureStream
    from vr_app.bust_shell import DetailedStream

    bust = _bust()
    s = bust.face_texture.shape[0]
    gain = np.tile(np.linspace(0.8, 1.25, s, dtype=np.float32), (s, 1))  # a smooth left-right light
    moved = np.clip(bust.face_texture.astype(int) + 30, 0, 255).astype(np.uint8)  # the generator brightens
    frames = np.stack([bust.face_texture, moved])
    plain = DetailedStream(TextureStream(frames, 1.0), bust)
    delit = DetailedStream(TextureStream(frames, 1.0), bust, gain)
    core = np.zeros((s, s), bool)
    core[40:-40, 40:-40] = True  # the detail weight is one here (its blur does not reach)
    still = delit.at(0.0).astype(float)
    assert np.abs(still - np.clip(bust.face_texture * gain[..., None], 0, 255)).max() <= 1
    change = delit.at(1.0).astype(float) - still
    expected = (plain.at(1.0).astype(float) - plain.at(0.0)) * gain[..., None]
    assert np.abs(change - expected)[core].max() <= 2  # the same +30 change, scaled by the gain
    assert np.abs(plain.at(0.0).astype(int) - bust.face_texture).max() == 0  # no gain: unchanged
