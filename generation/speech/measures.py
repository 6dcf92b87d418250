"""Geometric face measures from 478 face-mesh landmarks, and their retargeting.

Used when `generation.face.controls` (the subject's calibrated landmark -> code mapping)
is not available, and to turn a driver's or the subject's landmarks into mouth targets.
All distances are divided by the inter-ocular distance so image size does not matter.
Landmark ids follow mediapipe's face mesh (image-left = subject's right).
"""

from __future__ import annotations

import numpy as np

from assets import expression

# name -> control it drives; measures are raw (not yet 0..1)
MEASURED = ("jaw_open", "mouth_smile_l", "mouth_smile_r", "mouth_pucker", "mouth_funnel", "mouth_press",
            "blink_l", "blink_r", "brow_up_l", "brow_up_r")


def raw(lm: np.ndarray) -> np.ndarray:
    """[...,478,3] landmarks -> [...,10] raw measures in MEASURED order (bigger = more of the control)."""
    lm = np.asarray(lm, dtype=np.float64)
    assert lm.shape[-2:] == (478, 3), lm.shape
    d = lambda a, b: np.linalg.norm(lm[..., a, :2] - lm[..., b, :2], axis=-1)
    scale = d(33, 263) + 1e-6
    gap = d(13, 14) / scale
    width = d(61, 291) / scale
    centre_y = (lm[..., 13, 1] + lm[..., 14, 1]) / 2
    smile_l = (centre_y - lm[..., 291, 1]) / scale  # subject's left corner is image-right (291)
    smile_r = (centre_y - lm[..., 61, 1]) / scale
    lips = (d(0, 13) + d(14, 17)) / scale  # visible lip thickness: thin when pressed
    eye_r = d(159, 145) / scale
    eye_l = d(386, 374) / scale
    brow_r = d(105, 159) / scale
    brow_l = d(334, 386) / scale
    return np.stack([gap, smile_l, smile_r, -width, gap * (1 - width), -lips, -eye_l, -eye_r, brow_l, brow_r], -1)


class Normalizer:
    """Per-person rest and range for each measure, so a driver's big mouth is 'fully open', not more."""

    MIN_RANGE = np.array([0.08, 0.03, 0.03, 0.05, 0.05, 0.03, 0.05, 0.05, 0.04, 0.04])

    def __init__(self, measures: np.ndarray):
        m = np.asarray(measures)  # [N,10]
        assert m.ndim == 2 and m.shape[1] == len(MEASURED), m.shape
        self.rest = np.percentile(m, 10, axis=0) if len(m) >= 5 else m.min(axis=0)
        top = np.percentile(m, 98, axis=0) if len(m) >= 5 else m.max(axis=0)
        self.range = np.maximum(top - self.rest, self.MIN_RANGE)

    def __call__(self, measures: np.ndarray) -> np.ndarray:
        return np.clip((np.asarray(measures) - self.rest) / self.range, 0, 1)


def subject_caps(codes: np.ndarray | None, min_samples: int = 20) -> np.ndarray:
    """Largest value of each MEASURED control the subject is seen making; [10].

    From the subject's own dataset codes (98th percentile) when there are enough samples;
    otherwise a gentle default (0.85) that never reaches a control's extreme.
    """
    caps = np.full(len(MEASURED), 0.85)
    if codes is not None and len(codes) >= min_samples:
        idx = [expression.index(n) for n in MEASURED]
        caps = np.clip(np.percentile(codes[:, idx], 98, axis=0), 0.3, 1.0)
    return caps
