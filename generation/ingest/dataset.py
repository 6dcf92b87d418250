"""`fit_subject`: the stored face samples -> SubjectDataset and HeadModel in the vault.

Steps: gather the stored samples -> calibration + head (generation.face.pipeline.fit_subject)
-> in single-photo mode, a synthetic album rendered from the photo-textured head and fed
back through the same landmark pipeline, then calibration + head again -> per sample the
aligned crop, code, pose, UV texture + mask (generation.face.pipeline.process_face).
The geometry itself lives in generation.face; this module only orchestrates and stores.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass

import numpy as np

from assets import expression
from assets.artifacts import KEYS, HeadModel, SubjectDataset, SubjectProfile
from assets.errors import MemorialError
from ..vault.roles import Action
from .records import Sample, load_records

COVERAGE_SPAN = 0.25  # a control counts as covered when the data spans at least this much of it


class NoSamples(MemorialError):
    """Nothing usable has been ingested yet."""


@dataclass
class FitConfig:
    crop_size: int = 256  # aligned crop side
    uv_size: int = 256  # UV texture side
    album_size: int = 24  # synthetic renders in single-photo mode
    seed: int = 0
    register: bool = False  # resample each real unwrap onto a shared reference (generation.face.register);
    # off by default: on the shared clip it cost 0.3 dB against her real held-out frames on the head
    dense_video_frames: int = 300  # per stored video, frames ingest skipped that join the texture data (0 = none)


def _gather(vault) -> list[tuple[str, Sample]]:
    out = []
    for rec in load_records(vault):
        for s in rec.samples:
            sid = rec.source + (f"#{s.info['frame']}" if "frame" in s.info else "")
            out.append((sid, s))
    return out


def _album(vault, best: Sample, head: HeadModel, cfg: FitConfig, progress: bool) -> list[tuple[str, Sample]]:
    """Single-photo mode: re-render the photo-textured head and detect landmarks on the renders."""
    from tqdm import tqdm

    from ..face.single_photo import synthesize_album
    from .pipeline import Ingester

    renders = synthesize_album(best.crop, best.landmarks, head, cfg.album_size, cfg.seed)
    finder = Ingester(vault, check_identity=False)
    out = []
    try:
        for k, rgb in enumerate(tqdm(renders, desc="album", unit="render", disable=not progress, leave=False)):
            sample = finder.faces_in(np.ascontiguousarray(rgb, dtype=np.uint8), {"render": k}).sample
            if sample is not None:
                sample.info["synthetic"] = True
                out.append((f"synthetic#{k}", sample))
    finally:
        finder.analyser.close()
    return out


def build_dataset(samples: list[tuple[str, Sample]], geometry, cfg: FitConfig, progress: bool = False) -> SubjectDataset:
    """The dataset from samples whose crops and landmarks are in source-crop pixels, through
    geometry's per-face step (align, code, pose, unwrap)."""
    from tqdm import tqdm

    from ..face.pipeline import process_face

    n, size = len(samples), cfg.crop_size
    crops = np.zeros((n, size, size, 3), np.uint8)
    landmarks = np.zeros((n, 478, 3), np.float32)
    pose = np.zeros((n, 6), np.float32)
    codes = np.zeros((n, expression.E), np.float32)
    uv = np.zeros((n, cfg.uv_size, cfg.uv_size, 3), np.uint8)
    mask = np.zeros((n, cfg.uv_size, cfg.uv_size), np.uint8)
    any_colour = any(s.info.get("colour", True) for _, s in samples)
    for i, (_, s) in enumerate(tqdm(samples, desc="unwrap", unit="face", disable=not progress, leave=False)):
        f = process_face(s.crop, s.landmarks, geometry, size=size, uv_size=cfg.uv_size)
        crops[i], landmarks[i], pose[i], codes[i], uv[i], mask[i] = f.crop, f.landmarks, f.pose, f.code, f.uv, f.mask
        if any_colour and not s.info.get("colour", True):
            mask[i] = 0  # a grey print gives shape and expression, never texture colour
    if cfg.register:
        _register(uv, mask, np.array([s.quality for _, s in samples], np.float32),
                  np.array([bool(s.info.get("synthetic")) for _, s in samples]))
    return SubjectDataset(crops=crops, landmarks=landmarks, pose=pose, codes=codes, uv=uv, mask=mask,
                          quality=np.array([s.quality for _, s in samples], np.float32),
                          synthetic=np.array([bool(s.info.get("synthetic")) for _, s in samples]),
                          source_ids=[sid for sid, _ in samples], calibration=geometry.calibration.to_dict())


def _register(uv: np.ndarray, mask: np.ndarray, quality: np.ndarray, synthetic: np.ndarray) -> None:
    """Register the real samples' unwraps (in place) to their shared reference texture; renders of
    the fitted head (single-photo album) already sit on its texels and stay as they are."""
    from ..face.register import register_all

    real = np.flatnonzero(~synthetic & (mask.reshape(len(mask), -1).max(1) > 0))
    if len(real) >= 2:
        uv[real], mask[real], _ = register_all(uv[real], mask[real], quality[real])


def _fit_geometry(samples: list[tuple[str, Sample]]):
    """Geometry's calibration + head from all samples (quality-weighted)."""
    from ..face.pipeline import fit_subject as fit_geometry

    lm = np.stack([s.landmarks for _, s in samples]).astype(np.float32)  # [N,478,3]
    quality = np.array([s.quality for _, s in samples], np.float32)
    synthetic = np.array([bool(s.info.get("synthetic")) for _, s in samples])  # renders are no evidence
    return fit_geometry(lm, [s.crop for _, s in samples], weights=quality, synthetic=synthetic)


def mean_texture(ds: SubjectDataset) -> np.ndarray:
    """Quality- and visibility-weighted mean UV texture [H,W,3] uint8 (for mesh export)."""
    w = (ds.mask.astype(np.float32) / 255.0) * ds.quality[:, None, None]  # [N,H,W]
    total = w.sum(0)
    tex = np.einsum("nhw,nhwc->hwc", w, ds.uv.astype(np.float32)) / np.maximum(total, 1e-6)[..., None]
    fill = tex[total > 0].mean(0) if (total > 0).any() else np.full(3, 128.0)
    tex[total <= 0] = fill
    return np.clip(tex, 0, 255).astype(np.uint8)


def coverage(codes: np.ndarray) -> dict[str, float]:
    """Span (max - min) of each semantic control over the dataset, as a fraction of its range."""
    span = (codes.max(0) - codes.min(0)) / (expression.HIGH - expression.LOW)
    return {name: round(float(span[i]), 3) for i, name in enumerate(expression.NAMES[:len(expression.SEMANTIC)])}


def summary_meta(ds: SubjectDataset) -> dict:
    cov = coverage(ds.codes)
    return {"samples": len(ds), "real": int((~ds.synthetic).sum()), "synthetic": int(ds.synthetic.sum()),
            "mean_quality": round(float(ds.quality.mean()), 3),
            "covered": [k for k, v in cov.items() if v >= COVERAGE_SPAN], "controls": len(cov)}


def fit_subject(vault, single_photo: bool | None = None, progress: bool = True,
                config: FitConfig | None = None) -> tuple[SubjectDataset, HeadModel]:
    """Fit the head and build the dataset from every stored sample; store both in the vault.

    single_photo: None = automatic (exactly one real face sample), True/False to force.
    """
    cfg = config or FitConfig()
    vault.authorize(Action.TRAIN)
    samples = _gather(vault)
    if not samples:
        raise NoSamples("no face samples in the vault yet; run `memorial ingest` with photos or videos of the subject")
    geometry = _fit_geometry(samples)
    use_album = (len(samples) == 1) if single_photo is None else bool(single_photo)
    album = []
    if use_album:
        best = max((s for _, s in samples), key=lambda s: s.quality)
        album = _album(vault, best, geometry.head, cfg, progress)
        samples = samples + album
        geometry = _fit_geometry(samples)
    dense = []
    if not use_album and cfg.dense_video_frames > 0:
        from tqdm import tqdm

        from .dense import dense_samples

        with tqdm(desc="video frames", unit="frame", disable=not progress, leave=False) as bar:
            dense = dense_samples(vault, {sid for sid, _ in samples}, cfg.dense_video_frames, bar)
    ds = build_dataset(samples + dense, geometry, cfg, progress)
    head = geometry.head
    meta = summary_meta(ds)
    meta["single_photo"] = use_album
    if use_album:
        meta["album"] = {"rendered": cfg.album_size, "kept": len(album)}
    meta["config"] = asdict(cfg)
    meta["registered"] = bool(cfg.register)
    meta["dense_frames"] = len(dense)  # video frames added for the texture only (not for the head's fit)
    head_bytes = head.to_bytes()
    meta["head_sha256"] = hashlib.sha256(head_bytes).hexdigest()  # the head this dataset's UVs belong to
    vault.put(KEYS["head"], head_bytes, kind="head", meta={"vertices": int(len(head.vertices)),
                                                          "sha256": meta["head_sha256"]})
    from .bust import fit_bust

    bust, why = fit_bust(vault, samples, head, meta["head_sha256"], geometry.calibration)
    if why:
        meta["bust"] = f"none ({why}); the room shows a plain neck and shoulders"
    else:
        source = bust.meta["source"].split("#")
        name = vault.info(source[0]).meta.get("filename", "a photo")
        where = f"frame {source[1]} of {name}" if len(source) > 1 else name
        meta["bust"] = f"hair and upper body from {where}; face texture {bust.face_texture.shape[0]}²"
    vault.put(KEYS["dataset"], ds.to_bytes(), kind="dataset", meta=meta)
    vault.put(KEYS["profile"], SubjectProfile.of(ds).to_bytes(), kind="profile", meta={"samples": len(ds)})
    vault.log("fit", samples=meta["samples"], real=meta["real"], synthetic=meta["synthetic"], single_photo=use_album)
    return ds, head


def dataset_lines(ds: SubjectDataset | None = None, head: HeadModel | None = None, meta: dict | None = None) -> list[str]:
    """Summary lines for `subject show`, `ingest` and the demo (from a dataset or its stored meta)."""
    meta = meta or summary_meta(ds)
    covered = meta["covered"]
    lines = [f"Dataset        {meta['samples']} sample(s): {meta['real']} real, {meta['synthetic']} synthetic; "
             f"mean quality {meta['mean_quality']:.2f}",
             f"Code coverage  {len(covered)}/{meta['controls']} controls vary by >= {COVERAGE_SPAN:.0%} of their range"
             + (f" ({', '.join(covered)})" if covered else "")]
    if meta.get("bust"):
        lines.append(f"Bust           {meta['bust']}")
    if head is not None:
        lines.append(f"Head model     {len(head.vertices)} vertices, {len(head.faces)} triangles, "
                     f"{head.blendshapes.shape[0]} blendshapes")
    return lines


def stored_dataset_lines(vault) -> list[str]:
    """Dataset summary from the vault index alone (no decryption of the dataset itself)."""
    if not vault.exists(KEYS["dataset"]):
        return ["Dataset        none yet (run `memorial ingest` or `memorial subject fit`)"]
    meta = vault.info(KEYS["dataset"]).meta
    if "samples" not in meta:
        return ["Dataset        stored (no summary recorded)"]
    lines = dataset_lines(meta=meta)
    head = vault.info(KEYS["head"]).meta if vault.exists(KEYS["head"]) else {}
    if head.get("sha256") != meta.get("head_sha256"):
        lines.append("               the head model does not match this dataset (an interrupted fit?): "
                     "run `memorial subject fit`")
    return lines
