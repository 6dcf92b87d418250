"""Is the head's rest depth (mediapipe's per-frame z, averaged over a few frontal samples) the
depth her face shows in 2D as she turns? On the video subject's training part (the first 6 s):

1. how well the rest shape plus each frame's expression (as the head rebuilds it), posed at the
   frame's fitted pose, reprojects onto that frame's detected 2D landmarks, by yaw;
2. the same after scaling the rest shape's depth (a z-scale sweep, poses refitted);
3. a per-landmark depth refit (linearised least squares alternating with the pose fits) chosen
   on four fifths of the frames and scored on the fifth (five contiguous blocks), and where it
   moves the landmarks. Under weak perspective a depth change a + b x + c y + e z is absorbed
   by the poses (the bas-relief ambiguity), so that part is removed and only the profile counts;
4. the refit's resolution at these poses: synthetic landmarks of a known depth error (the nose
   longer, the sides flatter) at every frame's pose and expression, with and without the
   frames' own residual as noise, refitted the same way.

Run: .venv/bin/python -m tests.benchmarks.bench_depth [--keep DIR]
(--keep: bench_likeness's folder with the ingested clip subject; without it the clip is ingested
into a temporary folder first, about a minute). The held-out last 2 s are not used.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

import numpy as np

from assets import landmarks as L

CROP = 256.0  # the dataset's aligned crops
NAMED = {"nose tip": 1, "subnasale": 2, "chin": 152, "cheek, left": 425, "cheek, right": 205,
         "jaw, left": 361, "jaw, right": 132, "face side, left": 454, "face side, right": 234,
         "forehead": 10, "outer eye corner, left": 263, "outer eye corner, right": 33}


def fit_frames(shape: np.ndarray, expr: np.ndarray, lm: np.ndarray, frames) -> tuple[np.ndarray, np.ndarray]:
    """Poses [K,6] of the shape [478,3] plus each frame's expression offsets, fitted as the product
    does (generation.face.pose.fit_pose), and the 2D residuals [K,468,2] in crop pixels."""
    from generation.face.pose import fit_pose, project

    poses, resid = [], []
    for k in frames:
        model = (shape + expr[k]).astype(np.float32)
        p = fit_pose(lm[k], model, CROP)
        poses.append(p)
        resid.append(project(model[:L.N_MESH], p, CROP)[:, :2] - lm[k, :L.N_MESH, :2])
    return np.array(poses), np.array(resid)


def rms(resid: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.sum(resid.astype(np.float64) ** 2, -1))))


def depth_refit(shape: np.ndarray, expr: np.ndarray, lm: np.ndarray, frames, iterations: int = 4) -> np.ndarray:
    """The rest shape with each mesh landmark's depth moved so the frames' 2D landmarks are met, the
    unobservable affine part of the move removed."""
    from generation.face.pose import matrix_from_euler

    n = L.N_MESH
    out = shape.astype(np.float64).copy()
    gauge = np.c_[np.ones(n), shape[:n]]  # [468,4]
    for _ in range(iterations):
        poses, resid = fit_frames(out, expr, lm, frames)
        num, den = np.zeros(n), 0.0
        for p, r in zip(poses, resid):
            rot = matrix_from_euler(*p[:3])
            j = np.array([rot[0, 2], -rot[1, 2]]) * p[5] * CROP  # d(image xy) / d(model z)
            num += r @ j
            den += float(j @ j)
        step = -num / den
        out[:n, 2] += step - gauge @ np.linalg.lstsq(gauge, step, rcond=None)[0]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--keep", type=Path, default=None, help="bench_likeness's --keep folder (the clip subject)")
    args = ap.parse_args()
    from assets.artifacts import KEYS, SubjectDataset
    from tests.benchmarks.bench_likeness import CLIP, INGEST_S, cut_clip, make_subject
    from vr_app.inputs import load_head

    with tempfile.TemporaryDirectory() as scratch:
        os.environ["MEMORIAL_HOME"] = str(args.keep or scratch)
        if not (Path(os.environ["MEMORIAL_HOME"]) / "subjects" / "likeness-bench-clip").is_dir():
            if not CLIP.is_file():
                print(f"skipped: {CLIP} is absent")
                return
            cut_clip(CLIP, Path(scratch) / "first.mp4", INGEST_S)
        vault = make_subject([Path(scratch) / "first.mp4"], "likeness-bench-clip")
        head = load_head(vault)
        ds = SubjectDataset.from_bytes(vault.get(KEYS["dataset"]))
        vault.close()
    real = np.flatnonzero(~ds.synthetic)
    rest = head.vertices[:478].astype(np.float64)
    expr = np.stack([head.reconstruct(ds.codes[i])[:478] - head.vertices[:478] for i in real]).astype(np.float64)
    lm = ds.landmarks[real]
    order = np.argsort([int(ds.source_ids[i].split("#")[-1]) for i in real])  # frame order
    every = np.arange(len(real))
    poses, resid = fit_frames(rest, expr, lm, every)
    print(f"Video subject, first {INGEST_S:g} s: {len(real)} frames, yaw {poses[:, 0].min():+.1f} .. "
          f"{poses[:, 0].max():+.1f} deg, pitch {poses[:, 1].min():+.1f} .. {poses[:, 1].max():+.1f} deg")
    print(f"1. reprojection of the rest shape + expression, RMS over 468 landmarks (crop {CROP:g} px, "
          f"{1000 / (np.median(poses[:, 5]) * CROP):.2f} mm per px): all frames {rms(resid):.3f} px")
    for lo, hi in ((-15, -6), (-6, -2), (-2, 2), (2, 6), (6, 15)):
        m = (poses[:, 0] >= lo) & (poses[:, 0] < hi)
        if m.any():
            print(f"   yaw [{lo:+d}, {hi:+d}) deg: {int(m.sum()):3d} frames, RMS {rms(resid[m]):.3f} px")
    print("2. depth scaled (poses refitted), RMS px:  "
          + "  ".join(f"x{k:.1f}: {rms(fit_frames(rest * [1, 1, k], expr, lm, every)[1]):.4f}"
                      for k in (0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3)))
    before, after = [], []
    for block in np.array_split(order, 5):
        train = np.setdiff1d(every, block)
        refit = depth_refit(rest, expr, lm, train)
        before.append(rms(fit_frames(rest, expr, lm, block)[1]))
        after.append(rms(fit_frames(refit, expr, lm, block)[1]))
    print(f"3. per-landmark depth refit, held-out fifth of the frames (five contiguous blocks), RMS px: "
          f"{np.mean(before):.4f} -> {np.mean(after):.4f}  (per block " + ", ".join(
              f"{a:.3f}->{b:.3f}" for a, b in zip(before, after)) + ")")
    dz = 1000 * (depth_refit(rest, expr, lm, every) - rest)[:L.N_MESH, 2]
    print(f"   refit on all frames moves depth by a median {np.median(np.abs(dz)):.2f} mm (90th percentile "
          f"{np.percentile(np.abs(dz), 90):.2f} mm); + = nearer the camera:")
    print("   " + ", ".join(f"{name} {dz[i]:+.1f}" for name, i in NAMED.items()))
    resolution(rest, expr, poses, rms(resid))


def resolution(rest: np.ndarray, expr: np.ndarray, poses: np.ndarray, noise_px: float) -> None:
    """Refit synthetic landmarks of a known non-affine depth error, posed like the real frames."""
    from generation.face.pose import project

    n = L.N_MESH
    nose = np.exp(-np.sum((rest[:, :2] - rest[L.NOSE_TIP, :2]) ** 2, 1) / (2 * 0.012 ** 2))
    side = np.clip((np.abs(rest[:, 0]) - 0.04) / 0.03, 0, 1)
    error = 0.004 * nose - 0.003 * side  # metres: the nose 4 mm longer, the sides 3 mm flatter
    gauge = np.c_[np.ones(n), rest[:n]]
    unseen = lambda dz: dz - gauge @ np.linalg.lstsq(gauge, dz, rcond=None)[0]  # noqa: E731
    want = unseen(error[:n])
    rng = np.random.default_rng(0)
    every = np.arange(len(poses))
    for noise in (0.0, noise_px / np.sqrt(2)):  # per coordinate
        lm = np.stack([project(rest + [0, 0, 1] * error[:, None] + expr[k], poses[k], CROP) for k in every])
        lm[..., :2] += rng.normal(0, noise, lm[..., :2].shape).astype(np.float32)
        got = unseen((depth_refit(rest, expr, lm, every) - rest)[:n, 2])
        print(f"4. resolution, {noise:.2f} px noise per coordinate: a known depth error of {1000 * np.sqrt(np.mean(want ** 2)):.2f} mm "
              f"RMS (profile part) is refitted to {1000 * np.sqrt(np.mean((want - got) ** 2)):.2f} mm RMS left; "
              f"nose tip {1000 * want[L.NOSE_TIP]:+.2f} mm -> found {1000 * got[L.NOSE_TIP]:+.2f} mm")


if __name__ == "__main__":
    main()
