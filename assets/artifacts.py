"""The typed artifacts that pass between stages, each with a versioned byte format.

All are numpy-only (no torch), so the Panda3D runtime can load them. `to_bytes()` gives
an .npz payload with a JSON `meta` entry carrying `format` and `version`; the vault
stores it under the key conventions in `KEYS`.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field, fields

import numpy as np

from . import expression
from .errors import MemorialError

KEYS = {
    "dataset": "dataset/current",  # SubjectDataset
    "head": "head/current",  # HeadModel
    "track": "track/{name}",  # ExpressionTrack
    "frames": "frames/{name}",  # FrameSequence
    "checkpoint": "checkpoint/{name}",  # GeneratorCheckpoint (torch; see generation.gan)
    "bust": "bust/current",  # BustModel (hair and upper body, detailed face texture)
    "profile": "profile/current",  # SubjectProfile (the few fields of the dataset that later stages read)
    "lipsync": "lipsync/current",  # the subject's audio -> expression model (torch; see generation.speech)
}


class ArtifactError(MemorialError, ValueError):
    """A stored artifact cannot be read (wrong format, version or expression code): one line, exit 1."""


def _pack(kind: str, version: int, meta: dict, arrays: dict[str, np.ndarray], coded: bool = True) -> bytes:
    """`coded` artifacts record the expression code's names, so a changed code is refused on load."""
    buf = io.BytesIO()
    if coded:
        meta = {**meta, "code_names": list(expression.NAMES)}
    header = json.dumps({"format": kind, "version": version, **meta}, ensure_ascii=False)
    np.savez(buf, __meta__=np.frombuffer(header.encode("utf-8"), dtype=np.uint8), **arrays)
    return buf.getvalue()


def _unpack(data: bytes, kind: str, version: int, coded: bool = True) -> tuple[dict, dict[str, np.ndarray]]:
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
        meta = json.loads(arrays.pop("__meta__").tobytes().decode("utf-8"))
    except (ValueError, OSError, KeyError) as exc:
        raise ArtifactError(f"not a {kind} artifact: {exc}") from None
    if meta.get("format") != kind:
        raise ArtifactError(f"expected a {kind} artifact, got {meta.get('format')!r}")
    if meta.get("version") != version:
        raise ArtifactError(f"{kind} version {meta.get('version')} is not supported (this program reads {version})")
    if coded and meta.get("code_names") != list(expression.NAMES):
        raise ArtifactError(f"this {kind} was made with another expression code; make it again")
    return meta, arrays


@dataclass
class SubjectDataset:
    """Per sample: aligned crop, landmarks, pose, expression code, UV texture + mask, quality."""

    crops: np.ndarray  # [N,S,S,3] uint8 aligned face crops
    landmarks: np.ndarray  # [N,478,3] float32, in aligned-crop pixels (z in the same scale)
    pose: np.ndarray  # [N,6] float32: yaw, pitch, roll (degrees), tx, ty, scale
    codes: np.ndarray  # [N,E] float32 expression codes
    uv: np.ndarray  # [N,H,W,3] uint8 face texture in the head's UV space
    mask: np.ndarray  # [N,H,W] uint8, 255 = texel seen in this sample
    quality: np.ndarray  # [N] float32 0..1
    synthetic: np.ndarray  # [N] bool: rendered in single-photo mode, not a real photo
    source_ids: list[str]  # [N] vault key of the original (plus "#frame" for video frames)
    calibration: dict = field(default_factory=dict)  # per-subject control ranges, PCA, etc.

    FORMAT = "SubjectDataset"
    VERSION = 1

    def __post_init__(self) -> None:
        n = len(self.crops)
        assert self.crops.ndim == 4 and self.crops.shape[-1] == 3 and self.crops.dtype == np.uint8
        assert self.landmarks.shape == (n, 478, 3), self.landmarks.shape
        assert self.pose.shape == (n, 6) and self.codes.shape == (n, expression.E)
        assert self.uv.shape[0] == n and self.uv.shape[-1] == 3 and self.uv.dtype == np.uint8
        assert self.mask.shape == self.uv.shape[:3] and self.quality.shape == (n,)
        assert self.synthetic.shape == (n,) and len(self.source_ids) == n

    def __len__(self) -> int:
        return len(self.crops)

    def to_bytes(self) -> bytes:
        meta = {"source_ids": self.source_ids, "calibration": self.calibration}
        arrays = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("source_ids", "calibration")}
        return _pack(self.FORMAT, self.VERSION, meta, arrays)

    @classmethod
    def from_bytes(cls, data: bytes) -> "SubjectDataset":
        meta, a = _unpack(data, cls.FORMAT, cls.VERSION)
        return cls(source_ids=meta["source_ids"], calibration=meta["calibration"], **a)


@dataclass
class HeadModel:
    """The subject's neutral head with one UV layout and one blendshape per code entry."""

    vertices: np.ndarray  # [V,3] float32, metres, +x = subject's left, +y up, +z forward (out of the face)
    faces: np.ndarray  # [F,3] int32
    uvs: np.ndarray  # [V,2] float32 in 0..1, origin bottom-left (OpenGL convention)
    blendshapes: np.ndarray  # [E,V,3] float32 vertex offsets at code value 1 (or +1 for signed controls)
    landmark_vertices: np.ndarray  # [478] int32: vertex index of each face-mesh landmark
    regions: dict = field(default_factory=dict)  # name -> list of vertex ids (eyes, mouth, neck, ...)
    meta: dict = field(default_factory=dict)  # eye centres, how each blendshape was obtained, ...
    # [S,V,3] float32 or None: the semantic shapes as the data's joint fit gave them, where the
    # shown ones were rescaled to move their own measure by their code (see `reconstruct`)
    fitted_shapes: np.ndarray | None = None
    # [P,V,3] float32 or None: for each left/right pair in meta["pairs"] (names), the motion the pair shows
    # only while both move, weighted by the smaller code (`pair_weights`); each one alone moves its own side
    pair_shapes: np.ndarray | None = None

    FORMAT = "HeadModel"
    VERSION = 1

    def __post_init__(self) -> None:
        v = len(self.vertices)
        assert self.vertices.shape == (v, 3) and self.faces.ndim == 2 and self.faces.shape[1] == 3
        assert self.uvs.shape == (v, 2) and self.blendshapes.shape == (expression.E, v, 3)
        assert self.landmark_vertices.shape == (478,)
        if self.fitted_shapes is not None:
            assert self.fitted_shapes.shape == (len(expression.SEMANTIC), v, 3), self.fitted_shapes.shape
        if self.pair_shapes is not None:
            assert self.pair_shapes.shape == (len(self.meta.get("pairs", ())), v, 3), self.pair_shapes.shape

    def shown_code(self, code: np.ndarray) -> np.ndarray:
        """The code [E] whose blendshapes the head shows for `code` [E].

        Funnel is read as lips narrowing AND parting, and the parting is the jaw's measure, so in
        real data the jaw always carries a funnel's parting and the fitted funnel shape only narrows.
        Shown alone it would look like a pucker: the jaw opens at least as far as the funnel's
        parting needs (meta "funnel_parts_jaw": jaw code per funnel code; absent on older heads).
        Her real frames already have that much jaw, so they are shown as before."""
        code = np.asarray(code, dtype=np.float32)
        k = float(self.meta.get("funnel_parts_jaw", 0.0))
        jaw, funnel = expression.index("jaw_open"), expression.index("mouth_funnel")
        if k <= 0 or code[funnel] * k <= code[jaw]:
            return code
        shown = code.copy()
        shown[jaw] = code[funnel] * k
        return shown

    def deform(self, code: np.ndarray) -> np.ndarray:
        """Vertices for one code [E] -> [V,3], as the head shows it (`shown_code`, `pair_weights`)."""
        verts = self._blend(self.shown_code(code))
        if self.pair_shapes is not None:
            verts += np.tensordot(self.pair_weights(code), self.pair_shapes, axes=1)
        return verts

    def pair_weights(self, code: np.ndarray) -> np.ndarray:
        """[P] weight of each pair's shape in `pair_shapes` for a code [E]: the smaller of its two codes (both
        at c show c x the pair's joint motion, one alone only its own side); [0] on heads without pairs."""
        code = np.asarray(code, dtype=np.float32)
        pairs = self.meta.get("pairs", [])
        return np.array([min(code[expression.index(a)], code[expression.index(b)]) for a, b in pairs], np.float32)

    def reconstruct(self, code: np.ndarray) -> np.ndarray:
        """Vertices [V,3] of a real face measured as `code` [E], as the data's joint fit rebuilds it.

        Unwrapping a frame's texture uses this (the jointly fitted shapes reproduce her real
        combinations of controls best); `deform` is what the head shows for a code. The plain linear
        blend of the shown shapes for a head whose shapes were not rescaled. Gaze is rebuilt from her
        median frame's eyes, as fitted (meta "gaze_zero": the codes her rest eyes read, added back)."""
        code = np.asarray(code, dtype=np.float32)
        zero = self.meta.get("gaze_zero")
        if zero is not None:
            code = code.copy()
            code[list(expression.GAZE)] += np.asarray(zero, np.float32)
        return self._blend(code, self.fitted_shapes)

    def _blend(self, code: np.ndarray, semantic: np.ndarray | None = None) -> np.ndarray:
        """The rest vertices moved by `code` [E] -> [V,3] (a new array), with `semantic` [S,V,3] in
        place of the first S blendshapes when given."""
        code = np.asarray(code, dtype=np.float32)
        assert code.shape == (expression.E,), code.shape
        active = np.nonzero(code)[0]  # codes are mostly sparse: skip the zero blendshapes
        shapes = self.blendshapes[active]  # a copy (fancy indexing)
        if semantic is not None:
            own = active < len(semantic)
            shapes[own] = semantic[active[own]]
        return self.vertices + np.tensordot(code[active], shapes, axes=1)

    def to_bytes(self) -> bytes:
        arrays = {k: getattr(self, k) for k in ("vertices", "faces", "uvs", "blendshapes", "landmark_vertices")}
        for name in ("fitted_shapes", "pair_shapes"):
            if getattr(self, name) is not None:
                arrays[name] = getattr(self, name)
        return _pack(self.FORMAT, self.VERSION, {"regions": self.regions, "meta": self.meta}, arrays)

    @classmethod
    def from_bytes(cls, data: bytes) -> "HeadModel":
        meta, a = _unpack(data, cls.FORMAT, cls.VERSION)
        return cls(regions=meta["regions"], meta=meta["meta"], **a)


@dataclass
class ExpressionTrack:
    """Codes, head pose, audio and the phoneme/viseme timeline on one clock."""

    fps: float
    codes: np.ndarray  # [T,E] float32
    pose: np.ndarray  # [T,6] float32: yaw, pitch, roll (degrees), x, y, z offsets (metres)
    source: str  # "text" | "recording" | "video" | "idle"
    audio: np.ndarray | None = None  # [S] float32 mono, -1..1, starting at t=0
    sample_rate: int = 0
    phonemes: list[tuple[float, float, str, str]] = field(default_factory=list)  # (start s, end s, phoneme, viseme)
    text: str = ""
    meta: dict = field(default_factory=dict)

    FORMAT = "ExpressionTrack"
    VERSION = 1

    def __post_init__(self) -> None:
        t = len(self.codes)
        assert self.fps > 0 and self.codes.shape == (t, expression.E), self.codes.shape
        assert self.pose.shape == (t, 6), self.pose.shape
        assert self.audio is None or (self.audio.ndim == 1 and self.sample_rate > 0)

    @property
    def duration(self) -> float:
        return len(self.codes) / self.fps

    def code_at(self, t: float) -> np.ndarray:
        """Linearly interpolated code at time t seconds, [E]."""
        x = np.clip(t * self.fps, 0, len(self.codes) - 1)
        i = int(np.floor(x))
        j = min(i + 1, len(self.codes) - 1)
        w = np.float32(x - i)
        return (1 - w) * self.codes[i] + w * self.codes[j]

    def to_bytes(self) -> bytes:
        arrays = {"codes": self.codes.astype(np.float32), "pose": self.pose.astype(np.float32)}
        if self.audio is not None:
            arrays["audio"] = self.audio.astype(np.float32)
        meta = {"fps": self.fps, "source": self.source, "sample_rate": self.sample_rate,
                "phonemes": [list(p) for p in self.phonemes], "text": self.text, "meta": self.meta}
        return _pack(self.FORMAT, self.VERSION, meta, arrays)

    @classmethod
    def from_bytes(cls, data: bytes) -> "ExpressionTrack":
        meta, a = _unpack(data, cls.FORMAT, cls.VERSION)
        return cls(fps=meta["fps"], codes=a["codes"], pose=a["pose"], source=meta["source"], audio=a.get("audio"),
                   sample_rate=meta["sample_rate"], phonemes=[tuple(p) for p in meta["phonemes"]],
                   text=meta["text"], meta=meta["meta"])


@dataclass
class FrameSequence:
    """The generated face textures for a track, in the head's UV space."""

    fps: float
    frames: np.ndarray  # [T,H,W,3] uint8
    meta: dict = field(default_factory=dict)  # checkpoint id, track name, ...

    FORMAT = "FrameSequence"
    VERSION = 1

    def __post_init__(self) -> None:
        assert self.fps > 0 and self.frames.ndim == 4 and self.frames.shape[-1] == 3 and self.frames.dtype == np.uint8

    def to_bytes(self) -> bytes:
        return _pack(self.FORMAT, self.VERSION, {"fps": self.fps, "meta": self.meta}, {"frames": self.frames},
                     coded=False)

    @classmethod
    def from_bytes(cls, data: bytes) -> "FrameSequence":
        meta, a = _unpack(data, cls.FORMAT, cls.VERSION, coded=False)
        return cls(fps=meta["fps"], frames=a["frames"], meta=meta["meta"])


@dataclass
class BustModel:
    """Hair and upper body as a textured shell lifted from the person's best photo, and a detailed,
    completed face texture for the HeadModel it was fitted with (see generation.face.bust)."""

    vertices: np.ndarray  # [V,3] float32, head metres (HeadModel axes)
    faces: np.ndarray  # [F,3] int32
    uvs: np.ndarray  # [V,2] float32, origin bottom-left, into `texture`
    follow: np.ndarray  # [V] float32 0..1: how much a vertex turns with the head (hair 1, shoulders 0)
    texture: np.ndarray  # [H,W,4] uint8 RGBA: photo (left half) | hair-filled back (right half)
    face_texture: np.ndarray  # [S,S,3] uint8 face texture in the head's UV space, never-seen texels filled
    face_detail: np.ndarray  # [S,S] uint8 255 = texel seen sharply: generator frames get this detail on top
    backdrop: np.ndarray  # [h,w,3] uint8 the source photo with the person painted out (living portrait)
    meta: dict = field(default_factory=dict)  # source photo id, pose, head sha256, ...
    # [2,S,S,3] uint8 or None: the face texture with her turned pictures' texels on one side, [0] the
    # subject's right (-x), [1] her left (+x); shown as a view sees that side (vr_app.bust_shell)
    side_textures: np.ndarray | None = None
    # [2,H,W/2,3] uint8 or None: the shell's front (texture[:, :W/2, :3]) with the texels its pictures saw only
    # edge-on refilled on one side, [0] the subject's right (-x), [1] her left (+x); shown as a view sees that
    # side (from the photo's own direction those texels are right as they are). [2,H,W/2,4] with the front's
    # alpha as each side shows it (0 where a side hides what the photo drew: the far ear's strip under the
    # mirrored ear)
    shell_sides: np.ndarray | None = None

    FORMAT = "BustModel"
    VERSION = 1

    def __post_init__(self) -> None:
        v = len(self.vertices)
        assert self.vertices.shape == (v, 3) and self.faces.ndim == 2 and self.faces.shape[1] == 3
        assert self.uvs.shape == (v, 2) and self.follow.shape == (v,)
        assert self.texture.ndim == 3 and self.texture.shape[2] == 4 and self.texture.dtype == np.uint8
        s = self.face_texture.shape[0]
        assert self.face_texture.shape == (s, s, 3) and self.face_texture.dtype == np.uint8
        assert self.face_detail.shape == (s, s) and self.face_detail.dtype == np.uint8
        assert self.backdrop.ndim == 3 and self.backdrop.shape[2] == 3 and self.backdrop.dtype == np.uint8
        if self.side_textures is not None:
            assert self.side_textures.shape == (2, s, s, 3) and self.side_textures.dtype == np.uint8
        if self.shell_sides is not None:
            h, w = self.texture.shape[:2]
            assert self.shell_sides.shape[:3] == (2, h, w // 2) and self.shell_sides.shape[3] in (3, 4)
            assert self.shell_sides.ndim == 4 and self.shell_sides.dtype == np.uint8

    def to_bytes(self) -> bytes:
        arrays = {k: getattr(self, k) for k in ("vertices", "faces", "uvs", "follow", "texture", "face_texture",
                                                 "face_detail", "backdrop")}
        if self.side_textures is not None:  # older busts have none: they load with None
            arrays["side_textures"] = self.side_textures
        if self.shell_sides is not None:
            arrays["shell_sides"] = self.shell_sides
        return _pack(self.FORMAT, self.VERSION, {"meta": self.meta}, arrays, coded=False)

    @classmethod
    def from_bytes(cls, data: bytes) -> "BustModel":
        meta, a = _unpack(data, cls.FORMAT, cls.VERSION, coded=False)
        return cls(meta=meta["meta"], **a)


@dataclass
class SubjectProfile:
    """What the runtime and the speech stages need from the dataset, written with it at fit time, so
    none of them decrypts every crop and texture to read one field."""

    calibration: dict  # per-subject control ranges (as in SubjectDataset.calibration)
    codes: np.ndarray  # [N,E] float32: the subject's own expression codes (retargeting a driver)
    best_texture: np.ndarray  # [H,W,3] uint8: the best real sample's UV texture (the room's fallback face)
    best_source: str = ""  # vault key of that sample's original

    FORMAT = "SubjectProfile"
    VERSION = 1

    def __post_init__(self) -> None:
        assert self.codes.ndim == 2 and self.codes.shape[1] == expression.E, self.codes.shape
        assert self.best_texture.ndim == 3 and self.best_texture.shape[2] == 3 and self.best_texture.dtype == np.uint8

    @classmethod
    def of(cls, ds: "SubjectDataset") -> "SubjectProfile":
        real = np.where(~ds.synthetic)[0]
        pool = real if len(real) else np.arange(len(ds))
        best = int(pool[np.argmax(ds.quality[pool])])
        return cls(ds.calibration, np.asarray(ds.codes, np.float32), np.ascontiguousarray(ds.uv[best]),
                   ds.source_ids[best])

    def to_bytes(self) -> bytes:
        return _pack(self.FORMAT, self.VERSION, {"calibration": self.calibration, "best_source": self.best_source},
                     {"codes": self.codes, "best_texture": self.best_texture})

    @classmethod
    def from_bytes(cls, data: bytes) -> "SubjectProfile":
        meta, a = _unpack(data, cls.FORMAT, cls.VERSION)
        return cls(meta["calibration"], a["codes"], a["best_texture"], meta.get("best_source", ""))

