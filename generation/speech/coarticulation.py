"""Viseme timeline -> smooth mouth curves by dominance-function blending.

Each phoneme pulls the mouth toward its target with a Gaussian dominance centred on the
phoneme (Cohen & Massaro's model in its simplest form); the mouth at time t is the
dominance-weighted mean of all targets. Strong visemes (p/b/m closure) win over weak
ones (t/d/k) and neighbouring phonemes blend, so nothing snaps between frames.
"""

from __future__ import annotations

import numpy as np

from . import visemes as vz

MIN_PAUSE_S = 0.1
LEAD_S = 0.015  # the mouth shapes a phoneme slightly before its sound (visual speech leads audio)
STOPS = "pb"  # bilabial stops; other stops do not involve the lips
STOP_CLOSE_BEFORE_S = 0.015
STOP_RELEASE_S = 0.03


def mouth_curves(phonemes: list[tuple[float, float, str, str]], times: np.ndarray, lead: float = LEAD_S) -> np.ndarray:
    """Mouth controls [T,6] (visemes.MOUTH order) at `times` [T] seconds.

    `phonemes` is the timeline (start, end, phoneme, viseme).
    """
    times = np.asarray(times, dtype=np.float64)
    out = np.zeros((len(times), len(vz.MOUTH)), dtype=np.float64)
    # word gaps shorter than a real pause carry no mouth shape: the neighbours blend across them
    phonemes = [p for p in phonemes if not (p[3] == "sil" and p[1] - p[0] < MIN_PAUSE_S)]
    if not phonemes:
        return out.astype(np.float32)
    starts = np.array([p[0] for p in phonemes]) - lead
    ends = np.array([p[1] for p in phonemes]) - lead
    centres = (starts + ends) / 2
    w_before = 0.5 * (ends - starts) + 0.025  # [P] seconds: short phonemes still reach the mouth
    w_after = w_before.copy()
    # piper's stop segments start at the release burst; the closure is the silence before it,
    # so the lips close just before the segment and part quickly at its start
    stop = np.array([p[2][:1] in STOPS for p in phonemes])
    centres[stop] = starts[stop] - STOP_CLOSE_BEFORE_S
    w_before[stop] = 0.04
    w_after[stop] = STOP_RELEASE_S
    targets = np.stack([vz.target(p[3]) for p in phonemes])  # [P,6]
    alpha = np.stack([vz.dominance(p[3]) for p in phonemes])  # [P,6]
    # rest (silence) everywhere far from speech: a weak background dominance at the neutral pose
    num = np.zeros_like(out)
    den = np.full((len(times), len(vz.MOUTH)), 1e-3)
    for i in range(len(phonemes)):
        lo, hi = np.searchsorted(times, [centres[i] - 4 * w_before[i], centres[i] + 4 * w_after[i]])
        if hi <= lo:
            continue
        x = times[lo:hi] - centres[i]
        shape = np.exp(-((x / np.where(x < 0, w_before[i], w_after[i])) ** 2))  # [t]
        d = shape[:, None] * alpha[i]  # [t,6]
        num[lo:hi] += d * targets[i]
        den[lo:hi] += d
    out = num / den
    return out.astype(np.float32)
