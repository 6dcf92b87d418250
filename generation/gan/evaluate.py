"""Printed evaluation figures for a trained checkpoint.

All texture figures are in UV space on texels a photo actually showed (the mask), in
8-bit levels or dB. The render-on-head figures need `generation.face.render`
(the geometry stage) and the subject's head/current; when either is missing, the report says so
instead of inventing numbers.
"""

from __future__ import annotations

import importlib.util
import time

import numpy as np
import torch
import torch.nn.functional as F

from assets import expression
from .data import TrainingData, prepare
from .frames import smooth_codes, synthesize, to_uint8
from . import checkpoint


def masked_psnr(a: np.ndarray, b: np.ndarray, mask: np.ndarray) -> float:
    """a, b [H,W,3] uint8, mask [H,W] bool."""
    diff = (a.astype(np.float64) - b.astype(np.float64))[mask]
    mse = float(np.mean(diff ** 2)) if diff.size else 0.0
    return float("inf") if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)


def masked_ssim(a: np.ndarray, b: np.ndarray, mask: np.ndarray) -> float:
    from skimage.metrics import structural_similarity

    win = min(7, a.shape[0] - (1 - a.shape[0] % 2))
    _, smap = structural_similarity(a, b, channel_axis=2, data_range=255, full=True, win_size=win)
    return float(smap.mean(axis=2)[mask].mean()) if mask.any() else float("nan")


def _paired_figures(pred: np.ndarray, data: TrainingData, idx: torch.Tensor) -> dict:
    """Mean masked PSNR/SSIM of pred [n,H,W,3] uint8 against the samples idx, on their visible texels."""
    if len(idx) == 0:
        return {"n": 0}
    real = to_uint8(data.uv[idx])
    mask = data.mask[idx, 0].numpy() > 0.5
    psnr = [masked_psnr(p, r, m) for p, r, m in zip(pred, real, mask)]
    ssim = [masked_ssim(p, r, m) for p, r, m in zip(pred, real, mask)]
    return {"n": int(len(idx)), "psnr_db": float(np.mean(psnr)), "ssim": float(np.mean(ssim))}


def reconstruction(g, data: TrainingData, idx: torch.Tensor) -> dict:
    """G at z = 0 with each sample's own code, against the sample."""
    pred = synthesize(g, data.codes[idx].numpy(), torch.zeros(1, g.z_dim), pose=data.pose[idx].numpy())  # [n,R,R,3]
    return _paired_figures(pred, data, idx)


def sweep_track(data: TrainingData, frames: int = 60, seed: int = 0) -> np.ndarray:
    """A smooth path through the subject's own codes: [frames,E]."""
    rng = np.random.default_rng(seed)
    keys = data.codes[data.train_idx].numpy()[rng.integers(0, len(data.train_idx), 5)]
    t = np.linspace(0, len(keys) - 1, frames)
    i = np.minimum(t.astype(int), len(keys) - 2) if len(keys) > 1 else np.zeros(frames, int)
    w = (t - i)[:, None] if len(keys) > 1 else np.zeros((frames, 1))
    j = np.minimum(i + 1, len(keys) - 1)
    return smooth_codes((1 - w) * keys[i] + w * keys[j], 1.0)


def identity_and_flicker(frames: np.ndarray, coverage: np.ndarray, mean_texture: np.ndarray) -> dict:
    """Identity proxy: cosine similarity of each frame's coarse (8x8) texture to the subject's mean
    texture, on texels the data covers (no face-recognition network is available offline).
    Flicker: mean |frame[t+1] - frame[t]| and the mean |second difference| (jitter), 8-bit levels."""
    f = torch.from_numpy(frames).permute(0, 3, 1, 2).float() / 127.5 - 1  # [T,3,H,W]
    cov = torch.from_numpy(coverage).float()[None, None]
    coarse = F.adaptive_avg_pool2d(f * cov, 8).flatten(1)  # [T,3*64]
    ref = F.adaptive_avg_pool2d(torch.from_numpy(mean_texture).float() * cov, 8).flatten(1)
    cos = F.cosine_similarity(coarse, ref.expand_as(coarse), dim=1).numpy()
    x = frames.astype(np.float32) * coverage[None, :, :, None]
    d1 = np.abs(np.diff(x, axis=0)).mean() if len(x) > 1 else 0.0
    d2 = np.abs(np.diff(x, n=2, axis=0)).mean() if len(x) > 2 else 0.0
    return {"identity_cos_mean": float(cos.mean()), "identity_cos_min": float(cos.min()),
            "flicker_mean_abs_step": float(d1), "flicker_jitter": float(d2)}


def memorisation(g, data: TrainingData, n: int = 32, seed: int = 0) -> dict:
    """Nearest training texture for novel (code, z) pairs vs the training set's own spacing (RMSE, 8-bit)."""
    rng = np.random.default_rng(seed)
    train = data.uv[data.train_idx]  # [n,3,R,R]
    m = data.mask[data.train_idx]
    codes = data.codes[data.train_idx].numpy()
    a, b = rng.integers(0, len(codes), n), rng.integers(0, len(codes), n)
    w = rng.uniform(0, 1, (n, 1)).astype(np.float32)
    e = torch.from_numpy(expression.clip(w * codes[a] + (1 - w) * codes[b]))
    z = torch.from_numpy(rng.normal(0, 1, (n, g.z_dim)).astype(np.float32))
    with torch.inference_mode():
        gen = g(z, e).clamp(-1, 1)

    visible = (m.sum((1, 2, 3)) * 3).clamp_min(1)  # [n]

    def nearest(x: torch.Tensor, exclude_self: bool) -> np.ndarray:
        # One row at a time: a [len(x),n,3,R,R] difference tensor would not fit for large datasets.
        d = torch.stack([((xi - train) ** 2 * m).sum((1, 2, 3)) / visible for xi in x])  # [len(x),n]
        if exclude_self:
            d.fill_diagonal_(float("inf"))
        return (d.min(1).values.sqrt() * 127.5).numpy()

    gen_nn = nearest(gen, False)
    train_nn = nearest(train, True) if len(train) > 1 else np.array([float("nan")])
    return {"generated_to_nearest_train_rmse": float(np.median(gen_nn)),
            "train_to_nearest_train_rmse": float(np.median(train_nn))}


def code_response(g, data: TrainingData) -> dict:
    """Mean texture change (8-bit levels) when each semantic control goes from low to high."""
    base = data.codes[data.train_idx].mean(0).numpy()
    out = {}
    with torch.inference_mode():
        for c in expression.SEMANTIC:
            i = expression.index(c.name)
            lo, hi = base.copy(), base.copy()
            lo[i], hi[i] = c.low, c.high
            x = g(torch.zeros(2, g.z_dim), torch.from_numpy(np.stack([lo, hi])))
            out[c.name] = float((x[1] - x[0]).abs().mean() * 127.5)
    return out


def frame_speed(g, batch: int = 64, repeats: int = 3) -> float:
    """Frames/s of batched generation on g's device (median of repeats)."""
    codes = np.zeros((batch, expression.E), np.float32)  # the cost does not depend on the code values
    z = torch.zeros(1, g.z_dim)
    cuda = next(g.parameters()).device.type == "cuda"
    synthesize(g, codes[:4], z, batch)  # warm-up
    times = []
    for _ in range(repeats):
        if cuda:
            torch.cuda.synchronize()
        t = time.perf_counter()
        synthesize(g, codes, z, batch)
        if cuda:
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t)
    return batch / float(np.median(times))


def _render_module():
    if importlib.util.find_spec("generation.face.render") is None:
        return None
    from ..face import render

    return render


def render_reconstruction(g, data: TrainingData, ds, head, idx: torch.Tensor, render) -> dict:
    """G's texture for each sample's own code, rendered on the fitted head at the sample's pose,
    against the sample's aligned crop, on the head pixels."""
    if len(idx) == 0:
        return {"n": 0}
    usable = data.source_index
    tex = synthesize(g, data.codes[idx].numpy(), torch.zeros(1, g.z_dim), pose=data.pose[idx].numpy())  # [n,R,R,3]
    psnr, ssim = [], []
    for k, i in enumerate(idx.tolist()):
        j = int(usable[i])
        crop = ds.crops[j]
        r = render.render(head, tex[k], ds.codes[j], ds.pose[j], size=crop.shape[0])
        if r.mask.sum() < 16:
            continue
        psnr.append(masked_psnr(r.rgb, crop, r.mask))
        ssim.append(masked_ssim(r.rgb, crop, r.mask))
    if not psnr:
        return {"n": 0}
    return {"n": len(psnr), "psnr_db": float(np.mean(psnr)), "ssim": float(np.mean(ssim))}


def expression_fidelity(g, ds, head, render, draw=None) -> dict:
    """Render each semantic control at 0.8 of its range (others neutral) with G's texture,
    re-detect landmarks, measure the code back; mean |error| per control.

    By default the software render of the head mesh at the subject's median pose (its eyes are
    the texture's painted irises); `draw(code [E], texture [H,W,3]) -> RGB` renders it another
    way, e.g. as the room shows it (vr_app.likeness.BustCamera.expression: eyeballs, teeth). A `draw`
    that returns a list of RGB views (the same face from nearby viewpoints) is read as the median of
    their readings: the detector's own scatter between views a degree apart is up to ~0.1 of a code."""
    from ..face.controls import codes_from_landmarks
    from ..face.landmarks import LandmarkDetector

    pose = np.median(ds.pose, axis=0).astype(np.float32)  # G's texture is made for her usual pose
    if draw is None:

        def draw(code, tex):
            return render.render(head, tex, code, pose, size=ds.crops.shape[1]).rgb

    errors: dict[str, float] = {}
    with LandmarkDetector() as det:
        for c in expression.SEMANTIC:
            code = expression.neutral()
            code[expression.index(c.name)] = 0.8 * c.high if c.low == 0 else 0.5
            tex = synthesize(g, code[None], torch.zeros(1, g.z_dim), pose=pose[None, :3])[0]
            views = draw(code, tex)
            k = expression.index(c.name)
            reads = [codes_from_landmarks(found[0].landmarks, ds.calibration)[k]
                     for found in map(det.detect, views if isinstance(views, list) else [views]) if found]
            errors[c.name] = float(abs(np.median(reads) - code[k])) if reads else float("nan")
    return errors


def head_or_none(vault):
    """The subject's fitted HeadModel, or None when there is none (the on-head figures are then skipped)."""
    from assets.artifacts import KEYS, ArtifactError, HeadModel

    try:
        return HeadModel.from_bytes(vault.get(KEYS["head"]))
    except (KeyError, ArtifactError):
        return None


def evaluate(ckpt: dict, ds, head=None) -> dict:
    """All figures as a dict (the CLI prints them). `head` (HeadModel) enables the on-head figures."""
    g, data, result = _uv_figures(ckpt, ds)
    render = _render_module()
    if render is None:
        result["render"] = "not measured: generation.face.render does not exist"
    elif head is None:
        result["render"] = "not measured: the subject has no head/current (run `memorial subject fit`)"
    elif not ds.calibration:
        result["render"] = "not measured: the dataset has no calibration"
    else:
        try:
            result["render_recon_holdout"] = render_reconstruction(g, data, ds, head, data.holdout_idx, render)
            result["render_recon_train"] = render_reconstruction(g, data, ds, head, data.train_idx[:16], render)
            result["expression_fidelity"] = expression_fidelity(g, ds, head, render)
            result["render"] = "measured"
        except Exception as exc:  # another stage's code: report, never hide, never crash the evaluation
            result["render"] = f"failed: {type(exc).__name__}: {exc}"
    return result


def _uv_figures(ckpt: dict, ds) -> tuple:
    """(G_ema, the prepared data with the checkpoint's split, the UV-space figures)."""
    cfg = checkpoint.config_of(ckpt)
    stats = ckpt["stats"]
    data = prepare(ds, cfg.output_side, cfg.min_quality, cfg.holdout, cfg.seed)
    data.train_idx, data.holdout_idx = stats["train_idx"], stats["holdout_idx"]
    g = checkpoint.generator_from(ckpt)
    held_real = bool(len(data.holdout_idx)) and not bool(data.synthetic[data.holdout_idx].any())
    track = sweep_track(data)
    frames = synthesize(g, track, torch.zeros(1, g.z_dim))
    return g, data, {
        "step": int(ckpt["step"]), "preset": cfg.preset, "resolution": cfg.output_side,
        "samples": {"train": int(len(data.train_idx)), "holdout": int(len(data.holdout_idx)),
                    "holdout_kind": "real photos" if held_real else "synthetic renders"},
        "recon_holdout": reconstruction(g, data, data.holdout_idx),
        "recon_train": reconstruction(g, data, data.train_idx),
        "mean_texture_holdout": _mean_baseline(stats["mean_texture"], data, data.holdout_idx),
        "code_response": code_response(g, data),
        "temporal": identity_and_flicker(frames, stats["coverage"][0].numpy() > 0, stats["mean_texture"][0].numpy()),
        "memorisation": memorisation(g, data),
        "frames_per_s_cpu": frame_speed(g),
        "threads": torch.get_num_threads(),
    }


def _mean_baseline(mean_texture: torch.Tensor, data: TrainingData, idx: torch.Tensor) -> dict:
    """The same figures for 'always output the mean texture', so the model's gain is visible."""
    return _paired_figures(to_uint8(mean_texture.expand(len(idx), -1, -1, -1)), data, idx)


def _recon_line(tag: str, x: dict) -> str:
    return f"{tag}: n/a (no samples)" if not x["n"] else f"{tag}: PSNR {x['psnr_db']:.2f} dB, SSIM {x['ssim']:.3f} (n={x['n']})"


def report_lines(r: dict) -> list[str]:
    recon = _recon_line
    t, m = r["temporal"], r["memorisation"]
    top = sorted(r["code_response"].items(), key=lambda kv: -kv[1])[:4]
    return [
        f"checkpoint: step {r['step']}, preset {r['preset']}, {r['resolution']}², "
        f"{r['samples']['train']} train / {r['samples']['holdout']} held-out samples ({r['samples']['holdout_kind']})",
        recon("reconstruction, held-out, UV visible texels", r["recon_holdout"]),
        recon("  baseline (mean texture), held-out", r["mean_texture_holdout"]),
        recon("reconstruction, training samples", r["recon_train"]),
        *_render_lines(r),
        "code response (texture change low->high, 8-bit levels): " + ", ".join(f"{k} {v:.1f}" for k, v in top),
        f"identity consistency (coarse-texture cosine to the subject's mean): mean {t['identity_cos_mean']:.4f}, "
        f"min {t['identity_cos_min']:.4f}",
        f"flicker on a smooth 60-frame track: mean |step| {t['flicker_mean_abs_step']:.2f}, "
        f"jitter |2nd diff| {t['flicker_jitter']:.2f} (8-bit levels)",
        f"memorisation: generated->nearest training RMSE {m['generated_to_nearest_train_rmse']:.1f}, "
        f"training->nearest other training {m['train_to_nearest_train_rmse']:.1f} (8-bit levels)",
        f"frame generation: {r['frames_per_s_cpu']:.1f} frames/s at {r['resolution']}² on CPU "
        f"({r['threads']} threads, batch 64); GPU: {'not measured here' if not torch.cuda.is_available() else 'see bench_gan'}",
    ]


def _render_lines(r: dict) -> list[str]:
    if r["render"] != "measured":
        return [f"reconstruction rendered on the head: {r['render']}",
                f"expression fidelity (landmarks re-detected on rendered frames): {r['render']}"]
    recon = _recon_line
    fid = r["expression_fidelity"]
    finite = [v for v in fid.values() if np.isfinite(v)]
    missed = [k for k, v in fid.items() if not np.isfinite(v)]
    return [recon("reconstruction rendered on the head vs the photo crop, held-out", r["render_recon_holdout"]),
            recon("reconstruction rendered on the head vs the photo crop, training", r["render_recon_train"]),
            f"expression fidelity (|measured - commanded| from re-detected landmarks): mean "
            f"{np.mean(finite) if finite else float('nan'):.3f}; " + ", ".join(f"{k} {v:.2f}" for k, v in fid.items())
            + (f"; no face found for {', '.join(missed)}" if missed else "")]
