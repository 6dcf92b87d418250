"""Similarity alignment of a face to the canonical crop frame (eyes and mouth at fixed spots).

The canonical positions put the eye centres a quarter of the crop apart, so the whole face
oval (chin to hairline, ear to ear) fits with a margin, as the UV unwrap and the GAN expect.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from assets import landmarks as L

from .errors import GeometryError, check_landmarks
from .pose import similarity_fit

# Fractions of the crop side, (x, y) with y down: subject's left eye (image right), right eye, mouth.
CANON_EYE_L = (0.625, 0.40)
CANON_EYE_R = (0.375, 0.40)
CANON_MOUTH = (0.5, 0.645)


@dataclass(frozen=True)
class Aligned:
    crop: np.ndarray  # [S,S,3] uint8
    landmarks: np.ndarray  # [478,3] float32 crop pixels (z scaled like x)
    matrix: np.ndarray  # [2,3] float32: crop_xy = matrix @ (image_x, image_y, 1)


def _anchors(lm: np.ndarray) -> np.ndarray:
    """Eye centres and mouth centre [3,2] in image pixels."""
    el = 0.5 * (lm[L.EYE_L["outer"], :2] + lm[L.EYE_L["inner"], :2])
    er = 0.5 * (lm[L.EYE_R["outer"], :2] + lm[L.EYE_R["inner"], :2])
    mouth = 0.5 * (lm[L.MOUTH_CORNER_L, :2] + lm[L.MOUTH_CORNER_R, :2])
    return np.stack([el, er, mouth]).astype(np.float64)


def alignment_matrix(landmarks_px: np.ndarray, size: int = 256) -> np.ndarray:
    """The [2,3] similarity taking image pixels to the canonical crop of side `size`."""
    lm = check_landmarks(landmarks_px, batch=False)
    dst = np.array([CANON_EYE_L, CANON_EYE_R, CANON_MOUTH]) * size
    rot, s, t = similarity_fit(_anchors(lm), dst, weights=np.array([1.0, 1.0, 0.6]))
    return np.concatenate([s * rot, t[:, None]], axis=1).astype(np.float32)


def transform_landmarks(landmarks_px: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Apply a [2,3] similarity to landmarks [...,478,3]; z is scaled by the same factor."""
    lm = np.asarray(landmarks_px, dtype=np.float32)
    scale = float(np.sqrt(abs(np.linalg.det(matrix[:, :2]))))
    xy = lm[..., :2] @ matrix[:, :2].T + matrix[:, 2]
    return np.concatenate([xy, lm[..., 2:] * scale], axis=-1).astype(np.float32)


def align_face(image: np.ndarray, landmarks_px: np.ndarray, size: int = 256) -> Aligned:
    """Aligned crop [size,size,3], landmarks in crop pixels and the [2,3] matrix.

    Pixels outside the source image are filled by edge replication (a border of constant
    black would teach the GAN a false edge).
    """
    import cv2

    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise GeometryError(f"image must be RGB uint8 [H,W,3], got {image.dtype} {list(image.shape)}")
    if size < 16:
        raise GeometryError(f"crop size must be at least 16 px, got {size}")
    m = alignment_matrix(landmarks_px, size)
    crop = cv2.warpAffine(image, m, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return Aligned(crop, transform_landmarks(landmarks_px, m), m)
