"""`ingest_paths`: media files -> originals, audio tracks and the subject's face samples in the vault.

Per file: hash (streamed), skip if already done, decode, find faces, decide with the face
recogniser which one (if any) is the subject, judge it, then commit original -> audio ->
review entries -> record (the record last, so a killed run redoes only unfinished files).
Faces of other people enter no sample: only their count is kept. One bad file never stops
the batch. Photos come before videos, and group photos met before the subject's face is
known are retried at the end of the run, once single-face photos have taught it.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from assets.errors import ConsentError, MemorialError, PermissionDenied, UsageError
from ..vault.roles import Action
from . import decode, identity as idlib
from .analyse import DETECT_MAX_SIDE, Analyser, Candidate, PhotoAnalysis, analyse_photo, iou, judge
from .originals import file_sha256, store_original
from .phash import find_near_duplicate, phash
from .records import AUDIO_PREFIX, REVIEW_PREFIX, SAMPLE_PREFIX, IngestRecord, Sample
from .sampling import FrameSampler, SamplingPolicy, talking_mask
from .sources import Item, expand

REVERIFY_S = 2.0  # a face tracked in the same shot is re-identified at least this often
REVIEW_PER_VIDEO = 3  # doubtful frames of one video offered for review
PREFETCH = 2  # photos read, hashed and decoded ahead of the one being analysed (one process)
PARALLEL_FROM = 200  # photos in a run from which worker processes pay: each costs ~4 s CPU to start
# (models loaded again), as much as ~50 photos; measured in tests/benchmarks/bench_material.py
WORKERS = 2  # analysis processes (the machines this runs on have 2 cores)


@dataclass
class IngestReport:
    accepted: list[tuple[str, str]] = field(default_factory=list)  # (file, what was kept)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)
    not_subject: list[tuple[str, str]] = field(default_factory=list)  # (file, why): original kept, no sample
    doubtful: list[tuple[str, str]] = field(default_factory=list)  # (file, note): waiting for review
    faces_found: int = 0  # faces detected in photos and checked video frames
    other_faces: int = 0  # faces judged to be someone else (left out of everything derived)
    samples: int = 0  # face samples kept
    frames: int = 0  # video frames decoded
    audio: int = 0  # audio tracks kept
    already: int = 0  # files found already ingested (a re-run)
    identity: str = ""  # how the subject's face is known

    def lines(self) -> list[str]:
        out = [f"Accepted       {len(self.accepted)} file(s), {self.samples} face sample(s); "
               f"faces found: {self.faces_found}; video frames decoded: {self.frames}; audio tracks kept: {self.audio}"]
        out += [f"  + {name}: {what}" for name, what in self.accepted]
        if self.identity:
            out.append(f"Identity       {self.identity}")
        if self.not_subject or self.other_faces:
            out.append(f"Not subject    {len(self.not_subject)} file(s) kept in the vault without a face sample; "
                       f"{self.other_faces} face(s) of other people left out")
            out += [f"  o {name}: {why}" for name, why in self.not_subject]
        if self.doubtful:
            out.append(f"Doubtful       {len(self.doubtful)} file(s) with a face to confirm or reject "
                       "(memorial ingest NAME --review)")
            out += [f"  ? {name}: {note}" for name, note in self.doubtful]
        out.append(f"Skipped        {len(self.skipped)} file(s)")
        out += [f"  - {name}: {reason}" for name, reason in self.skipped]
        return out


@dataclass
class Found:
    """What one picture gave: the subject's sample, or a doubtful face, or why nothing."""

    sample: Sample | None = None
    doubt: Sample | None = None
    verdict: str = "none"  # subject | doubt | other | unknown | none (no usable face)
    note: str = ""  # which face, where, distance
    reason: str = ""  # why no sample
    faces: int = 0  # faces found in the picture


@dataclass
class _Track:
    """The subject's face in the current shot of a video, to avoid re-identifying every frame."""

    shot: int
    bbox: tuple
    time: float
    distance: float


@dataclass
class Prepared:
    """A file read ahead: its hash, and for photos the bytes and either the decoded pixels
    [H,W,3] (analysed in this process) or a worker's PhotoAnalysis (or its Future)."""

    sha: str = ""
    size: int = 0
    data: bytes | None = None
    analysis: object = None  # np.ndarray, PhotoAnalysis, or a Future of one
    error: str = ""


class Ingester:
    """One ingest run: detector, recogniser, the subject's identity and the report.

    `check_identity=False` takes the largest face without the recogniser (renders of
    the subject's own head in single-photo mode)."""

    def __init__(self, vault, check_identity: bool = True, workers=None):
        self.vault = vault
        self.report = IngestReport()
        self.analyser = Analyser()
        self.workers = workers  # a process pool for photo analysis, or None
        self.check_identity = check_identity
        self._identity: idlib.Identity | None = None
        self._voice: str | None | bool = None  # None = not asked yet, True = allowed, str = why not
        stored = vault.list(SAMPLE_PREFIX)
        self.phashes = {b.key[len(SAMPLE_PREFIX):]: int(b.meta["phash"], 16) for b in stored if b.meta.get("phash")}
        self.names = {b.key[len(SAMPLE_PREFIX):]: b.meta.get("filename", "?") for b in stored}

    # ----- helpers ------------------------------------------------------------------------------

    @property
    def identity(self) -> idlib.Identity:
        if self._identity is None:
            self._identity = idlib.load_identity(self.vault)
        return self._identity

    def identity_line(self) -> str:
        ident = self.identity
        if not ident.known:
            return ("not known yet: give photos where the subject is alone, or "
                    "--reference PHOTO with the subject's face")
        how = (f"{len(ident.confirmed)} face(s) the family confirmed and {len(ident.learned)} accepted"
               if len(ident.confirmed) else f"{len(ident.learned)} face(s) from photos where one face appears "
                                            "(provisional: confirm with --reference PHOTO)")
        return (f"learned from {how}; a face is the subject at distance <= {idlib.MATCH:.2f}, "
                f"doubtful up to {idlib.OTHER:.2f}")

    def voice_allowed(self) -> str | bool:
        if self._voice is None:
            try:
                self.vault.authorize(Action.INGEST_VOICE)
                self._voice = True
            except (ConsentError, PermissionDenied) as exc:
                self._voice = str(exc)
        return self._voice

    def faces_in(self, rgb: np.ndarray | None, info: dict, track: _Track | None = None,
                 candidates: list[Candidate] | None = None) -> Found:
        """The subject's face in one picture (or a doubtful one), never anyone else's.
        `candidates` are the faces already analysed by a worker (then `rgb` may be None)."""
        cands = candidates if candidates is not None else \
            [Candidate(f) for f in self.analyser.find(rgb, tiles="frame" not in info)]
        self.report.faces_found += len(cands)
        if not cands:
            return Found(reason="no face found")
        boxes = [c.face.bbox for c in cands]
        if not self.check_identity:
            decision = idlib.Decision("subject", 0, [float("nan")] * len(cands))
        else:
            tracked = _tracked(cands, track, info)
            if tracked is not None:
                d = [float("inf")] * len(cands)
                d[tracked] = track.distance
                decision = idlib.Decision("subject", tracked, d)
            else:
                for c in cands:
                    if c.embedding is None:
                        c.embedding = self.analyser.encode(rgb, c.face.bbox)
                decision = idlib.decide([c.embedding for c in cands], self.identity)
        note = decision.describe(boxes)
        if decision.verdict in ("other", "unknown"):
            if decision.verdict == "other":
                self.report.other_faces += len(cands)
            return Found(verdict=decision.verdict, note=note, faces=len(cands),
                         reason=note if decision.verdict == "other" else
                         f"{len(cands)} faces and the subject's face is not known yet")
        self.report.other_faces += len(cands) - 1
        chosen = cands[decision.index]
        j = chosen.judged or judge(rgb, chosen.face)
        q = j.quality
        if q.rejected:
            return Found(verdict="none", note=note, reason="; ".join(q.reasons), faces=len(cands))
        distance = decision.distances[decision.index]
        sample_info = {**info, "faces": len(cands), "chosen_by": note, "bbox": [round(v, 1) for v in chosen.face.bbox],
                       "distance": None if not np.isfinite(distance) else round(distance, 3),
                       "size": round(q.size, 1), "sharpness": round(q.sharpness, 1), "yaw": round(q.yaw, 1),
                       "pitch": round(q.pitch, 1), "notes": list(q.reasons), "synthetic": False, "colour": j.colour}
        if not j.colour:
            sample_info["notes"].append("black-and-white or toned print: shape and expression only")
        sample = Sample(j.crop, j.landmarks, q.score, sample_info, chosen.embedding)
        if decision.verdict == "doubt":
            return Found(doubt=sample, verdict="doubt", note=note, faces=len(cands))
        if chosen.embedding is not None:
            self.identity.learn(chosen.embedding)
        return Found(sample=sample, verdict="subject", note=note, faces=len(cands))

    def commit(self, item: Item, sha: str, source, size: int, samples: list[Sample], meta: dict,
               audio: tuple[bytes, int, float] | None = None, doubts: list[Sample] = ()) -> None:
        fh = source if hasattr(source, "read") else None
        if fh is None:
            import io

            fh = io.BytesIO(source)
        if store_original(self.vault, sha, fh, size, {"filename": item.filename, "media_type": item.media_type},
                          in_parts=item.is_video):
            self.vault.log("ingest_original", filename=item.filename, bytes=size)
        if audio is not None:
            flac, rate, seconds = audio
            self.vault.put(AUDIO_PREFIX + sha, flac, kind="audio",
                           meta={"video": "original/" + sha, "filename": item.filename, "format": "flac",
                                 "sample_rate": rate, "seconds": round(seconds, 3)})
            meta["audio"] = AUDIO_PREFIX + sha
            self.report.audio += 1
        for n, s in enumerate(doubts):
            review = IngestRecord(sha, item.filename, item.media_type, [s], {"source_sha": sha})
            self.vault.put(f"{REVIEW_PREFIX}{sha}/{n}", review.to_bytes(), kind="review",
                           meta={"filename": item.filename, "distance": s.info.get("distance")})
        record = IngestRecord(sha, item.filename, item.media_type, samples, meta)
        blob_meta = {"source": "original/" + sha, "filename": item.filename, "samples": len(samples)}
        if "phash" in meta:
            blob_meta["phash"] = meta["phash"]
        self.vault.put(record.key, record.to_bytes(), kind="sample", meta=blob_meta)
        self.names[sha] = item.filename
        self.report.samples += len(samples)

    # ----- one file -----------------------------------------------------------------------------

    def prepare(self, item: Item) -> Prepared:
        """Hash (and for photos decode) one file; runs in a helper thread ahead of analysis."""
        if item.error:
            return Prepared(error=item.error)
        try:
            if item.is_video:
                with item.open() as fh:
                    sha, size = file_sha256(fh)
                return Prepared(sha, size) if size else Prepared(error="empty file (0 bytes)")
            data = item.read()
        except (OSError, ValueError) as exc:
            return Prepared(error=f"cannot read: {exc}")
        if not data:
            return Prepared(error="empty file (0 bytes)")
        import hashlib

        sha = hashlib.sha256(data).hexdigest()
        if self.vault.exists(SAMPLE_PREFIX + sha):
            return Prepared(sha, len(data))
        if self.workers is not None:
            from concurrent.futures.process import BrokenProcessPool

            from .analyse import worker_analyse

            try:
                return Prepared(sha, len(data), data, self.workers.submit(worker_analyse, data))
            except (BrokenProcessPool, RuntimeError):
                self.workers = None  # a worker died (killed, out of memory): go on in this process
        try:
            return Prepared(sha, len(data), data, decode.decode_image(data))  # [H,W,3], analysed in photo()
        except decode.DecodeError as exc:
            return Prepared(sha, len(data), data, error=str(exc))

    def run_item(self, item: Item, prep: Prepared, frame_bar, allow_defer: bool = True) -> bool:
        """Ingest one prepared file; False when it was deferred (to retry at the end of the run)."""
        if not prep.sha:
            self.report.skipped.append((item.name, prep.error))
            return True
        if self.vault.exists(SAMPLE_PREFIX + prep.sha):
            self.report.already += 1
            self.report.skipped.append((item.name, f"already ingested (same bytes as '{self.names.get(prep.sha, '?')}')"))
            return True
        if prep.error:
            self.report.skipped.append((item.name, prep.error))
            return True
        try:
            if item.is_video:
                with item.open() as fh:
                    self.video(item, prep, fh, frame_bar)
                return True
            return self.photo(item, prep, allow_defer)
        except decode.DecodeError as exc:
            self.report.skipped.append((item.name, str(exc)))
            return True

    def photo(self, item: Item, prep: Prepared, allow_defer: bool) -> bool:
        rgb, cands = None, None
        if isinstance(prep.analysis, np.ndarray):
            rgb = prep.analysis
            width, height, h = rgb.shape[1], rgb.shape[0], phash(rgb)
        else:
            done: PhotoAnalysis = self._worker_result(prep) if hasattr(prep.analysis, "result") else prep.analysis
            if done.error:
                self.report.skipped.append((item.name, done.error))
                return True
            width, height, h, cands = done.width, done.height, done.phash, done.candidates
        dup = find_near_duplicate(h, self.phashes)
        if dup is not None:
            self.report.skipped.append((item.name, f"near-duplicate of '{self.names.get(dup, dup[:12])}'"))
            return True
        found = self.faces_in(rgb, {"width": width, "height": height}, candidates=cands)
        if found.verdict == "unknown":
            if allow_defer:
                return False
            self.report.skipped.append((item.name, found.reason + " (give --reference PHOTO, then ingest again)"))
            return True
        meta = {"phash": f"{h:016x}", "others": found.faces - (found.verdict in ("subject", "doubt", "none"))}
        if found.verdict in ("other", "doubt"):
            self.commit(item, prep.sha, prep.data, prep.size, [], meta, doubts=[found.doubt] if found.doubt else [])
            self.phashes[prep.sha] = h
            (self.report.doubtful if found.verdict == "doubt" else self.report.not_subject).append((item.name, found.note))
            return True
        if found.sample is None:
            self.report.skipped.append((item.name, found.reason))
            return True
        self.commit(item, prep.sha, prep.data, prep.size, [found.sample], meta)
        self.phashes[prep.sha] = h
        s = found.sample
        note = f"{found.note}; quality {s.quality:.2f}" + (f" ({'; '.join(s.info['notes'])})" if s.info["notes"] else "")
        self.report.accepted.append((item.name, note))
        return True

    def _worker_result(self, prep: Prepared) -> PhotoAnalysis:
        from concurrent.futures.process import BrokenProcessPool

        try:
            return prep.analysis.result()
        except BrokenProcessPool:
            self.workers = None
            return analyse_photo(self.analyser, prep.data)

    def video(self, item: Item, prep: Prepared, fh, frame_bar) -> None:
        info = decode.probe_video(fh)
        sampler = FrameSampler(SamplingPolicy.for_video(info.frames / max(info.fps, 1e-3), item.live_photo))
        samples: list[Sample] = []
        doubts: list[Sample] = []
        reasons: dict[str, int] = {}
        checked = decoded = 0
        track: _Track | None = None
        audio, audio_note = None, ""
        if info.has_audio:  # first, so that frames where the person may be speaking are looked at more often
            allowed = self.voice_allowed()
            if allowed is True:
                envelope: list[float] = []
                audio = decode.extract_audio(fh, envelope)
                sampler.talking = talking_mask(envelope)
                audio_note = f"; audio {audio[2]:.1f} s kept" if audio else "; audio track empty"
            else:
                audio_note = f"; audio not kept ({allowed})"
        frame_bar.reset(total=info.frames or None)
        frame_bar.set_description(item.filename[:24])
        for vf in decode.iter_frames_ahead(fh):
            decoded += 1
            frame_bar.update(1)
            if not sampler.wants_landmarks(vf.thumbnail(), vf.time):
                continue
            checked += 1
            frame_info = {"frame": vf.index, "time": round(vf.time, 3), "shot": sampler.shots,
                          "talking": sampler.is_talking(vf.time)}
            found = self.faces_in(vf.rgb(DETECT_MAX_SIDE), frame_info, track)
            if found.sample is not None:
                s = found.sample
                if s.embedding is not None or track is None:
                    track = _Track(sampler.shots, tuple(s.info["bbox"]), vf.time, s.info["distance"] or 0.0)
                else:
                    track = _Track(track.shot, tuple(s.info["bbox"]), track.time, track.distance)
                if sampler.keep(s.landmarks, (s.info["yaw"], s.info["pitch"])):
                    samples.append(s.compact())
                    if sampler.full:
                        break
                continue
            track = None
            if found.doubt is not None:
                doubts = sorted(doubts + [found.doubt.compact()], key=lambda s: s.info["distance"])[:REVIEW_PER_VIDEO]
            key = {"other": "not the subject", "doubt": "doubtful"}.get(found.verdict, found.reason.split(" (")[0])
            reasons[key] = reasons.get(key, 0) + 1
        self.report.frames += decoded
        doubts = doubts if not samples else []
        why = ", ".join(f"{r} ×{n}" for r, n in sorted(reasons.items()))
        if audio is not None and not samples and not doubts and reasons.get("not the subject"):
            audio, audio_note = None, "; audio not kept (only other people are seen: the voice is likely theirs)"
        if not samples and audio is None and not doubts:
            self.report.skipped.append((item.name, f"no usable face of the subject in {checked} checked frame(s) "
                                                   f"({why or 'no frames checked'}){audio_note}"))
            return
        meta = {"fps": info.fps, "frames": decoded, "checked": checked, "shots": sampler.shots,
                "others": reasons.get("not the subject", 0)}
        self.commit(item, prep.sha, fh, prep.size, samples, meta, audio, doubts)
        if doubts:
            self.report.doubtful.append((item.name, f"{len(doubts)} frame(s) with a face that may be the subject"))
        what = (("live photo: " if item.live_photo else "")
                + f"{len(samples)} frame sample(s) from {checked} checked, {sampler.shots} shot(s){audio_note}")
        self.report.accepted.append((item.name, what + (f"; left out: {why}" if why else "")))


def _tracked(found: list, track: _Track | None, info: dict) -> int | None:
    """Index of the face that continues the subject's track in this shot, if recent enough."""
    if track is None or info.get("shot") != track.shot or info.get("time", 0) - track.time > REVERIFY_S:
        return None
    overlaps = [iou(c.face.bbox, track.bbox) for c in found]
    best = int(np.argmax(overlaps))
    return best if overlaps[best] > 0.5 else None


def learn_references(vault, paths: list[Path | str]) -> list[str]:
    """Faces the family confirms as the subject: each reference photo must show exactly one
    face. Their embeddings are stored as confirmed; returns one line per photo."""
    vault.authorize(Action.INGEST)
    run = Ingester(vault)
    lines, confirmed = [], []
    try:
        for item in expand([Path(p) for p in paths]):
            if item.error or item.is_video:
                lines.append(f"  - {item.name}: {item.error or 'a reference must be a photo'}")
                continue
            try:
                rgb = decode.decode_image(item.read())
            except (OSError, ValueError) as exc:
                lines.append(f"  - {item.name}: {exc}")
                continue
            found = run.analyser.find(rgb)
            if len(found) != 1:
                lines.append(f"  - {item.name}: {len(found)} faces; a reference must show the subject alone "
                             "(crop the photo to their face)")
                continue
            confirmed.append(run.analyser.encode(rgb, found[0].bbox))
            lines.append(f"  + {item.name}: the subject's face")
    finally:
        run.analyser.close()
    if not confirmed:
        raise UsageError("no usable reference photo (reasons above):\n" + "\n".join(lines))
    idlib.save_decisions(vault, confirmed=confirmed)
    vault.log("identity_reference", faces=len(confirmed))
    return [f"References     {len(confirmed)} face(s) confirmed as the subject"] + lines


def ingest_paths(vault, paths: list[Path | str], progress: bool = True) -> IngestReport:
    """Ingest files, folders and zip/tar archives into an opened vault; returns what happened.

    Needs Action.INGEST; audio tracks additionally need voice consent (else skipped with
    the reason). Safe to re-run after a crash: finished files are recognised by hash.
    """
    from tqdm import tqdm

    vault.authorize(Action.INGEST)
    items = sorted(expand([Path(p) for p in paths]), key=lambda i: i.is_video)  # photos teach the identity first
    photos = sum(1 for i in items if not i.is_video and not i.error)
    workers = _process_pool() if photos >= PARALLEL_FROM else None
    run = Ingester(vault, workers=workers)
    ahead = PREFETCH if workers is None else 2 * WORKERS
    deferred: list[Item] = []
    with tqdm(total=len(items), desc="files", unit="file", disable=not progress, position=0) as files_bar, \
            tqdm(desc="frames", unit="frame", disable=not progress or not any(i.is_video for i in items),
                 position=1, leave=False) as frame_bar, ThreadPoolExecutor(max_workers=1) as pool:
        futures: dict = {}
        try:
            for k, item in enumerate(items):
                for j in range(k, min(k + ahead + 1, len(items))):
                    if j not in futures:
                        futures[j] = pool.submit(run.prepare, items[j])
                files_bar.set_postfix_str(item.filename[-32:])
                if _run_one(run, item, futures.pop(k).result(), frame_bar, True, deferred):
                    files_bar.update(1)
            for item in deferred:  # group photos met before the subject's face was known
                files_bar.set_postfix_str(item.filename[-32:])
                _run_one(run, item, run.prepare(item), frame_bar, False, [])
                files_bar.update(1)
        finally:
            for f in futures.values():
                f.cancel()
            run.analyser.close()
            if workers is not None:
                workers.shutdown(wait=True, cancel_futures=True)
    r = run.report
    r.identity = run.identity_line()
    vault.log("ingest", files=len(items), accepted=len(r.accepted), skipped=len(r.skipped),
              samples=r.samples, faces=r.faces_found, other_faces=r.other_faces, doubtful=len(r.doubtful),
              audio=r.audio)
    return r


def _process_pool():
    """Worker processes for photo analysis (spawned: the parent's threads and models are not
    fork-safe); None where only one core is available."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    if (os.cpu_count() or 1) < 2:
        return None
    return ProcessPoolExecutor(max_workers=WORKERS, mp_context=multiprocessing.get_context("spawn"))


def _run_one(run: Ingester, item: Item, prep: Prepared, frame_bar, allow_defer: bool, deferred: list) -> bool:
    try:
        done = run.run_item(item, prep, frame_bar, allow_defer)
    except MemorialError:
        raise
    except Exception as exc:  # a decoder bug must not stop the batch
        run.report.skipped.append((item.name, f"unexpected error: {type(exc).__name__}: {exc}"))
        return True
    if not done:
        deferred.append(item)
    return done
