"""Who is who: dlib's face recogniser decides which face, if any, is the subject.

Each face gets a 128-D embedding (dlib's ResNet, weights from `face-recognition-models`,
CC0; dlib itself is under the Boost licence). The subject's identity is the set of
embeddings the family confirmed (`--reference`, `--review --confirm`) plus those of faces
already accepted; a face's distance to the identity is the mean of its distances to its
nearest few references, so one odd reference cannot pull the decision.

Only the 5-point landmark model is used for the recogniser's alignment: the 68-point model
in the same wheel was trained on data with a non-commercial licence.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from assets.errors import MemorialError

from .records import EMBEDDING_DIM as DIM

MATCH = 0.5  # at or below: the subject (stricter than dlib's 0.6, for precision)
OTHER = 0.6  # above: someone else; between the two: doubtful, left to the family
NEAREST = 3  # references averaged for a face's distance
IDENTITY_KEY = "identity/subject"  # confirmed and rejected embeddings


class RecogniserMissing(MemorialError):
    """dlib or its models are not installed."""


def _model_folder() -> Path:
    spec = importlib.util.find_spec("face_recognition_models")  # found without importing it (it needs pkg_resources)
    if spec is None or not spec.submodule_search_locations:
        raise RecogniserMissing("face identity needs the 'face-recognition-models' package")
    return Path(list(spec.submodule_search_locations)[0]) / "models"


class FaceEncoder:
    """Embeddings [128] float32 for faces that mediapipe found (its box seeds dlib's 5 points)."""

    def __init__(self):
        try:
            import dlib
        except ImportError:
            raise RecogniserMissing("face identity needs the 'dlib-bin' package") from None
        folder = _model_folder()
        self._dlib = dlib
        self._shape = dlib.shape_predictor(str(folder / "shape_predictor_5_face_landmarks.dat"))
        self._net = dlib.face_recognition_model_v1(str(folder / "dlib_face_recognition_resnet_model_v1.dat"))

    def encode(self, rgb: np.ndarray, bbox: tuple[float, float, float, float]) -> np.ndarray:
        """rgb [H,W,3] uint8 and the face's box in its pixels -> [128] float32."""
        x0, y0, x1, y1 = bbox
        cx, cy, side = (x0 + x1) / 2, (y0 + y1) / 2 + 0.04 * (y1 - y0), 0.46 * ((x1 - x0) + (y1 - y0))
        rect = self._dlib.rectangle(int(cx - side / 2), int(cy - side / 2), int(cx + side / 2), int(cy + side / 2))
        img = np.ascontiguousarray(rgb, dtype=np.uint8)
        shape = self._shape(img, rect)
        emb = np.asarray(self._net.compute_face_descriptor(img, shape), np.float32)
        assert emb.shape == (DIM,)
        return emb


def _empty() -> np.ndarray:
    return np.zeros((0, DIM), np.float32)


@dataclass
class Identity:
    confirmed: np.ndarray = field(default_factory=_empty)  # [n,128] faces the family confirmed
    rejected: np.ndarray = field(default_factory=_empty)  # [k,128] faces the family said are someone else
    learned: np.ndarray = field(default_factory=_empty)  # [m,128] faces accepted by ingest
    _buffer: np.ndarray | None = field(default=None, repr=False)

    @property
    def known(self) -> bool:
        return len(self.confirmed) + len(self.learned) > 0

    @property
    def provisional(self) -> bool:
        """Learned only from photos with one face: nobody has confirmed it yet."""
        return not len(self.confirmed)

    def distance(self, emb: np.ndarray) -> float:
        d = np.concatenate([np.linalg.norm(refs - emb[None], axis=1) for refs in (self.confirmed, self.learned)])
        return _nearest_mean_of(d)

    def rejected_distance(self, emb: np.ndarray) -> float:
        return _nearest_mean(self.rejected, emb)

    def learn(self, emb: np.ndarray) -> None:
        """Add an accepted face (amortised O(1): `learned` is a view of a buffer that doubles)."""
        m = len(self.learned)
        if self._buffer is None or len(self._buffer) <= m:
            grown = np.zeros((max(64, 2 * (m + 1)), DIM), np.float32)
            grown[:m] = self.learned
            self._buffer = grown
        self._buffer[m] = emb
        self.learned = self._buffer[:m + 1]

    def to_bytes(self) -> bytes:
        import io

        buf = io.BytesIO()
        np.savez(buf, confirmed=self.confirmed, rejected=self.rejected)
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> "Identity":
        import io

        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            return cls(z["confirmed"].astype(np.float32), z["rejected"].astype(np.float32))


def _nearest_mean(refs: np.ndarray, emb: np.ndarray) -> float:
    return _nearest_mean_of(np.linalg.norm(refs - emb[None], axis=1)) if len(refs) else float("inf")


def _nearest_mean_of(d: np.ndarray) -> float:
    """Mean of the NEAREST smallest distances (inf when there are none)."""
    if not len(d):
        return float("inf")
    k = min(NEAREST, len(d))
    return float(np.partition(d, k - 1)[:k].mean())


def _stored(vault) -> Identity:
    """The family's decisions as stored (no learned faces)."""
    return Identity.from_bytes(vault.get(IDENTITY_KEY)) if vault.exists(IDENTITY_KEY) else Identity()


def load_identity(vault) -> Identity:
    """Confirmed/rejected faces from the vault plus the embeddings of every stored sample."""
    from .records import load_embeddings

    ident = _stored(vault)
    learned = [e for e in load_embeddings(vault) if len(e)]
    if learned:
        ident.learned = np.concatenate(learned).astype(np.float32)
    return ident


def save_decisions(vault, confirmed: list[np.ndarray] = (), rejected: list[np.ndarray] = ()) -> Identity:
    """Add the family's decisions to the stored identity; returns the stored part."""
    ident = _stored(vault)
    if len(confirmed):
        ident.confirmed = np.concatenate([ident.confirmed, np.stack(confirmed).astype(np.float32)])
    if len(rejected):
        ident.rejected = np.concatenate([ident.rejected, np.stack(rejected).astype(np.float32)])
    vault.put(IDENTITY_KEY, ident.to_bytes(), kind="identity",
              meta={"confirmed": len(ident.confirmed), "rejected": len(ident.rejected)})
    return ident


@dataclass
class Decision:
    verdict: str  # "subject", "doubt" (ask the family), "other" (nobody here is the subject), "unknown"
    index: int | None  # the face chosen (subject) or doubted; None otherwise
    distances: list[float]  # per face, to the identity (inf when it is not known yet)

    def describe(self, boxes: list) -> str:
        if self.index is None:
            ds = ", ".join(f"{d:.2f}" for d in self.distances)
            return f"{len(boxes)} face(s), none is the subject (distances {ds} > {OTHER:.2f})"
        x0, y0 = boxes[self.index][:2]
        d = self.distances[self.index]
        what = f"face {self.index + 1} of {len(boxes)} at x={x0:.0f}, y={y0:.0f}"
        return what + ("" if np.isinf(d) else f", distance {d:.2f}")


def decide(embeddings: list[np.ndarray], identity: Identity) -> Decision:
    """Which of the faces in one picture is the subject.

    Unknown identity: a lone face is taken (it teaches the identity), several are left
    for later. Known: the nearest face is the subject when it is within MATCH and no other
    face is; a nearest face between MATCH and OTHER, two faces within MATCH, or a face
    nearer to someone the family rejected, is doubtful; so is a lone face beyond OTHER
    while nobody has confirmed the identity.
    """
    n = len(embeddings)
    assert n > 0
    if not identity.known:
        inf = [float("inf")] * n
        return Decision("subject", 0, inf) if n == 1 else Decision("unknown", None, inf)
    d = [identity.distance(e) for e in embeddings]
    order = np.argsort(d)
    best = int(order[0])
    if d[best] > OTHER:
        # Learned only from lone faces, the identity may itself be someone else's: a lone face
        # that disagrees is asked about rather than dropped.
        return Decision("doubt", best, d) if identity.provisional and n == 1 else Decision("other", None, d)
    rivals = n > 1 and d[int(order[1])] <= MATCH
    nearer_rejected = identity.rejected_distance(embeddings[best]) < d[best]
    if d[best] <= MATCH and not rivals and not nearer_rejected:
        return Decision("subject", best, d)
    if nearer_rejected and identity.rejected_distance(embeddings[best]) <= MATCH:
        return Decision("other", None, d)
    return Decision("doubt", best, d)
