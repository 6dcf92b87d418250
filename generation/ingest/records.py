"""The per-file ingest record stored in the vault as `sample/<sha256 of the original>`.

It is written last for each file, after the original (and its audio), so its presence
means "this file is done": an ingest killed at any point is re-run from the first file
without a record. Crops are kept JPEG-encoded (quality 95) to keep the vault small.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field

import numpy as np

from ..vault.store import ORIGINAL_PREFIX

SAMPLE_PREFIX = "sample/"
AUDIO_PREFIX = "audio/"
REVIEW_PREFIX = "review/"  # doubtful faces waiting for the family: review/<sha>/<n>, one sample each
FORMAT, VERSION = "IngestRecord", 1
EMBEDDING_DIM = 128


@dataclass
class Sample:
    crop: np.ndarray | None  # [S,S,3] uint8 face-centred crop (None once compacted)
    landmarks: np.ndarray  # [478,3] float32 in crop pixels
    quality: float
    info: dict = field(default_factory=dict)  # frame, time, faces, chosen_by, notes, synthetic
    embedding: np.ndarray | None = None  # [128] float32 identity embedding (None for renders)
    jpeg: np.ndarray | None = field(default=None, repr=False)  # [B] uint8, the crop as stored

    def compact(self) -> "Sample":
        """Keep the crop only as its JPEG (what the record stores anyway): a video's few
        hundred samples then take ~50 kB each instead of 768 kB while the video is read."""
        if self.jpeg is None:
            self.jpeg = _encode(self.crop)
        self.crop = None
        return self


def _encode(crop: np.ndarray) -> np.ndarray:
    import cv2

    assert crop.ndim == 3 and crop.dtype == np.uint8, (crop.shape, crop.dtype)
    ok, enc = cv2.imencode(".jpg", np.ascontiguousarray(crop[..., ::-1]), [cv2.IMWRITE_JPEG_QUALITY, 95])
    assert ok
    return enc.reshape(-1)


@dataclass
class IngestRecord:
    sha: str
    filename: str
    media_type: str
    samples: list[Sample]
    meta: dict = field(default_factory=dict)  # phash, audio key, frames seen, ...

    @property
    def source(self) -> str:
        return ORIGINAL_PREFIX + self.sha

    @property
    def key(self) -> str:
        return SAMPLE_PREFIX + self.sha

    def to_bytes(self) -> bytes:
        jpegs = []
        for s in self.samples:
            assert s.landmarks.shape == (478, 3)
            jpegs.append(s.jpeg if s.jpeg is not None else _encode(s.crop))
        header = {"format": FORMAT, "version": VERSION, "sha": self.sha, "filename": self.filename,
                  "media_type": self.media_type, "meta": self.meta,
                  "samples": [{"quality": s.quality, **s.info} for s in self.samples]}
        offsets = np.cumsum([0] + [len(j) for j in jpegs]).astype(np.int64)
        landmarks = np.stack([s.landmarks for s in self.samples]).astype(np.float32) if self.samples \
            else np.zeros((0, 478, 3), np.float32)
        embeddings = np.zeros((len(self.samples), EMBEDDING_DIM), np.float32)  # zero row: none
        for i, s in enumerate(self.samples):
            if s.embedding is not None:
                embeddings[i] = s.embedding
        buf = io.BytesIO()
        np.savez(buf, header=np.frombuffer(json.dumps(header).encode("utf-8"), np.uint8),
                 jpeg=np.concatenate(jpegs) if jpegs else np.zeros(0, np.uint8), offsets=offsets, landmarks=landmarks,
                 embeddings=embeddings)
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> "IngestRecord":
        import cv2

        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            header = json.loads(z["header"].tobytes().decode("utf-8"))
            jpeg, offsets, landmarks = z["jpeg"], z["offsets"], z["landmarks"]
            embeddings = z["embeddings"] if "embeddings" in z.files else None  # records before identity had none
        if header.get("format") != FORMAT or header.get("version") != VERSION:
            raise ValueError(f"not an {FORMAT} v{VERSION}")
        samples = []
        for i, info in enumerate(header["samples"]):
            crop = cv2.imdecode(jpeg[offsets[i]:offsets[i + 1]], cv2.IMREAD_COLOR)[..., ::-1]
            info = dict(info)
            emb = embeddings[i] if embeddings is not None and embeddings[i].any() else None
            samples.append(Sample(np.ascontiguousarray(crop), landmarks[i], float(info.pop("quality")), info, emb))
        return cls(header["sha"], header["filename"], header["media_type"], samples, header["meta"])


def load_records(vault) -> list[IngestRecord]:
    return [IngestRecord.from_bytes(vault.get(b.key)) for b in vault.list(SAMPLE_PREFIX)]


def load_landmarks(vault) -> list[np.ndarray]:
    """Each record's sample landmarks [n,478,3], without decoding the JPEG crops (the npz is
    read lazily, so only the landmark array is unpacked)."""
    out = []
    for b in vault.list(SAMPLE_PREFIX):
        with np.load(io.BytesIO(vault.get(b.key)), allow_pickle=False) as z:
            out.append(z["landmarks"])
    return out


def load_embeddings(vault) -> list[np.ndarray]:
    """Each record's identity embeddings [n,128] (rows without one left out), crops not decoded."""
    out = []
    for b in vault.list(SAMPLE_PREFIX):
        with np.load(io.BytesIO(vault.get(b.key)), allow_pickle=False) as z:
            if "embeddings" in z.files:
                e = z["embeddings"]
                out.append(e[e.any(axis=1)])
    return out
