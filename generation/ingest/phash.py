"""A 64-bit perceptual hash (DCT of a 32x32 grey thumbnail), to spot re-saved or resized
copies of a photo that a content hash misses."""

from __future__ import annotations

import numpy as np

NEAR_DUPLICATE_BITS = 6  # Hamming distance at or below which two photos count as the same picture


def phash(rgb: np.ndarray) -> int:
    from PIL import Image
    from scipy.fft import dctn

    assert rgb.ndim == 3 and rgb.shape[2] == 3, rgb.shape
    grey = np.asarray(Image.fromarray(rgb).convert("L").resize((32, 32), Image.Resampling.LANCZOS), dtype=np.float64)
    low = dctn(grey, norm="ortho")[:8, :8].reshape(-1)[1:]  # 63 low frequencies, DC dropped
    bits = np.concatenate([[0], low > np.median(low)])
    return int("".join("1" if b else "0" for b in bits), 2)


def distance(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def find_near_duplicate(h: int, known: dict[str, int]) -> str | None:
    """The key of a known hash within NEAR_DUPLICATE_BITS of `h`, or None."""
    best = min(known.items(), key=lambda kv: distance(h, kv[1]), default=None)
    if best is not None and distance(h, best[1]) <= NEAR_DUPLICATE_BITS:
        return best[0]
    return None
