"""A driving video -> the subject's expression codes and head pose (expression capture).

Landmarks per frame (mediapipe face mesh), then either the calibrated mapping of
`generation.face.controls` (when present) or the geometric measures of measures.py,
normalised by the DRIVER's own rest and range and scaled into the SUBJECT's range: a
driver with a big mouth reaches the subject's widest seen opening, never beyond.
The driver's voice is not kept: the likeness only speaks authored or recorded words.
"""

from __future__ import annotations

import numpy as np

from assets import expression
from assets.errors import UsageError
from . import idle, measures
from .audio_driven import smooth

MAX_FRAMES = 30 * 60 * 5  # five minutes at 30 fps
MIN_FACE_SHARE = 0.3


def read_video(data: bytes, label: str = "video", max_side: int = 640) -> tuple[list[np.ndarray], float]:
    """Frames [H,W,3] uint8 (upright, downscaled to max_side) and fps.

    Decoded by ingest's reader so a phone video's rotation is applied exactly as it was
    for the subject's own footage (a sideways face would defeat the landmark detector).
    """
    from ..ingest.decode import DecodeError, iter_frames, probe_video

    if not data:
        raise UsageError(f"{label}: the file is empty")
    frames = []
    try:
        fps = probe_video(data).fps
        for frame in iter_frames(data):
            frames.append(frame.rgb(max_side))  # [H,W,3]
            if len(frames) > MAX_FRAMES:
                raise UsageError(f"{label}: longer than {MAX_FRAMES // 30 // 60} minutes at 30 fps; cut it")
    except DecodeError as exc:
        raise UsageError(f"{label}: not a readable video ({exc})") from None
    return frames, fps


def track_landmarks(frames: list[np.ndarray], progress=None) -> tuple[np.ndarray, np.ndarray]:
    """Landmarks [T,478,3] (gaps filled from the nearest frame with a face) and found [T] bool."""
    from ..face.landmarks import LandmarkDetector

    out = np.zeros((len(frames), 478, 3), dtype=np.float32)
    found = np.zeros(len(frames), dtype=bool)
    bar = progress(total=len(frames), desc="landmarks") if progress else None
    with LandmarkDetector(max_faces=1, static_images=False) as det:
        for i, rgb in enumerate(frames):
            faces = det.detect(rgb)
            if faces:
                out[i], found[i] = faces[0].landmarks, True
            if bar:
                bar.update(1)
    if bar:
        bar.close()
    if not found.any():
        raise UsageError("no face found in the driving video")
    if found.mean() < MIN_FACE_SHARE:
        raise UsageError(f"a face was found in only {found.mean():.0%} of the driving video's frames "
                         f"(need {MIN_FACE_SHARE:.0%}); use a video where the face stays in view")
    idx = np.flatnonzero(found)
    nearest = idx[np.clip(np.searchsorted(idx, np.arange(len(frames))), 0, len(idx) - 1)]
    out[~found] = out[nearest[~found]]
    return out, found


def _calibrated_codes(lms: np.ndarray) -> np.ndarray | None:
    """Codes [T,E] from generation.face.controls calibrated on the driver's own frames; None if they do not fit."""
    from ..face import controls

    cal = controls.fit_calibration(lms)
    codes = np.asarray(controls.codes_from_landmarks(lms, cal), dtype=np.float32)
    return codes if codes.shape == (len(lms), expression.E) else None


def retarget(lms: np.ndarray, subject_codes: np.ndarray | None = None) -> tuple[np.ndarray, str]:
    """Driver landmarks [T,478,3] -> subject codes [T,E], and the method used.

    The driver's codes are relative to the driver's own rest and range (calibrated on the
    video itself); each 0..1 control is then scaled to the largest value the subject is
    seen making. Gaze is kept (degrees, neutral removed); the PCA entries describe the
    driver's face, not the subject's, so they stay 0.
    """
    idx = [expression.index(n) for n in measures.MEASURED]
    caps = measures.subject_caps(subject_codes)
    codes = expression.neutral(len(lms))
    calibrated = _calibrated_codes(lms)
    if calibrated is not None:
        norm = np.clip(calibrated[:, idx], 0, 1)
        codes[:, list(expression.GAZE)] = calibrated[:, list(expression.GAZE)]
        method = "face.controls calibrated on the driver"
    else:
        raw = measures.raw(lms)  # [T,10]
        norm = measures.Normalizer(raw)(raw)
        method = "landmark measures normalised on the driver"
    codes[:, idx] = norm * caps
    return codes, method


def _head_angles(lms: np.ndarray, shape) -> np.ndarray:
    """Yaw, pitch, roll [T,3] degrees."""
    from ..face.pose import head_pose

    return np.asarray(head_pose(lms, float(max(shape[:2]))), dtype=np.float64)[:, :3]


def drive_track(data: bytes, subject_codes: np.ndarray | None = None, seed: int = 0, progress=None,
                label: str = "video"):
    """Driving video bytes -> ExpressionTrack (source 'video'); idle gaze and breathing underneath."""
    from assets.artifacts import ExpressionTrack

    frames, fps = read_video(data, label)
    lms, found = track_landmarks(frames, progress)
    codes, method = retarget(lms, subject_codes)
    idx = [expression.index(n) for n in measures.MEASURED]
    codes[:, idx] = smooth(codes[:, idx], fps, tau_s=0.03)
    base, pose = idle.layer(len(frames), fps, seed)
    gaze = list(expression.GAZE)
    codes[:, gaze] = np.clip(base[:, gaze] + smooth(codes[:, gaze], fps, tau_s=0.02), -1, 1)  # listener + driver's look
    head = _head_angles(lms, frames[0].shape)
    head = np.clip(head - np.median(head, axis=0), -25, 25)
    pose[:, :3] = smooth(head.astype(np.float32), fps, tau_s=0.05) + 0.3 * pose[:, :3]
    return ExpressionTrack(fps=fps, codes=expression.clip(codes), pose=pose.astype(np.float32), source="video",
                           meta={"method": method, "frames": len(frames), "face_share": round(float(found.mean()), 3),
                                 "audio": "driver's voice not kept"})
