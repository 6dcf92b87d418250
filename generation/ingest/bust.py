"""The subject's hair, upper body and detailed face texture (a BustModel) from their best real
photo or video frame, stored next to the head it was fitted with."""

from __future__ import annotations

import hashlib

import numpy as np

from assets import expression
from assets.artifacts import KEYS, HeadModel
from ..face.errors import GeometryError
from .records import Sample

FACE_VIEWS = 3  # the sharpest real samples that make the face texture
FACE_TEXTURE = 512
REST_JAW = 0.3  # jaw-open code under which a picture's jaw counts as at rest
TILT_DEG = 10.0  # a picture turned plus tilted by this many degrees ranks as half as good for the shell
SIDE_YAW = 5.0  # degrees a picture must be turned to count as a view of a side


def _score(s: Sample) -> float:
    return float(s.quality) * (1.0 + float(s.info.get("sharpness", 0.0)) / 200.0)


def source_image(vault, source: str, sample: Sample) -> np.ndarray:
    """The whole picture a sample was cut from: the photo, or the video frame (as ingest saw it)."""
    from . import decode
    from .originals import read_original
    from .pipeline import DETECT_MAX_SIDE

    data = read_original(vault, source)  # a long video is stored in parts
    if "frame" not in sample.info:
        return decode.decode_image(data)
    for vf in decode.iter_frames(data):
        if vf.index == sample.info["frame"]:
            return vf.rgb(DETECT_MAX_SIDE)
    raise GeometryError(f"frame {sample.info['frame']} is missing from {source}")


def _landmarks_in(image: np.ndarray, sample: Sample) -> np.ndarray:
    """The sample's face found again in the whole picture (the one nearest the sample's box)."""
    from ..face.landmarks import LandmarkDetector

    with LandmarkDetector(max_faces=4) as det:
        found = det.detect(image)
    if not found:
        raise GeometryError("the face is not found again in its own picture")
    box = sample.info.get("bbox")
    if box is None:
        return found[0].landmarks
    centre = np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2])
    return min(found, key=lambda f: np.hypot(*(np.array([(f.bbox[0] + f.bbox[2]) / 2,
                                                          (f.bbox[1] + f.bbox[3]) / 2]) - centre))).landmarks


def side_views(samples: list[tuple[str, Sample]]) -> list[tuple[np.ndarray, np.ndarray]]:
    """(crop, landmarks) of the most turned real samples, SIDE_VIEWS each way (at least SIDE_YAW
    degrees): what the person's material shows of the sides of their hair and their ears."""
    from ..face.bust import SIDE_VIEWS

    by_yaw = sorted((s for _, s in samples if "yaw" in s.info), key=lambda s: float(s.info["yaw"]))
    left = [s for s in by_yaw[:SIDE_VIEWS] if float(s.info["yaw"]) <= -SIDE_YAW]
    right = [s for s in by_yaw[::-1][:SIDE_VIEWS] if float(s.info["yaw"]) >= SIDE_YAW]
    return [(s.crop, s.landmarks) for s in left + right]


def shell_source(ranked: list[tuple[str, Sample]], calibration=None) -> tuple[str, Sample]:
    """The picture the shell (hair, ears, neck, shoulders) is lifted from: among the pictures whose jaw
    is near rest, the best by score and uprightness (else the best). The shell shows the picture's
    neck right below the rest face's chin: from an open-mouthed frame its dropped jaw's outline and
    shadow lay a second chin under the rendered one (the clip's sharpest frame is her open "O"); and
    from a turned or tilted one the shoulders come out lopsided."""
    from ..face.controls import codes_from_landmarks, fit_calibration
    from ..face.pose import head_pose

    lm = np.stack([s.landmarks for _, s in ranked])
    cal = fit_calibration(lm) if calibration is None else calibration  # a stored dict is read as it is
    jaw = codes_from_landmarks(lm, cal)[:, expression.index("jaw_open")]
    calm = np.flatnonzero(jaw < REST_JAW)
    if not len(calm):
        return ranked[0]
    yaw, _, roll = head_pose(lm[calm], 1.0)[:, :3].T
    upright = np.array([_score(ranked[i][1]) for i in calm]) / (1 + (np.abs(yaw) + np.abs(roll)) / TILT_DEG)
    return ranked[int(calm[np.argmax(upright)])]


def fit_bust(vault, samples: list[tuple[str, Sample]], head: HeadModel, head_sha256: str, calibration=None):
    """Build and store the BustModel; returns it, or None with the reason when no person could be lifted."""
    from ..face.bust import build_bust

    real = [(sid, s) for sid, s in samples if not s.info.get("synthetic")]
    if not real:
        return None, "no real photo to build hair and shoulders from"
    ranked = sorted(real, key=lambda p: -_score(p[1]))
    sid, best = shell_source(ranked, calibration)
    try:
        image = source_image(vault, sid.split("#")[0], best)
        lm = _landmarks_in(image, best)
        views = [(s.crop, s.landmarks, _score(s)) for _, s in ranked[:FACE_VIEWS]]
        bust = build_bust(image, lm, head, views, FACE_TEXTURE, calibration,
                          meta={"source": sid, "head_sha256": head_sha256}, side_views=side_views(real))
    except GeometryError as exc:
        return None, str(exc)
    data = bust.to_bytes()
    vault.put(KEYS["bust"], data, kind="bust", meta={"source": sid, "head_sha256": head_sha256,
                                                     "sha256": hashlib.sha256(data).hexdigest()})
    return bust, ""
