"""`ingest_paths`: media files -> originals, audio tracks and face samples in the vault.

Per file: read, hash, skip if already done, decode, find and judge faces, then commit
original -> audio -> record (the record last, so a killed run redoes only unfinished
files). One bad file never stops the batch.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import ConsentError, MemorialError, PermissionDenied
from ..vault.roles import Action, authorize
from ..vault.store import ORIGINAL_PREFIX
from . import decode, faces as facelib
from .phash import find_near_duplicate, phash
from .records import AUDIO_PREFIX, SAMPLE_PREFIX, IngestRecord, Sample
from .sampling import FrameSampler, SamplingPolicy
from .sources import Item, expand

DETECT_MAX_SIDE = 1280  # photos are scaled to this for detection; crops come from full resolution
TILE_BELOW = 0.2  # search tiles when the largest face found is smaller than this part of the image
MIN_TILE = 160  # px; images smaller than two tiles are not split


@dataclass
class IngestReport:
    accepted: list[tuple[str, str]] = field(default_factory=list)  # (file, what was kept)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)
    flagged: list[tuple[str, str]] = field(default_factory=list)  # (file, note) e.g. several faces
    faces_found: int = 0  # faces detected in photos and checked video frames
    samples: int = 0  # face samples kept
    frames: int = 0  # video frames decoded
    audio: int = 0  # audio tracks kept
    already: int = 0  # files found already ingested (a re-run)

    def lines(self) -> list[str]:
        out = [f"Accepted       {len(self.accepted)} file(s), {self.samples} face sample(s); "
               f"faces found: {self.faces_found}; video frames decoded: {self.frames}; audio tracks kept: {self.audio}"]
        out += [f"  + {name}: {what}" for name, what in self.accepted]
        out.append(f"Skipped        {len(self.skipped)} file(s)")
        out += [f"  - {name}: {reason}" for name, reason in self.skipped]
        if self.flagged:
            out.append(f"Flagged        {len(self.flagged)} file(s)")
            out += [f"  ! {name}: {note}" for name, note in self.flagged]
        return out


class Ingester:
    """One ingest run: the detector, the subject's reference face shape and the report.

    `use_vault_reference=False` skips reading earlier samples to pick among several faces
    (for renders that hold one face, as in single-photo mode)."""

    def __init__(self, vault, use_vault_reference: bool = True):
        self.vault = vault
        self.report = IngestReport()
        self.detector = None
        self._reference: np.ndarray | None = None
        self._reference_n = 0
        self._reference_loaded = not use_vault_reference
        self._voice: str | None | bool = None  # None = not asked yet, True = allowed, str = why not
        stored = vault.list(SAMPLE_PREFIX)
        self.phashes = {b.key[len(SAMPLE_PREFIX):]: int(b.meta["phash"], 16) for b in stored if b.meta.get("phash")}
        self.names = {b.key[len(SAMPLE_PREFIX):]: b.meta.get("filename", "?") for b in stored}

    # ----- helpers ------------------------------------------------------------------------------

    def detect(self, rgb: np.ndarray, tiles: bool = True) -> list:
        """All faces, largest first. mediapipe's detector sees the image at 128 px, so small
        faces in group photos are missed; when the faces found are small (or none), the image
        is searched again in 2x2 overlapping tiles and the results merged."""
        if self.detector is None:
            from ..face.landmarks import LandmarkDetector

            self.detector = LandmarkDetector(max_faces=6)
        found = self.detector.detect(rgb)
        h, w = rgb.shape[:2]
        if not tiles or min(h, w) < 2 * MIN_TILE or (found and found[0].size >= TILE_BELOW * min(h, w)):
            return found
        th, tw = int(h * 0.6), int(w * 0.6)
        for y0 in (0, h - th):
            for x0 in (0, w - tw):
                for f in self.detector.detect(np.ascontiguousarray(rgb[y0:y0 + th, x0:x0 + tw])):
                    f = _shift(f, x0, y0)
                    if all(_iou(f.bbox, g.bbox) < 0.3 for g in found):
                        found.append(f)
        return sorted(found, key=lambda f: -f.size)

    def reference(self) -> np.ndarray | None:
        """Mean normalized landmark shape of the subject's accepted faces (loaded lazily)."""
        if not self._reference_loaded:
            self._reference_loaded = True
            self._reference, self._reference_n = None, 0  # the vault already holds this run's samples
            from .records import load_landmarks

            for landmarks in load_landmarks(self.vault):  # records hold real faces only
                for lm in landmarks:
                    self._add_reference(lm)
        return self._reference

    def _add_reference(self, landmarks: np.ndarray) -> None:
        shape = facelib.normalized_shape(landmarks)
        n = self._reference_n
        self._reference = shape if self._reference is None else (self._reference * n + shape) / (n + 1)
        self._reference_n = n + 1

    def voice_allowed(self) -> str | bool:
        if self._voice is None:
            try:
                authorize(self.vault.role, self.vault.consent, Action.INGEST_VOICE)
                self._voice = True
            except (ConsentError, PermissionDenied) as exc:
                self._voice = str(exc)
        return self._voice

    def faces_in(self, rgb: np.ndarray, name: str, info: dict) -> tuple[Sample | None, str]:
        """The subject's face in one picture as a Sample, or None and the reason."""
        scale = min(1.0, DETECT_MAX_SIDE / max(rgb.shape[:2]))
        small = rgb if scale == 1.0 else _resize(rgb, scale)
        found = self.detect(small, tiles="frame" not in info)
        self.report.faces_found += len(found)
        if not found:
            return None, "no face found"
        if scale != 1.0:
            found = [_rescale(f, 1 / scale) for f in found]
        ref = self.reference() if len(found) > 1 else self._reference
        pick, how = facelib.choose_subject(found, ref)
        face = found[pick]
        q = facelib.assess(rgb, face)
        if q.rejected:
            return None, "; ".join(q.reasons)
        crop, lm = facelib.face_crop(rgb, face)
        info = {**info, "faces": len(found), "chosen_by": how, "bbox": [round(v, 1) for v in face.bbox],
                "size": round(q.size, 1), "sharpness": round(q.sharpness, 1), "yaw": round(q.yaw, 1),
                "pitch": round(q.pitch, 1), "notes": q.reasons, "synthetic": False}
        if len(found) > 1 and "frame" not in info:
            self.report.flagged.append((name, f"{len(found)} faces; chose the {how.split(' of ')[0]} "
                                              f"at x={face.bbox[0]:.0f}, y={face.bbox[1]:.0f}"))
        self._add_reference(face.landmarks)
        return Sample(crop, lm, q.score, info), ""

    def commit(self, item: Item, sha: str, data: bytes, samples: list[Sample], meta: dict,
               audio: tuple[bytes, int, float] | None = None) -> None:
        key = ORIGINAL_PREFIX + sha
        if not self.vault.exists(key):
            self.vault.put(key, data, kind="original", meta={"filename": item.filename, "media_type": item.media_type})
            self.vault.log("ingest_original", filename=item.filename, bytes=len(data))
        if audio is not None:
            flac, rate, seconds = audio
            self.vault.put(AUDIO_PREFIX + sha, flac, kind="audio",
                           meta={"video": key, "filename": item.filename, "format": "flac",
                                 "sample_rate": rate, "seconds": round(seconds, 3)})
            meta["audio"] = AUDIO_PREFIX + sha
            self.report.audio += 1
        record = IngestRecord(sha, item.filename, item.media_type, samples, meta)
        blob_meta = {"source": key, "filename": item.filename, "samples": len(samples)}
        if "phash" in meta:
            blob_meta["phash"] = meta["phash"]
        self.vault.put(record.key, record.to_bytes(), kind="sample", meta=blob_meta)
        self.names[sha] = item.filename
        self.report.samples += len(samples)

    # ----- one file -----------------------------------------------------------------------------

    def run_item(self, item: Item, frame_bar) -> None:
        if item.error:
            self.report.skipped.append((item.name, item.error))
            return
        try:
            data = item.read()
        except (OSError, ValueError) as exc:
            self.report.skipped.append((item.name, f"cannot read: {exc}"))
            return
        if not data:
            self.report.skipped.append((item.name, "empty file (0 bytes)"))
            return
        sha = hashlib.sha256(data).hexdigest()
        if self.vault.exists(SAMPLE_PREFIX + sha):
            self.report.already += 1
            self.report.skipped.append((item.name, f"already ingested (same bytes as '{self.names.get(sha, '?')}')"))
            return
        try:
            if item.is_video:
                self.video(item, sha, data, frame_bar)
            else:
                self.photo(item, sha, data)
        except decode.DecodeError as exc:
            self.report.skipped.append((item.name, str(exc)))

    def photo(self, item: Item, sha: str, data: bytes) -> None:
        rgb = decode.decode_image(data)  # [H,W,3]
        h = phash(rgb)
        dup = find_near_duplicate(h, self.phashes)
        if dup is not None:
            self.report.skipped.append((item.name, f"near-duplicate of '{self.names.get(dup, dup[:12])}'"))
            return
        sample, reason = self.faces_in(rgb, item.name, {"width": rgb.shape[1], "height": rgb.shape[0]})
        if sample is None:
            self.report.skipped.append((item.name, reason))
            return
        self.commit(item, sha, data, [sample], {"phash": f"{h:016x}"})
        self.phashes[sha] = h
        note = f"1 face, quality {sample.quality:.2f}" + (f" ({'; '.join(sample.info['notes'])})" if sample.info["notes"] else "")
        self.report.accepted.append((item.name, note))

    def video(self, item: Item, sha: str, data: bytes, frame_bar) -> None:
        info = decode.probe_video(data)
        sampler = FrameSampler(SamplingPolicy())
        samples: list[Sample] = []
        reasons: dict[str, int] = {}
        checked = decoded = 0
        frame_bar.reset(total=info.frames or None)
        frame_bar.set_description(item.filename[:24])
        for vf in decode.iter_frames(data):
            decoded += 1
            frame_bar.update(1)
            if not sampler.wants_landmarks(vf.thumbnail(), vf.time):
                continue
            checked += 1
            sample, reason = self.faces_in(vf.rgb(DETECT_MAX_SIDE), item.name,
                                           {"frame": vf.index, "time": round(vf.time, 3), "shot": sampler.shots})
            if sample is None:
                reasons[reason.split(" (")[0]] = reasons.get(reason.split(" (")[0], 0) + 1
            elif sampler.keep(sample.landmarks):
                samples.append(sample)
                if sampler.full:
                    break
        self.report.frames += decoded
        crowded = sum(1 for s in samples if s.info["faces"] > 1)
        if crowded:
            self.report.flagged.append((item.name, f"{crowded} kept frame(s) showed several faces; "
                                                   "the one most like the subject was used"))
        audio, audio_note = None, ""
        if info.has_audio:
            allowed = self.voice_allowed()
            if allowed is True:
                audio = decode.extract_audio(data)
                audio_note = f"; audio {audio[2]:.1f} s kept" if audio else "; audio track empty"
            else:
                audio_note = f"; audio not kept ({allowed})"
        if not samples and audio is None:
            why = ", ".join(f"{r} ×{n}" for r, n in sorted(reasons.items())) or "no frames checked"
            self.report.skipped.append((item.name, f"no usable face in {checked} checked frame(s) ({why}){audio_note}"))
            return
        meta = {"fps": info.fps, "frames": decoded, "checked": checked, "shots": sampler.shots}
        self.commit(item, sha, data, samples, meta, audio)
        self.report.accepted.append((item.name, f"{len(samples)} frame sample(s) from {checked} checked, "
                                                f"{sampler.shots} shot(s){audio_note}"))


def _resize(rgb: np.ndarray, scale: float) -> np.ndarray:
    import cv2

    h, w = rgb.shape[:2]
    return cv2.resize(rgb, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)


def _shift(face, dx: float, dy: float):
    from ..face.landmarks import DetectedFace

    lm = face.landmarks.copy()
    lm[:, 0] += dx
    lm[:, 1] += dy
    x0, y0, x1, y1 = face.bbox
    return DetectedFace(lm, (x0 + dx, y0 + dy, x1 + dx, y1 + dy))


def _iou(a, b) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _rescale(face, k: float):
    from ..face.landmarks import DetectedFace

    return DetectedFace(face.landmarks * np.float32(k), tuple(v * k for v in face.bbox))


def ingest_paths(vault, paths: list[Path | str], progress: bool = True) -> IngestReport:
    """Ingest files, folders and zip archives into an opened vault; returns what happened.

    Needs Action.INGEST; audio tracks additionally need voice consent (else skipped with
    the reason). Safe to re-run after a crash: finished files are recognised by hash.
    """
    from tqdm import tqdm

    vault.authorize(Action.INGEST)
    items = list(expand([Path(p) for p in paths]))
    run = Ingester(vault)
    with tqdm(total=len(items), desc="files", unit="file", disable=not progress, position=0) as files_bar, \
            tqdm(desc="frames", unit="frame", disable=not progress or not any(i.is_video for i in items),
                 position=1, leave=False) as frame_bar:
        try:
            for item in items:
                files_bar.set_postfix_str(item.filename[-32:])
                try:
                    run.run_item(item, frame_bar)
                except MemorialError:
                    raise
                except Exception as exc:  # a decoder bug must not stop the batch
                    run.report.skipped.append((item.name, f"unexpected error: {type(exc).__name__}: {exc}"))
                files_bar.update(1)
        finally:
            if run.detector is not None:
                run.detector.close()
    r = run.report
    vault.log("ingest", files=len(items), accepted=len(r.accepted), skipped=len(r.skipped),
              samples=r.samples, faces=r.faces_found, audio=r.audio)
    return r
