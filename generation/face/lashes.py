"""How far a person's lashes hang over a closing eye, measured on their own blinking frames.

Closing, the upper lashes turn down: in a blink the eye shows a dark band under the lid's edge, and how deep
depends on the person (on the shared clip her mascaraed lashes reach 0.35-0.38 of her open lids' gap below the
edge at half blinks, ~0.3 once shut; a single photo of open eyes tells nothing of it). The room's closing lid
hangs its lash line down by this share (vr_app.lids); a subject without blinking frames gets none.
"""

from __future__ import annotations

import numpy as np

from assets import landmarks as L

from .delight import LUMA_601

BLINKING = 0.45  # a frame's eye counts from this blink code (its lid well down, the lashes turned)
OPEN = 0.1  # and its open gap is the median over frames with both blinks under this
DARK = 0.35  # of the cheeks' luma: darker is lash (or the slit under it)
MIN_EYES = 6  # blinking eyes (frames x sides) needed for a measure
_EYES = (L.EYE_L, L.EYE_R)


def lash_hang(images, landmarks: np.ndarray, blinks: np.ndarray) -> float | None:
    """The median depth of the dark band under a blinking upper lid's edge, in units of the open lids' gap,
    over `images` [N] (RGB uint8), their `landmarks` [N,478,2+] (pixels) and blink codes `blinks` [N,2]
    (left, right); None with fewer than MIN_EYES blinking eyes or no open frame."""
    lm = np.asarray(landmarks, np.float64)
    blinks = np.asarray(blinks, np.float64)
    assert blinks.shape == (len(lm), 2), blinks.shape
    gaps = np.stack([[np.mean(p[list(e["lower"]), 1] - p[list(e["upper"]), 1]) for e in _EYES]
                     for p in lm])  # [N,2] pixels
    still = blinks.max(1) < OPEN
    if not still.any() or (blinks >= BLINKING).sum() < MIN_EYES:
        return None
    open_gap = np.median(gaps[still], 0)  # [2] pixels
    depths = []
    for img, p, b in zip(images, lm, blinks):
        luma = np.asarray(img, np.float64) @ LUMA_601
        h, w = luma.shape
        cheeks = list(L.CHEEK_L + L.CHEEK_R)
        cheek = np.median(luma[np.clip(p[cheeks, 1].astype(int), 0, h - 1), np.clip(p[cheeks, 0].astype(int), 0, w - 1)])
        for eye, code, gap in zip(_EYES, b, open_gap):
            if code < BLINKING or gap <= 0:
                continue
            reach = [_band_depth(luma, p[k, 0], p[k, 1], gap, DARK * cheek) for k in eye["upper"]]
            reach = [r for r in reach if r is not None]
            if reach:
                depths.append(float(np.median(reach)))
    return float(np.median(depths)) if len(depths) >= MIN_EYES else None


def _band_depth(luma: np.ndarray, x: float, y: float, gap: float, dark: float) -> float | None:
    """How far (in `gap`s) below the edge point (x, y) the first dark run on its column (3 pixels wide), starting
    from 0.3 gap above it, ends; None where the column has no dark pixel within 1.2 gaps under the edge."""
    h, w = luma.shape
    c = int(round(x))
    top, bottom = int(round(y - 0.3 * gap)), int(round(y + 1.2 * gap))
    if c < 1 or c > w - 2 or top < 0 or bottom > h:
        return None
    is_dark = luma[top:bottom, c - 1:c + 2].mean(1) < dark
    if not is_dark.any():
        return None
    first = int(np.argmax(is_dark))
    rest = ~is_dark[first:]
    run = int(np.argmax(rest)) if rest.any() else len(rest)
    return (top + first + run - y) / gap
