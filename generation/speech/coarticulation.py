"""Viseme timeline -> smooth mouth curves by dominance-function blending.

Each phoneme pulls the mouth toward its target with a Gaussian dominance centred on the
phoneme (Cohen & Massaro's model in its simplest form); the mouth at time t is the
dominance-weighted mean of all targets. Strong visemes (p/b/m closure) win over weak
ones (t/d/k) and neighbouring phonemes blend, so nothing snaps between frames.
"""

from __future__ import annotations

import numpy as np

from . import visemes as vz

LEAD_S = 0.02  # the mouth shapes a phoneme slightly before its sound (visual speech leads audio)


def mouth_curves(phonemes: list[tuple[float, float, str, str]], times: np.ndarray, lead: float = LEAD_S) -> np.ndarray:
    """Mouth controls [T,6] (visemes.MOUTH order) at `times` [T] seconds.

    `phonemes` is the timeline (start, end, phoneme, viseme).
    """
    times = np.asarray(times, dtype=np.float64)
    out = np.zeros((len(times), len(vz.MOUTH)), dtype=np.float64)
    if not phonemes:
        return out.astype(np.float32)
    starts = np.array([p[0] for p in phonemes]) - lead
    ends = np.array([p[1] for p in phonemes]) - lead
    centres = (starts + ends) / 2
    widths = 0.5 * (ends - starts) + 0.035  # [P] seconds: short phonemes still reach the mouth
    targets = np.stack([vz.target(p[3]) for p in phonemes])  # [P,6]
    alpha = np.array([vz.dominance(p[3]) for p in phonemes])  # [P]
    # rest (silence) everywhere far from speech: a weak background dominance at the neutral pose
    num = np.zeros_like(out)
    den = np.full((len(times), 1), 1e-3)
    for i in range(len(phonemes)):
        lo, hi = np.searchsorted(times, [centres[i] - 4 * widths[i], centres[i] + 4 * widths[i]])
        if hi <= lo:
            continue
        d = alpha[i] * np.exp(-(((times[lo:hi] - centres[i]) / widths[i]) ** 2))  # [t]
        num[lo:hi] += d[:, None] * targets[i]
        den[lo:hi, 0] += d
    out = num / den
    return out.astype(np.float32)
