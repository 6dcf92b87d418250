"""Per-face judgements: how good a sample a face is, and whether the picture has colour.

Quality is a score 0..1 (the product of size, sharpness and pose terms); a face that
fails a hard limit is rejected with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from assets import landmarks as L

from ..face.landmarks import DetectedFace

MONOCHROME_RESIDUAL = 4.0  # Lab a/b spread (0..255) left after a fit on lightness; below: grey or toned

MIN_FACE_PX = 60  # smaller faces than this give no usable landmarks
GOOD_FACE_PX = 200
MIN_SHARPNESS = 20.0  # variance of the Laplacian of the face at 128 px; below: strong blur
GOOD_SHARPNESS = 120.0
MAX_YAW = 55.0  # degrees; beyond this the far half of the face is hidden
MAX_PITCH = 40.0
CROP_SIZE = 512  # side of the face-centred crop kept per sample
CROP_MARGIN = 1.9  # crop side / face size


@dataclass
class Quality:
    score: float  # 0..1; 0 means rejected
    size: float
    sharpness: float
    yaw: float
    pitch: float
    reasons: list[str] = field(default_factory=list)  # why rejected or down-weighted

    @property
    def rejected(self) -> bool:
        return self.score <= 0.0


def normalized_shape(landmarks: np.ndarray) -> np.ndarray:
    """2D landmarks with translation, scale and in-plane rotation removed, [478,2]."""
    p = landmarks[:, :2].astype(np.float64)
    p = p - p.mean(axis=0)
    p /= np.sqrt((p**2).sum(axis=1).mean()) + 1e-9
    eye = p[L.EYE_L["outer"]] - p[L.EYE_R["outer"]]
    a = -np.arctan2(eye[1], eye[0])
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    return p @ rot.T


def shape_distance(a: np.ndarray, b: np.ndarray) -> float:
    """RMS distance between two normalized shapes [478,2] after a best rotation (Procrustes)."""
    u, _, vt = np.linalg.svd(b.T @ a)
    r = u @ vt
    return float(np.sqrt(((a - b @ r) ** 2).sum(axis=1).mean()))


def head_angles(landmarks: np.ndarray, frame_side: float) -> tuple[float, float]:
    """Yaw and pitch in degrees, from geometry's landmark-only head pose."""
    from ..face.pose import head_pose

    yaw, pitch = head_pose(landmarks, frame_side)[:2]
    return float(yaw), float(pitch)


def sharpness(rgb: np.ndarray, face: DetectedFace) -> float:
    """Variance of the Laplacian of the face region rescaled to 128 px (scale-independent)."""
    import cv2

    x0, y0, x1, y1 = (int(round(v)) for v in face.bbox)
    h, w = rgb.shape[:2]
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
    if x1 - x0 < 4 or y1 - y0 < 4:
        return 0.0
    grey = cv2.cvtColor(np.ascontiguousarray(rgb[y0:y1, x0:x1]), cv2.COLOR_RGB2GRAY)
    grey = cv2.resize(grey, (128, 128), interpolation=cv2.INTER_AREA)
    return float(cv2.Laplacian(grey, cv2.CV_64F).var())


def assess(rgb: np.ndarray, face: DetectedFace) -> Quality:
    size = face.size
    sharp = sharpness(rgb, face)
    yaw, pitch = head_angles(face.landmarks, float(max(rgb.shape[:2])))
    reasons: list[str] = []
    if size < MIN_FACE_PX:
        reasons.append(f"face too small ({size:.0f} px < {MIN_FACE_PX} px)")
    if sharp < MIN_SHARPNESS:
        reasons.append(f"too blurry (sharpness {sharp:.0f} < {MIN_SHARPNESS:.0f})")
    if abs(yaw) > MAX_YAW or abs(pitch) > MAX_PITCH:
        reasons.append(f"extreme head pose (yaw {yaw:.0f}°, pitch {pitch:.0f}°)")
    if reasons:
        return Quality(0.0, size, sharp, yaw, pitch, reasons)
    s_size = min(1.0, 0.2 + 0.8 * (size - MIN_FACE_PX) / (GOOD_FACE_PX - MIN_FACE_PX))  # small faces: low weight
    s_sharp = min(1.0, 0.4 + 0.6 * (sharp - MIN_SHARPNESS) / (GOOD_SHARPNESS - MIN_SHARPNESS))
    s_pose = 1.0 - 0.6 * max(abs(yaw) / MAX_YAW, abs(pitch) / MAX_PITCH) ** 2
    if s_size < 1:
        reasons.append(f"small face ({size:.0f} px)")
    if s_sharp < 1:
        reasons.append(f"soft focus (sharpness {sharp:.0f})")
    if s_pose < 0.8:
        reasons.append(f"turned head (yaw {yaw:.0f}°, pitch {pitch:.0f}°)")
    return Quality(round(s_size * s_sharp * s_pose, 3), size, sharp, yaw, pitch, reasons)


def face_crop(rgb: np.ndarray, face: DetectedFace, size: int = CROP_SIZE) -> tuple[np.ndarray, np.ndarray]:
    """A square crop centred on the face, [size,size,3] uint8, and the landmarks in its
    pixels [478,3] (z scaled alike). Outside the image, edge pixels repeat (as in geometry's align)."""
    import cv2

    x0, y0, x1, y1 = face.bbox
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    side = CROP_MARGIN * face.size
    s = size / side
    m = np.array([[s, 0, size / 2 - s * cx], [0, s, size / 2 - s * cy]], dtype=np.float64)  # [2,3]
    crop = cv2.warpAffine(np.ascontiguousarray(rgb), m, (size, size), flags=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)
    lm = face.landmarks.astype(np.float32).copy()
    lm[:, 0] = lm[:, 0] * s + m[0, 2]
    lm[:, 1] = lm[:, 1] * s + m[1, 2]
    lm[:, 2] *= s
    assert crop.shape == (size, size, 3) and lm.shape == (478, 3)
    return crop, lm


def is_monochrome(rgb: np.ndarray) -> bool:
    """True for black-and-white and toned (sepia, cyanotype) pictures: their colour is a
    function of lightness alone, so a/b fitted on L (quadratic) leave almost nothing."""
    import cv2

    small = cv2.resize(np.ascontiguousarray(rgb), (96, 96), interpolation=cv2.INTER_AREA)
    lab = cv2.cvtColor(small, cv2.COLOR_RGB2LAB).reshape(-1, 3).astype(np.float64)  # [N,3]
    lum = lab[:, 0] / 255.0
    basis = np.stack([np.ones_like(lum), lum, lum**2], axis=1)  # [N,3]
    coef, *_ = np.linalg.lstsq(basis, lab[:, 1:], rcond=None)
    residual = (lab[:, 1:] - basis @ coef).std(axis=0).max()
    return bool(residual < MONOCHROME_RESIDUAL)
