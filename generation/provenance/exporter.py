"""The one export path: every file that shows or voices the person goes through an Exporter.

    ex = Exporter(vault, command="render", kind="video")
    frame = ex.mark_image(frame, face_box=(x0, y0, x1, y1))   # each frame: label + watermark
    audio = ex.mark_audio(audio, 22050)                       # spoken notice + watermark
    ... write the mp4 ...
    ex.finalize("out.mp4")                                    # metadata, C2PA, logs

There is deliberately no option to skip a step: `finalize` refuses a file whose pictures or
sound did not pass through `mark_image` / `mark_audio` (it counts the calls; it does not decode
the written file to look for the watermark).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assets.errors import MemorialError, UsageError
from . import audio_mark, credentials, export_log, image_mark, keys, label, metadata, notice

WRITES = {".png": "image/png", ".mp4": "video/mp4", ".wav": "audio/wav", ".glb": "model/gltf-binary",
          ".obj": "model/obj"}
SIGNED = ("image/png", "video/mp4", "audio/wav")  # what c2pa-python can sign; meshes rely on the export log
KINDS = ("video", "image", "audio", "contact_sheet", "mesh")
FACE_RECHECK_FRAMES = 15  # video: look for the face again every N frames when no box is given


@dataclass(frozen=True)
class ExportRecord:
    path: Path
    content_id: str
    sha256: str
    media_type: str


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def media_type_for(path: Path) -> str:
    media_type = WRITES.get(path.suffix.lower())
    if media_type is None:
        raise UsageError(f"{path.name}: Memorial VR exports only {', '.join(WRITES)} files")
    return media_type


class Exporter:
    """Labels, watermarks, signs and logs one piece of content (one content id).

    Several files may share the id (an mp4 and its wav); each gets its own log lines.
    Creating one checks the member may export (role and the consent's video_export scope).
    """

    def __init__(self, vault, command: str, kind: str = "video", locale: str | None = None,
                 notice_text: str | None = None):
        if kind not in KINDS:
            raise UsageError(f"unknown export kind {kind!r} (one of {', '.join(KINDS)})")
        from ..vault.roles import Action

        vault.authorize(Action.EXPORT_VIDEO)  # every export needs the export scope, whatever the command checked
        self.vault = vault
        self.command = command
        self.kind = kind
        self.content_id = str(uuid.uuid4())
        self.language = label.language(locale)
        self._notice_text = notice.notice_text(self.language, notice_text)  # fail early on a bad wording
        self.images_marked = 0
        self.audio_marked = 0
        self.notice_engine: str | None = None
        self.label_box: tuple[int, int, int, int] | None = None
        self._detector = None
        self._face_box = None
        self._frames_since_face = 0
        self.records: list[ExportRecord] = []
        self._marker = image_mark.FrameMarker(self.content_id)  # reuses unchanged blocks between frames

    # ----- pictures ---------------------------------------------------------------------------

    def _find_face(self, rgb: np.ndarray):
        """Largest face box from mediapipe, re-checked every few frames of a video."""
        if self.kind == "video" and self._frames_since_face < FACE_RECHECK_FRAMES and self.images_marked:
            self._frames_since_face += 1
            return self._face_box
        if self._detector is None:
            from ..face.landmarks import LandmarkDetector

            self._detector = LandmarkDetector(max_faces=1, static_images=self.kind != "video")
        faces = self._detector.detect(np.ascontiguousarray(rgb))
        self._face_box = faces[0].bbox if faces else None
        self._frames_since_face = 0
        return self._face_box

    def mark_image(self, rgb: np.ndarray, face_box: tuple[float, float, float, float] | None = None,
                   find_face: bool = True) -> np.ndarray:
        """[H,W,3] uint8 -> labelled, watermarked copy. Without `face_box` the face is found with
        mediapipe (pass find_face=False for pictures with no face, e.g. a texture atlas)."""
        image_mark.check_size(rgb)
        if face_box is None and find_face:
            face_box = self._find_face(rgb)
        labelled, self.label_box = label.draw(rgb, self.language, face_box)
        self.images_marked += 1
        return self._marker.mark(labelled)

    def mark_texture(self, rgb: np.ndarray) -> np.ndarray:
        """A face texture for a mesh export [H,W,3] uint8 -> watermarked copy, without the visible
        label (it would be painted onto the head); the mesh file says it in its metadata, and the
        viewer shows the label whenever the head is displayed."""
        image_mark.check_size(rgb)
        self.images_marked += 1
        return image_mark.embed(rgb, self.content_id)

    def write_png(self, path: str | Path, rgb: np.ndarray, face_box=None, find_face: bool = True) -> ExportRecord:
        from PIL import Image

        path = Path(path)
        media_type_for(path)
        marked = self.mark_image(rgb, face_box=face_box, find_face=find_face)
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(marked).save(path, format="PNG")
        return self.finalize(path, "image/png")

    # ----- sound ------------------------------------------------------------------------------

    def mark_audio(self, samples: np.ndarray, sample_rate: int) -> np.ndarray:
        """float32 mono [S] -> [notice + gap + S] float32 at the same rate, watermarked."""
        samples = np.asarray(samples, dtype=np.float32)
        if samples.ndim != 1:
            raise UsageError(f"mark_audio wants mono samples [S], got shape {samples.shape}")
        spoken, _, self.notice_engine = notice.spoken(self.language, sample_rate, self._notice_text)
        full = np.concatenate([spoken, samples])
        self.audio_marked += 1
        return audio_mark.embed(full, sample_rate, self.content_id)

    def write_wav(self, path: str | Path, samples: np.ndarray, sample_rate: int) -> ExportRecord:
        import soundfile as sf

        path = Path(path)
        media_type_for(path)
        marked = self.mark_audio(samples, sample_rate)
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(path, marked, sample_rate, subtype="PCM_16", format="WAV")
        return self.finalize(path, "audio/wav")

    # ----- finishing --------------------------------------------------------------------------

    def _check_marked(self, path: Path, media_type: str) -> None:
        if media_type in ("image/png", "video/mp4", "model/gltf-binary", "model/obj") and not self.images_marked:
            raise MemorialError(f"{path.name}: its pictures did not go through Exporter.mark_image (or mark_texture)")
        if media_type == "audio/wav" and not self.audio_marked:
            raise MemorialError(f"{path.name}: its sound did not go through Exporter.mark_audio")
        if media_type == "video/mp4" and _has_audio(path) and not self.audio_marked:
            raise MemorialError(f"{path.name}: its sound track did not go through Exporter.mark_audio")

    def finalize(self, path: str | Path, media_type: str | None = None) -> ExportRecord:
        """Add the AIGC metadata, sign `path` in place with C2PA (png, mp4, wav; c2pa has no glTF/OBJ
        support, so meshes are vouched for by their hash in the authenticated export log), and log
        the export (installation log and the subject's audit log). Returns the record with the
        final file's SHA-256."""
        path = Path(path)
        media_type = media_type or media_type_for(path)
        if media_type not in WRITES.values():
            raise UsageError(f"{path.name}: cannot finalize {media_type} (exports are {', '.join(WRITES.values())})")
        if not path.is_file():
            raise UsageError(f"{path}: no such file to finalize")
        self._check_marked(path, media_type)
        metadata.write(path, media_type, self.content_id)
        if media_type in SIGNED:
            identity = keys.signing_identity()
            consent_hash = hashlib.sha256(self.vault.consent.canonical_bytes()).hexdigest()
            manifest = credentials.manifest(path.name, self.content_id, consent_hash, self.kind, self.command)
            credentials.sign_in_place(path, media_type, manifest, identity.chain_pem, identity.key_pem)
        record = _log_export(self.vault, path, self.content_id, self.command, self.kind, media_type)
        self.records.append(record)
        return record

    def close(self) -> None:
        if self._detector is not None:
            self._detector.close()
            self._detector = None

    def __enter__(self) -> "Exporter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _has_audio(path: Path) -> bool:
    import av

    try:
        with av.open(str(path)) as container:
            return bool(container.streams.audio)
    except av.error.FFmpegError as exc:
        raise UsageError(f"{path.name}: not a readable mp4 ({exc})") from None


DOCUMENTS = {".pdf": "application/pdf", ".html": "text/html"}


def export_document(vault, path: str | Path, data: bytes, command: str, kind: str = "report") -> ExportRecord:
    """Write a document about the subject that shows no likeness (a session report): nothing
    to label or watermark, but its hash goes into the export log and the subject's audit log
    like every other export. The caller has checked the member may make it."""
    path = Path(path)
    media_type = DOCUMENTS.get(path.suffix.lower())
    if media_type is None:
        raise UsageError(f"{path.name}: documents are exported as {', '.join(DOCUMENTS)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return _log_export(vault, path, str(uuid.uuid4()), command, kind, media_type)


def _log_export(vault, path: Path, content_id: str, command: str, kind: str, media_type: str) -> ExportRecord:
    """The written file's hash into the installation's export log and the subject's audit log."""
    digest = _sha256(path)
    when = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    export_log.append({"content_id": content_id, "sha256": digest, "command": command, "kind": kind,
                       "media_type": media_type, "vault_id": vault.vault_id, "member": vault.member,
                       "file": path.name, "time": when})
    vault.log("export", content_id=content_id, sha256=digest, command=command, kind=kind,
              media_type=media_type, file=path.name, member=vault.member)
    return ExportRecord(path=path, content_id=content_id, sha256=digest, media_type=media_type)
