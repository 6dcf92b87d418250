"""The person in a photo, apart from the background: mediapipe's selfie segmentation (hair,
clothing and shoulders included), which ships with mediapipe 0.10.21."""

from __future__ import annotations

import numpy as np

from .errors import GeometryError


def segment_person(rgb: np.ndarray, keep_at: tuple[float, float] | None = None) -> np.ndarray:
    """Person probability [H,W] float32 0..1 for an RGB uint8 image [H,W,3].

    Uses the 'general' (square, 256 px) model: it keeps long hair and shoulders better than the
    landscape one on portraits. Only one connected region is kept, so a second person or a poster
    behind does not join the silhouette: the one under `keep_at` (x, y pixels, e.g. the subject's
    nose), else the one holding the most probable mass.
    """
    import cv2
    import mediapipe as mp

    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise GeometryError(f"image must be RGB uint8 [H,W,3], got {rgb.dtype} {list(rgb.shape)}")
    with mp.solutions.selfie_segmentation.SelfieSegmentation(model_selection=0) as seg:
        result = seg.process(np.ascontiguousarray(rgb))
    prob = np.asarray(result.segmentation_mask, np.float32)
    if prob.shape != rgb.shape[:2]:
        prob = cv2.resize(prob, (rgb.shape[1], rgb.shape[0]), interpolation=cv2.INTER_LINEAR)
    prob = np.clip(prob, 0.0, 1.0)
    n, labels, stats, _ = cv2.connectedComponentsWithStats((prob > 0.5).astype(np.uint8), connectivity=8)
    if n > 2:
        mass = np.bincount(labels.reshape(-1), weights=prob.reshape(-1), minlength=n)
        mass[0] = 0
        pick = int(np.argmax(mass))
        if keep_at is not None:
            x, y = (int(np.clip(round(v), 0, m - 1)) for v, m in zip(keep_at, (rgb.shape[1], rgb.shape[0])))
            pick = int(labels[y, x]) or pick
        keep = labels == pick
        # Soft edges stay: zero only what belongs to other confident regions.
        prob = np.where((labels > 0) & ~keep, 0.0, prob).astype(np.float32)
    return prob


def fill_nearest(img: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Every unknown pixel [H,W,C] takes the colour of the nearest known pixel (Euclidean)."""
    from scipy import ndimage

    if not known.any():
        return img.copy()
    _, (iy, ix) = ndimage.distance_transform_edt(~known, return_indices=True)
    return img[iy, ix]
