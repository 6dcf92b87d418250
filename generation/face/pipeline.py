"""The two calls ingest makes: fit a subject's geometry once, then process every face.

    subject = fit_subject(crop_landmarks [N,478,3], crops [N,S,S,3])   # calibration + head
    sample = process_face(image, landmarks_px, subject)                # one photo or frame

`process_face` gives everything a SubjectDataset row needs except quality and source id.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .align import align_face
from .controls import Calibration, codes_from_landmarks, fit_calibration, gaze_zero_at
from .errors import check_landmarks
from .head import fit_head
from .pose import fit_pose
from .unwrap import unwrap


@dataclass
class SubjectGeometry:
    calibration: Calibration
    head: object  # assets.artifacts.HeadModel


@dataclass(frozen=True)
class FaceSample:
    crop: np.ndarray  # [S,S,3] uint8 aligned crop
    landmarks: np.ndarray  # [478,3] float32 in crop pixels
    matrix: np.ndarray  # [2,3] image -> crop similarity
    pose: np.ndarray  # [6] yaw, pitch, roll (deg), tx, ty, scale (fractions of the crop side)
    code: np.ndarray  # [E] float32 expression code
    uv: np.ndarray  # [T,T,3] uint8 face texture in the head's UV space
    mask: np.ndarray  # [T,T] uint8, 255 = texel seen


def fit_subject(crop_landmarks: np.ndarray, crops=None, weights: np.ndarray | None = None,
                synthetic: np.ndarray | None = None) -> SubjectGeometry:
    """Calibration and head model from all accepted samples' aligned-crop landmarks [N,478,3]
    (crops [N,S,S,3] optional, for the skin and hair colours; weights [N] e.g. quality;
    synthetic [N] bool marks single-photo renders, which never count as evidence for a fitted
    blendshape). ~1 s for a few hundred samples."""
    lm = check_landmarks(crop_landmarks, batch=True)
    cal = fit_calibration(lm, weights)
    real = None if synthetic is None else ~np.asarray(synthetic, bool)
    head = fit_head(lm, images=crops, calibration=cal, real=real)
    cal = gaze_zero_at(cal, head.vertices[:478])  # gaze 0: where the head's eyes rest
    if np.any(cal.gaze_zero):  # her frames unwrap as before: their gaze from her median frame's eyes
        head.meta["gaze_zero"] = [round(float(z), 6) for z in cal.gaze_zero]
    return SubjectGeometry(cal, head)


def process_face(image: np.ndarray, landmarks_px: np.ndarray, subject: SubjectGeometry, size: int = 256,
                 uv_size: int = 256) -> FaceSample:
    """Align, measure, pose and unwrap one detected face (landmarks in `image` pixels). ~15 ms."""
    al = align_face(image, landmarks_px, size)
    code = codes_from_landmarks(al.landmarks, subject.calibration)
    pose = fit_pose(al.landmarks, subject.head.reconstruct(code)[:478], size)
    uv, mask = unwrap(al.crop, al.landmarks, subject.head, code, pose=pose, size=uv_size)
    return FaceSample(al.crop, al.landmarks, al.matrix, pose, code, uv, mask)

