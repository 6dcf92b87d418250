"""What a pixel test of a display checks: one face in the image, facing the viewer, where the
camera geometry says the subject's face must be. The detector is the project's own
(mediapipe face mesh, generation/face/landmarks.py); the expected place is computed here from the
scene spec with a plain pinhole model, independently of Panda3D's lenses."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from generation.face.pose import head_pose

FACING_DEG = 15.0  # |yaw| and |pitch| of a face that looks at the viewer


@dataclass(frozen=True)
class FaceSeen:
    centre: tuple[float, float]  # (x, y) px, mean of the 478 landmarks, top-left origin
    yaw: float  # degrees, 0 = looking into the camera
    pitch: float
    size: float  # px, larger side of the landmark box


def faces_in(detector, rgb: np.ndarray) -> list[FaceSeen]:
    """Every face the detector finds in RGB uint8 [H,W,3]."""
    out = []
    for face in detector.detect(np.ascontiguousarray(rgb)):
        yaw, pitch, _ = (float(a) for a in head_pose(face.landmarks, face.size)[:3])
        cx, cy = (float(c) for c in face.landmarks[:, :2].mean(axis=0))
        out.append(FaceSeen((cx, cy), yaw, pitch, face.size))
    return out


def project_point(spec, size: tuple[int, int], point) -> tuple[float, float]:
    """Pixel (x, y) of a world point [3] (Panda3D: Z up) seen by the spec's camera: at camera_pos,
    looking at camera_look_at, the narrower image side spanning spec.fov degrees."""
    w, h = size
    eye = np.asarray(spec.camera_pos, float)
    forward = np.asarray(spec.camera_look_at, float) - eye
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right)
    up = np.cross(right, forward)
    d = np.asarray(point, float) - eye
    focal = (min(w, h) / 2) / math.tan(math.radians(spec.fov) / 2)  # px
    depth = d @ forward
    return w / 2 + focal * (d @ right) / depth, h / 2 - focal * (d @ up) / depth


def check_one_face(faces: list[FaceSeen], expected: tuple[float, float], tolerance_px: float) -> FaceSeen:
    """The one face, facing the viewer, within `tolerance_px` of `expected`; explains any failure."""
    assert len(faces) == 1, f"expected exactly one face, found {len(faces)}: {faces}"
    face = faces[0]
    assert abs(face.yaw) < FACING_DEG and abs(face.pitch) < FACING_DEG, f"face does not look at the viewer: {face}"
    off = math.dist(face.centre, expected)
    assert off < tolerance_px, f"face at {face.centre}, expected near {expected} (off by {off:.0f} px)"
    return face
