"""`verify`: does a file carry its labels, and did this installation make it?

Per file: C2PA credentials (absent / trusted / untrusted / tampered / expired / unreadable),
the invisible watermark (pictures and sound) and its content id, the AIGC metadata, and
whether the content id is in this installation's export log. `ok` only when the credentials
are trusted, the watermark is found, and its id is in an intact export log.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from assets.errors import MemorialError
from . import audio_mark, credentials, export_log, image_mark, keys, metadata, payload

IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp"}
VIDEO_TYPES = {".mp4": "video/mp4", ".mov": "video/quicktime", ".m4v": "video/mp4"}
AUDIO_TYPES = {".wav": "audio/wav", ".mp3": "audio/mpeg", ".m4a": "audio/mp4", ".aac": "audio/aac",
               ".flac": "audio/flac", ".ogg": "audio/ogg"}
MESH_TYPES = {".glb": "model/gltf-binary", ".obj": "model/obj"}
VIDEO_SAMPLE_FRAMES = 12  # frames whose watermark readings are averaged
VIDEO_MAX_DECODE = 600  # frames decoded at most while sampling


class Unreadable(Exception):
    pass


@dataclass
class VerifyReport:
    path: str
    media_type: str | None = None
    error: str | None = None  # set when the file could not be checked at all
    credentials: str = "absent"
    credentials_detail: str = ""
    manifest_content_id: str | None = None
    watermark_id: str | None = None  # full content id when known, else the audio's 16-hex short id
    watermark_sources: list[str] = field(default_factory=list)  # "image", "audio"
    watermark_method: str = "none"  # "crc", "known-id match", "none"
    watermark_confidence: float = 0.0
    metadata_content_id: str | None = None
    in_export_log: bool = False
    export_entry: dict | None = None  # time, command, kind, file of the first matching export
    exact_export: bool = False  # the file's SHA-256 is one this installation wrote
    export_log_problem: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def watermark_found(self) -> bool:
        return self.watermark_id is not None

    @property
    def ok(self) -> bool:
        if self.error is not None or not self.in_export_log or self.export_log_problem is not None:
            return False
        if self.manifest_content_id not in (None, self.watermark_id):
            return False
        if self.media_type == "model/obj":  # no C2PA, no pixels: the logged hash vouches for it
            return self.exact_export and self.metadata_content_id is not None
        if self.media_type == "model/gltf-binary":  # no C2PA: logged hash + texture watermark
            return self.exact_export and self.watermark_found
        return self.credentials == "trusted" and self.watermark_found

    def to_json(self) -> dict:
        data = asdict(self)
        data["ok"] = self.ok
        data["watermark_found"] = self.watermark_found
        return data

    def line(self) -> str:
        name = Path(self.path).name
        if self.error:
            return f"{name}: FAILED: {self.error}"
        parts = [f"credentials {self.credentials}" + (f" ({self.credentials_detail})" if self.credentials_detail
                                                       and self.credentials != "trusted" else "")]
        if self.media_type == "model/obj":
            parts.append(f"content id {self.metadata_content_id} (metadata; a mesh carries no watermark)")
        elif self.watermark_found:
            parts.append(f"watermark {self.watermark_id} ({'+'.join(self.watermark_sources)}, {self.watermark_method})")
        else:
            parts.append("no watermark found")
        if self.export_log_problem:
            parts.append(f"export log damaged: {self.export_log_problem}")
        elif self.in_export_log:
            entry = self.export_entry or {}
            parts.append(f"exported here {entry.get('time', '?')[:19]} by `{entry.get('command', '?')}`"
                         + ("" if self.exact_export else " (this copy differs from the exported file)"))
        elif self.watermark_found:
            parts.append("not in this installation's export log")
        return f"{name}: {'OK' if self.ok else 'FAILED'}: " + "; ".join(parts + self.notes)


# ----- decoding -------------------------------------------------------------------------------

def _load_image(source, what: str = "image") -> np.ndarray:
    """A file path or file object -> [H,W,3] uint8 RGB."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(source) as image:
            image.load()
            return np.asarray(image.convert("RGB"))
    except (OSError, UnidentifiedImageError, ValueError) as exc:
        raise Unreadable(f"not a readable {what} ({str(exc) or type(exc).__name__})") from None


def _decode_av(path: Path, want_video: bool):
    """(sampled RGB frames, mono audio float32 or None, audio rate) from a container."""
    import av

    frames, audio, rate = [], None, 0
    try:
        with av.open(str(path)) as container:
            if want_video and container.streams.video:
                stream = container.streams.video[0]
                total = stream.frames or 0
                step = max(1, min(total, VIDEO_MAX_DECODE) // VIDEO_SAMPLE_FRAMES) if total else 5
                for i, frame in enumerate(container.decode(stream)):
                    if i % step == 0:
                        frames.append(frame.to_ndarray(format="rgb24"))
                    if len(frames) >= VIDEO_SAMPLE_FRAMES or i >= VIDEO_MAX_DECODE:
                        break
        with av.open(str(path)) as container:
            if container.streams.audio:
                stream = container.streams.audio[0]
                rate = stream.rate
                chunks = []
                resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
                for frame in container.decode(stream):
                    for out in resampler.resample(frame):
                        chunks.append(out.to_ndarray().reshape(-1))
                for out in resampler.resample(None):
                    chunks.append(out.to_ndarray().reshape(-1))
                audio = np.concatenate(chunks).astype(np.float32) if chunks else None
    except (av.error.FFmpegError, ValueError) as exc:
        raise Unreadable(f"not a readable media file ({exc})") from None
    if want_video and not frames:
        raise Unreadable("no video frames could be decoded (truncated or damaged)")
    return frames, audio, rate


# ----- the check --------------------------------------------------------------------------------

def verify_file(path: str | Path) -> VerifyReport:
    path = Path(path)
    report = VerifyReport(path=str(path))
    suffix = path.suffix.lower()
    media_type = (IMAGE_TYPES.get(suffix) or VIDEO_TYPES.get(suffix) or AUDIO_TYPES.get(suffix)
                  or MESH_TYPES.get(suffix))
    if media_type is None:
        readable = sorted((set(IMAGE_TYPES) | set(VIDEO_TYPES) | set(AUDIO_TYPES)) - {".png", ".mp4", ".wav"})
        report.error = (f"unsupported file type '{suffix or '(none)'}': Memorial VR writes .mp4, .png, .wav, "
                        f".glb and .obj (verify also reads re-encoded copies: {', '.join(readable)})")
        return report
    report.media_type = media_type
    if not path.is_file():
        report.error = "no such file"
        return report

    log = export_log.read()
    report.export_log_problem = log.problem
    known_ids = tuple(dict.fromkeys(e["content_id"] for e in log.entries))

    if suffix in MESH_TYPES:
        report.credentials = "not-applicable"
        report.credentials_detail = "C2PA cannot sign glTF/OBJ; checked against the export log's hash"
    else:
        cred = credentials.check(path, media_type, keys.trust_anchor_pem())
        report.credentials, report.credentials_detail = cred.state, cred.detail
        report.manifest_content_id = cred.content_id

    meta = metadata.read(path, media_type)
    if meta and isinstance(meta.get(metadata.KEY), dict):
        report.metadata_content_id = meta[metadata.KEY].get("ProduceID")

    try:
        if suffix in IMAGE_TYPES:
            _image_watermark(report, [_load_image(path)], known_ids)
        elif suffix == ".glb":
            try:
                textures = [_load_image(io.BytesIO(b), "embedded texture") for b in metadata.glb_images(path)]
            except MemorialError as exc:
                raise Unreadable(str(exc)) from None
            for texture in textures:
                if report.watermark_id is None:
                    _image_watermark(report, [texture], known_ids)
        elif suffix == ".obj":
            if report.metadata_content_id is None:
                raise Unreadable("not an OBJ file written by Memorial VR (no AIGC header)")
        else:
            frames, audio, rate = _decode_av(path, want_video=suffix in VIDEO_TYPES)
            if frames:
                _image_watermark(report, frames, known_ids)
            if audio is not None and len(audio):
                _audio_watermark(report, audio, rate, known_ids)
            elif suffix in AUDIO_TYPES:
                raise Unreadable("no audio could be decoded (truncated or damaged)")
    except Unreadable as exc:
        report.error = str(exc)
        return report

    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    lookup_id = report.watermark_id if report.watermark_id and len(report.watermark_id) == 36 else None
    if lookup_id is None and suffix == ".obj":
        lookup_id = report.metadata_content_id
    matches = [e for e in log.entries if lookup_id and e["content_id"] == lookup_id]
    if matches:
        report.in_export_log = True
        exact = [e for e in matches if e.get("sha256") == digest]
        report.exact_export = bool(exact)
        entry = (exact or matches)[0]
        report.export_entry = {k: entry.get(k) for k in ("time", "command", "kind", "file", "media_type")}
    if report.manifest_content_id and report.watermark_id and report.manifest_content_id != report.watermark_id:
        report.notes.append(f"credentials name content id {report.manifest_content_id}, the watermark another")
    return report


def _image_watermark(report: VerifyReport, frames: list[np.ndarray], known_ids: tuple[str, ...]) -> None:
    if min(frames[0].shape[:2]) < image_mark.MIN_SIDE:
        report.notes.append("picture too small to carry a watermark")
        return
    found = image_mark.detect(frames, known_ids)
    report.watermark_confidence = max(report.watermark_confidence, found.confidence)
    if found.content_id:
        report.watermark_id = found.content_id
        report.watermark_sources.append("image")
        report.watermark_method = found.method


def _audio_watermark(report: VerifyReport, audio: np.ndarray, rate: int, known_ids: tuple[str, ...]) -> None:
    shorts = {payload.short_id(k): k for k in known_ids}
    found = audio_mark.detect(audio, rate, tuple(shorts))
    if not found.short_id:
        return
    full = shorts.get(found.short_id)
    if report.watermark_id is None:
        report.watermark_id = full or found.short_id
        report.watermark_method = found.method
        report.watermark_confidence = max(report.watermark_confidence, found.confidence)
    elif report.watermark_id[:18].replace("-", "") != found.short_id:
        report.notes.append(f"the sound carries another content id ({found.short_id})")
        return
    report.watermark_sources.append("audio")
