"""Registration of UV unwraps to a reference texture (generation.face.register)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from generation.face import register as reg
from generation.face.errors import GeometryError
from generation.gan.evaluate import masked_psnr

S = 128


@pytest.fixture(scope="module")
def texture():
    """A real face picture as a stand-in texture [S,S,3] uint8 (edges, skin, shading)."""
    from skimage import data

    return cv2.resize(data.astronaut()[30:230, 140:340], (S, S), interpolation=cv2.INTER_AREA)


def shifted(img: np.ndarray, dx: float, dy: float) -> np.ndarray:
    """img moved by (dx, dy) texels: content at x lands at x + d."""
    m = np.float32([[1, 0, dx], [0, 1, dy]])
    return cv2.warpAffine(img, m, (S, S), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def full_mask(margin: int = 8) -> np.ndarray:
    m = np.zeros((S, S), np.uint8)
    m[margin:-margin, margin:-margin] = 255
    return m


def test_a_shifted_unwrap_lands_back_on_the_reference(texture):
    frame, mask = shifted(texture, 1.6, -1.2), full_mask()
    r = reg.register(frame, mask, texture)
    inner = np.zeros((S, S), bool)
    inner[24:-24, 24:-24] = True
    assert np.allclose(np.median(r.flow[inner], 0), (1.6, -1.2), atol=0.35)
    before = masked_psnr(frame, texture, inner)
    after = masked_psnr(r.uv, texture, inner & (r.mask > 0))
    assert after > before + 5  # the texel-and-a-half offset was most of the error


def test_the_reference_itself_does_not_move(texture):
    r = reg.register(texture, full_mask(), texture)
    assert np.abs(r.flow).max() < 0.3
    inner = r.mask > 0
    assert masked_psnr(r.uv, texture, inner) > 35


def test_the_displacement_is_bounded(texture):
    r = reg.register(shifted(texture, 20, 0), full_mask(), texture)
    assert np.linalg.norm(r.flow, axis=2).max() <= reg.MAX_SHIFT * S + 1e-3


def test_unseen_texels_stay_unseen_and_black(texture):
    mask = full_mask()
    mask[:, : S // 2] = 0  # the frame saw only the right half
    frame = shifted(texture, 1.0, 0.0)
    frame[mask == 0] = 0
    r = reg.register(frame, mask, texture)
    assert not (r.mask[:, : S // 2 - 4] > 0).any()
    assert np.all(r.uv[r.mask == 0] == 0)
    assert (r.mask > 0).sum() > 0.8 * (mask > 0).sum()  # losing only a border of texels


def test_register_all_makes_a_sharper_reference_than_the_plain_mean(texture):
    rng = np.random.default_rng(0)
    shifts = rng.uniform(-2, 2, (8, 2))
    uv = np.stack([shifted(texture, dx, dy) for dx, dy in shifts])
    mask = np.repeat(full_mask()[None], len(uv), 0)
    plain = reg.reference_texture(uv, mask)
    out_uv, out_mask, ref = reg.register_all(uv, mask)
    inner = np.zeros((S, S), bool)
    inner[24:-24, 24:-24] = True

    def sharpness(x):
        return float(np.abs(cv2.Laplacian(cv2.cvtColor(x, cv2.COLOR_RGB2GRAY), cv2.CV_32F))[inner].mean())

    assert sharpness(ref) > 1.3 * sharpness(plain)
    spread_before = np.mean([masked_psnr(a, b, inner) for a, b in zip(uv[:-1], uv[1:])])
    spread_after = np.mean([masked_psnr(a, b, inner & (ma > 0) & (mb > 0))
                            for a, b, ma, mb in zip(out_uv[:-1], out_uv[1:], out_mask[:-1], out_mask[1:])])
    assert spread_after > spread_before + 4  # the samples now agree with each other


def test_bad_shapes_are_a_geometry_error(texture):
    with pytest.raises(GeometryError):
        reg.register(texture, full_mask()[:-1], texture)
    with pytest.raises(GeometryError):
        reg.register(texture, full_mask(), texture[:-1])
