"""Per-picture analysis that needs no vault and no identity: faces found (landmarks),
their identity embeddings and their quality and crops. It runs in the ingesting process,
or for photos in worker processes (one per core) while the main process decides who is
who and writes to the vault.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import faces as facelib
from . import identity as idlib

DETECT_MAX_SIDE = 1280  # photos are scaled to this for detection; crops come from full resolution
TILE_BELOW = 0.2  # search tiles when the largest face found is smaller than this part of the image
MIN_TILE = 160  # px; images smaller than two tiles are not split


@dataclass
class Judged:
    quality: facelib.Quality
    crop: np.ndarray  # [512,512,3] uint8
    landmarks: np.ndarray  # [478,3] in crop pixels
    colour: bool  # False for black-and-white and toned prints


@dataclass
class Candidate:
    """One face in a picture, with what is known about it so far."""

    face: object  # DetectedFace, in full-resolution pixels
    embedding: np.ndarray | None = None  # [128]
    judged: Judged | None = None


@dataclass
class PhotoAnalysis:
    width: int = 0
    height: int = 0
    phash: int = 0
    candidates: list[Candidate] = field(default_factory=list)
    error: str = ""  # the decode error, when the photo could not be read


def judge(rgb: np.ndarray, face) -> Judged:
    q = facelib.assess(rgb, face)
    if q.rejected:
        return Judged(q, np.zeros((0, 0, 3), np.uint8), np.zeros((478, 3), np.float32), True)
    crop, lm = facelib.face_crop(rgb, face)
    return Judged(q, crop, lm, not facelib.is_monochrome(crop))  # the face and its surroundings


class Analyser:
    """The face detector and the recogniser, loaded on first use."""

    def __init__(self):
        self.detector = None
        self.encoder: idlib.FaceEncoder | None = None

    def detect(self, rgb: np.ndarray, tiles: bool = True) -> list:
        """All faces, largest first. mediapipe's detector sees the image squeezed to 128x128,
        so small faces in group photos are missed and a row of people is squashed; the image
        is searched again in windows (square ones along a wide picture, or 2x2 overlapping
        ones when the faces found are small) and the results merged."""
        if self.detector is None:
            from ..face.landmarks import LandmarkDetector

            self.detector = LandmarkDetector(max_faces=6)
        found = self.detector.detect(rgb)
        if not tiles:
            return found
        for y0, x0, th, tw in windows(rgb.shape[0], rgb.shape[1], found[0].size if found else 0.0):
            for f in self.detector.detect(np.ascontiguousarray(rgb[y0:y0 + th, x0:x0 + tw])):
                f = shift(f, x0, y0)
                if all(iou(f.bbox, g.bbox) < 0.3 for g in found):
                    found.append(f)
        return sorted(found, key=lambda f: -f.size)

    def find(self, rgb: np.ndarray, tiles: bool = True) -> list:
        """Faces in full-resolution pixels, detected on a copy scaled to DETECT_MAX_SIDE."""
        scale = min(1.0, DETECT_MAX_SIDE / max(rgb.shape[:2]))
        small = rgb if scale == 1.0 else resize(rgb, scale)
        found = self.detect(small, tiles)
        return found if scale == 1.0 else [rescale(f, 1 / scale) for f in found]

    def encode(self, rgb: np.ndarray, bbox) -> np.ndarray:
        if self.encoder is None:
            self.encoder = idlib.FaceEncoder()
        return self.encoder.encode(rgb, bbox)

    def close(self) -> None:
        if self.detector is not None:
            self.detector.close()
            self.detector = None


def analyse_photo(analyser: Analyser, data: bytes) -> PhotoAnalysis:
    """Decode, hash, find, encode and judge every face of one photo."""
    from . import decode
    from .phash import phash

    try:
        rgb = decode.decode_image(data)  # [H,W,3]
    except decode.DecodeError as exc:
        return PhotoAnalysis(error=str(exc))
    cands = [Candidate(f, analyser.encode(rgb, f.bbox), judge(rgb, f)) for f in analyser.find(rgb)]
    return PhotoAnalysis(rgb.shape[1], rgb.shape[0], phash(rgb), cands)


_WORKER: Analyser | None = None


def worker_analyse(data: bytes) -> PhotoAnalysis:
    """Entry point in a worker process (one Analyser per process, kept between photos)."""
    global _WORKER
    if _WORKER is None:
        _WORKER = Analyser()
    return analyse_photo(_WORKER, data)


def windows(h: int, w: int, largest: float) -> list[tuple[int, int, int, int]]:
    """(y0, x0, height, width) of the windows to search again."""
    long, short = max(h, w), min(h, w)
    if long > 1.5 * short:  # square windows overlapping by half along the long side
        n = int(np.ceil((long - short) / (short / 2))) + 1
        offsets = np.linspace(0, long - short, n).astype(int)
        return [(0, int(o), short, short) if w > h else (int(o), 0, short, short) for o in offsets]
    if short < 2 * MIN_TILE or largest >= TILE_BELOW * short:
        return []
    th, tw = int(h * 0.6), int(w * 0.6)
    return [(y0, x0, th, tw) for y0 in (0, h - th) for x0 in (0, w - tw)]


def resize(rgb: np.ndarray, scale: float) -> np.ndarray:
    import cv2

    h, w = rgb.shape[:2]
    return cv2.resize(rgb, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)


def shift(face, dx: float, dy: float):
    from ..face.landmarks import DetectedFace

    lm = face.landmarks.copy()
    lm[:, 0] += dx
    lm[:, 1] += dy
    x0, y0, x1, y1 = face.bbox
    return DetectedFace(lm, (x0 + dx, y0 + dy, x1 + dx, y1 + dy))


def iou(a, b) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def rescale(face, k: float):
    from ..face.landmarks import DetectedFace

    return DetectedFace(face.landmarks * np.float32(k), tuple(v * k for v in face.bbox))
