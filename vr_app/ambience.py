"""Ambient room sound, synthesized (nothing downloaded): wind and birds in the garden, a clock
and room tone in the living room, a low hum in the chapel. Stereo [S,2] float32, seeded."""

from __future__ import annotations

import numpy as np


def _lowpass(x: np.ndarray, cutoff: float, rate: int) -> np.ndarray:
    from scipy.signal import butter, sosfilt

    return sosfilt(butter(2, cutoff, fs=rate, output="sos"), x, axis=0)


def _bandpass(x: np.ndarray, lo: float, hi: float, rate: int) -> np.ndarray:
    from scipy.signal import butter, sosfilt

    return sosfilt(butter(2, [lo, hi], btype="band", fs=rate, output="sos"), x, axis=0)


def _rms_to(x: np.ndarray, db: float) -> np.ndarray:
    rms = float(np.sqrt(np.mean(x ** 2))) or 1.0
    return (x * (10 ** (db / 20) / rms)).astype(np.float32)


def synthesize(kind: str, seconds: float, rate: int = 48000, level_db: float = -30.0, seed: int = 7) -> np.ndarray:
    """Ambience of `kind` ("garden", "room", "chapel") at an RMS of `level_db` dBFS, [S,2]."""
    rng = np.random.default_rng(seed)
    n = max(1, int(seconds * rate))
    t = np.arange(n) / rate
    noise = rng.standard_normal((n, 2)).astype(np.float32)
    if kind == "garden":
        swell = 0.6 + 0.4 * np.sin(2 * np.pi * 0.11 * t[:, None] + np.array([[0.0, 1.3]]))
        out = _bandpass(noise, 150, 1500, rate) * swell
        for start in rng.uniform(0, max(seconds - 0.3, 0.01), size=max(1, int(seconds / 1.5))):
            i0 = int(start * rate)
            m = int(0.12 * rate)
            tt = np.arange(min(m, n - i0)) / rate
            chirp = np.sin(2 * np.pi * (3200 * tt + 9000 * tt ** 2)) * np.hanning(2 * len(tt) + 1)[:len(tt)] ** 2
            pan = rng.uniform(0.2, 0.8)
            out[i0:i0 + len(tt), 0] += 1.5 * (1 - pan) * chirp
            out[i0:i0 + len(tt), 1] += 1.5 * pan * chirp
    elif kind == "room":
        out = _lowpass(noise, 300, rate) * 0.6
        for k in range(int(seconds) + 1):
            i0 = int(k * rate)
            if i0 < n:
                m = min(int(0.01 * rate), n - i0)
                click = rng.standard_normal(m) * np.exp(-np.arange(m) / (0.002 * rate))
                out[i0:i0 + m, 1] += 3.0 * click  # the clock is to the right
                out[i0:i0 + m, 0] += 1.0 * click
    elif kind == "chapel":
        hum = 0.5 * np.sin(2 * np.pi * 98 * t) + 0.3 * np.sin(2 * np.pi * 147 * t)
        out = _lowpass(noise, 200, rate) * 0.7 + hum[:, None] * 0.3
    else:
        raise KeyError(f"unknown ambience {kind!r}")
    return _rms_to(np.asarray(out, np.float32), level_db)
