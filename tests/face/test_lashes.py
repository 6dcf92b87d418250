"""A person's lashes' hang over a closing eye, measured on their own blinking frames (generation/face/lashes.py)."""

from __future__ import annotations

import numpy as np

from assets import landmarks as L
from generation.face.lashes import MIN_EYES, lash_hang

SKIN = (190, 150, 130)
GAP = 40  # pixels between the open lids
EYE_Y = {"upper": 100, "lower": 100 + GAP}


def _frame(blink: float, band: float) -> tuple[np.ndarray, np.ndarray]:
    """(image [300,300,3], landmarks [478,2]): skin, both eyes' upper lids `blink` of the way down to the lower lids
    and a dark band from 0.1 gap over each upper lid's edge to `band` gaps under it."""
    img = np.empty((300, 300, 3), np.uint8)
    img[:] = SKIN
    lm = np.zeros((478, 2))
    for k in L.CHEEK_L + L.CHEEK_R:
        lm[k] = (150, 250)
    edge = EYE_Y["upper"] + blink * GAP
    for eye, x0 in ((L.EYE_L, 200), (L.EYE_R, 60)):
        for j, (u, lo) in enumerate(zip(eye["upper"], eye["lower"])):
            x = x0 + 10 * j
            lm[u], lm[lo] = (x, edge), (x, EYE_Y["lower"])
        if blink > 0:
            img[int(edge - 0.1 * GAP):int(round(edge + band * GAP)), x0 - 10:x0 + 40] = (15, 12, 10)
    return img, lm


def _subject(n_open: int, n_blinks: int, band: float):
    frames = [_frame(0.0, 0.0) for _ in range(n_open)] + [_frame(0.5 + 0.4 * i / max(n_blinks - 1, 1), band)
                                                           for i in range(n_blinks)]
    blinks = np.array([[0.0, 0.0]] * n_open + [[0.5 + 0.4 * i / max(n_blinks - 1, 1)] * 2 for i in range(n_blinks)])
    return [f[0] for f in frames], np.stack([f[1] for f in frames]), blinks


def test_the_hang_is_the_dark_band_s_depth_under_a_blinking_lid_in_open_gaps():
    for band in (0.2, 0.35):
        images, lm, blinks = _subject(4, 5, band)
        assert abs(lash_hang(images, lm, blinks) - band) < 0.03


def test_no_blinking_frames_no_hang():
    images, lm, blinks = _subject(6, 0, 0.35)
    assert lash_hang(images, lm, blinks) is None
    images, lm, blinks = _subject(4, 2, 0.35)  # 4 blinking eyes: too few to tell
    assert 2 * 2 < MIN_EYES and lash_hang(images, lm, blinks) is None
    images, lm, blinks = _subject(0, 5, 0.35)  # never open: no gap to measure it in
    assert lash_hang(images, lm, blinks) is None
