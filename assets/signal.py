"""Sample-rate conversion shared by speech, provenance and the runtime's audio (one polyphase resampler)."""

from __future__ import annotations

from math import gcd

import numpy as np


def resample(x: np.ndarray, rate_in: int, rate_out: int, dtype=np.float32) -> np.ndarray:
    """Polyphase resampling along the first axis; returns `dtype` (float64 where a watermark needs it)."""
    x = np.asarray(x)
    if int(rate_in) == int(rate_out):
        return x.astype(dtype, copy=False)
    from scipy.signal import resample_poly

    g = gcd(int(rate_in), int(rate_out))
    work = x.astype(np.float64 if dtype == np.float64 else np.float32, copy=False)
    return resample_poly(work, int(rate_out) // g, int(rate_in) // g).astype(dtype, copy=False)
