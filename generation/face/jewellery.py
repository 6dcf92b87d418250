"""Earrings the person segment left out.

The selfie segmenter keeps skin, hair and clothes; a small earring hanging beside the jaw comes
out mostly as background (on the clip: black-and-white drops against a flag, prob ~0 on most of
the drop). The shell then showed only the segment's soft fringe around it, a pale grey smear
mixed with the skin behind. Under each ear lobe a sharp, compact object touching the person is
taken as the person's: the background behind a bust is out of focus or plain, jewellery is small and
full of sharp detail.
"""

from __future__ import annotations

import numpy as np

LOBE = (93, 323)  # face-mesh landmarks at the bottom of the ear's root, right and left
BELOW_LOBE = 0.012  # metres the zone's centre lies below the landmark
ZONE_RADIUS = 0.03  # metres around it in which jewellery is looked for
DETAIL = 35.0  # grey levels: local contrast (std over 5x5 pixels) of sharp detail
OUTSIDE = 0.4  # of a found object's pixels lie outside the segment
MIN_SIZE = 0.006  # metres: a found object is at least this wide (no edges, no specks of a sharp background)


def local_contrast(image: np.ndarray) -> np.ndarray:
    """[H,W] standard deviation of the grey levels over each 5x5 neighbourhood."""
    import cv2

    g = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2GRAY).astype(np.float32)
    mean = cv2.boxFilter(g, -1, (5, 5))
    return np.sqrt(np.maximum(cv2.boxFilter(g * g, -1, (5, 5)) - mean * mean, 0))


def earrings(image: np.ndarray, prob: np.ndarray, lm: np.ndarray, s: float, face: np.ndarray) -> np.ndarray:
    """[H,W] bool: pixels of jewellery hanging under the ear lobes that the segment `prob` [H,W] missed.
    `lm` [478,>=2] landmarks in pixels, `s` pixels per metre, `face` [H,W] the face's own region
    (never jewellery)."""
    import cv2

    h, w = prob.shape
    sharp = (local_contrast(image) > DETAIL).astype(np.uint8)
    k = max(3, 2 * int(round(MIN_SIZE * s / 2)) + 1)
    blobs = cv2.morphologyEx(sharp, cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8))
    cores = cv2.morphologyEx(blobs, cv2.MORPH_OPEN, np.ones((k, k), np.uint8)).astype(bool)  # no lines, no specks
    yy, xx = np.mgrid[:h, :w]
    zone = np.zeros((h, w), bool)
    for i in LOBE:
        cx, cy = float(lm[i, 0]), float(lm[i, 1]) + BELOW_LOBE * s
        zone |= (xx - cx) ** 2 + (yy - cy) ** 2 < (ZONE_RADIUS * s) ** 2
    blobs = blobs.astype(bool) & zone & ~face
    person = cv2.dilate((prob > 0.5).astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    n, labels = cv2.connectedComponents(blobs.astype(np.uint8))
    missed = prob <= 0.5
    size = np.bincount(labels.ravel(), minlength=n)
    out = np.bincount(labels[missed].ravel(), minlength=n)
    touches = np.bincount(labels[blobs & person].ravel(), minlength=n) > 0
    solid = np.bincount(labels[blobs & cores].ravel(), minlength=n) > 0
    # An object the segment missed: mostly outside it (sharp skin or hair inside the person, with a
    # sliver over its edge, is not one) and at least MIN_SIZE square outside it.
    keep = touches & solid & (out >= OUTSIDE * size) & (out >= (MIN_SIZE * s) ** 2)
    keep[0] = False
    return keep[labels] & missed
