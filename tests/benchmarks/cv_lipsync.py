"""Lip-sync choices measured on her TRAINING 6 s only: blocked replay cross-validation.

    PYTHONPATH=$PWD .venv/bin/python -m tests.benchmarks.cv_lipsync --keep DIR            # ~10 CPU-min per group
    PYTHONPATH=$PWD .venv/bin/python -m tests.benchmarks.cv_lipsync --keep DIR --groups 0,1,2 --contrast 1,1.5,2

DIR is a bench_motion --keep folder (its subject "her" holds the clip's first 6 s). Her frames are
cut into FOLDS blocks in time; for each block the priors of one seed group (as `lipsync train
--seed g` trains them) are adapted to the other blocks exactly as train_subject_model adapts them,
and the block is replayed as a recording of its own (its audio cut out and normalised alone, as
`say --audio` reads a separate file), post-processed as recording_track (smoothing, the jaw's
steepening around the training blocks' median jaw at each --contrast) and correlated with her real
jaw (codes in 0..1, as bench_motion measures the held-out 2 s). Printed per contrast: the pooled r
over all blocks and the median of the blocks' r, per seed group and their mean. The held-out 2 s
is never read: it stays the ruler. The breath layer is left out (her training 6 s hold no breath pause).
"""

from __future__ import annotations

import argparse
import os

import numpy as np

FOLDS = 5
PASS = "bench-passphrase"


def her_clip(home):
    """(audio, sr, frame times [T], mouth targets [T,6], normalised log-mel of the whole 6 s)."""
    os.environ["MEMORIAL_HOME"] = str(home)
    from generation.speech import recording
    from generation.vault import open_vault

    vault = open_vault("her", PASS, "anna")
    videos = recording.talking_videos(vault)
    clips, _ = recording.training_pairs(vault, None, videos)
    (video,), ((mel, t, y),) = videos, clips
    return video.audio, video.sample_rate, t, y, mel


def blocks(n: int) -> list[tuple[int, int]]:
    edges = np.linspace(0, n, FOLDS + 1).round().astype(int)
    return list(zip(edges[:-1], edges[1:]))


def replay(audio, sr, t, a: int, b: int) -> tuple[np.ndarray, np.ndarray]:
    """Frames a..b as a recording of their own: (its normalised log-mel, frame times from its start)."""
    from generation.speech import audio_model

    t1 = t[b] if b < len(t) else len(audio) / sr
    cut = audio[int(t[a] * sr):int(t1 * sr)]
    return audio_model.features(cut, sr), t[a:b] - t[a]


def out_of_fold(clip, priors, pairs, steps: int, group: int) -> list[np.ndarray]:
    """Each block's raw jaw replayed by the ensemble adapted on the other blocks."""
    from generation.speech import audio_model, recording

    audio, sr, t, y, mel = clip
    out = []
    for a, b in blocks(len(t)):
        fit = [(mel, t[i], y[i]) for i in (slice(0, a), slice(b, None)) if len(t[i])]
        ckpt = recording._adapt(priors, pairs, fit, steps, seed=group)
        held_mel, held_t = replay(audio, sr, t, a, b)
        raw = audio_model.predict_windows(ckpt, audio_model.windows(held_mel, held_t + float(ckpt["lead_s"])))
        out.append(raw[:, 0])
    return out


def scores(clip, raws: list[np.ndarray], contrast: float) -> tuple[float, float]:
    """(pooled r, median block r) after recording_track's smoothing and steepening."""
    from generation.speech import audio_driven, recording

    _, _, t, y, _ = clip
    fps = 1 / np.median(np.diff(t))
    real = np.clip(y[:, 0], 0, 1)
    preds = []
    for raw, (a, b) in zip(raws, blocks(len(t))):
        pivot = float(np.clip(np.median(np.concatenate([y[:a, 0], y[b:, 0]])), 0, 1))
        jaw = audio_driven.smooth(np.clip(raw, 0, 1)[:, None], fps, tau_s=0.02)[:, 0]
        preds.append(recording.steepen(jaw, pivot, contrast))
    each = [np.corrcoef(p, real[a:b])[0, 1] for p, (a, b) in zip(preds, blocks(len(t)))]
    return float(np.corrcoef(np.concatenate(preds), real)[0, 1]), float(np.median(each))


def main() -> None:
    from pathlib import Path

    from generation.native_logs import route_native_logs_to_file
    from generation.speech import lipsync_prior, recording

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--keep", type=Path, required=True, help="a bench_motion --keep folder")
    ap.add_argument("--groups", default="0,1", help="seed groups (as lipsync train --seed)")
    ap.add_argument("--contrast", default="1,1.5,2", help="jaw steepening exponents to score")
    ap.add_argument("--members", type=int, default=recording.MEMBERS)
    ap.add_argument("--prior-steps", type=int, default=1500)
    ap.add_argument("--steps", type=int, default=400, help="adaptation steps")
    args = ap.parse_args()
    if not (args.keep / "home").is_dir():
        raise SystemExit(f"{args.keep} holds no subject prepared by bench_motion --keep")
    route_native_logs_to_file(args.keep / "native.log")
    clip = her_clip(args.keep / "home")
    groups = [int(g) for g in args.groups.split(",")]
    contrasts = [float(c) for c in args.contrast.split(",")]
    seeds = [g * args.members + i for g in groups for i in range(args.members)]
    priors, pairs = lipsync_prior.train_priors(args.prior_steps, seeds)
    raws = [out_of_fold(clip, priors[k * args.members:(k + 1) * args.members], pairs, args.steps, g)
            for k, g in enumerate(groups)]
    for c in contrasts:
        s = np.array([scores(clip, r, c) for r in raws])
        print(f"contrast {c:g}: pooled r {s[:, 0].mean():.3f} ({' / '.join(f'{x:.3f}' for x in s[:, 0])}), "
              f"median block r {s[:, 1].mean():.3f} ({' / '.join(f'{x:.3f}' for x in s[:, 1])}) "
              f"over seed groups {args.groups}")


if __name__ == "__main__":
    main()
