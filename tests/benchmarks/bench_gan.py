"""GAN benchmark: cpu-demo training time and quality, frame generation speed.

    .venv/bin/python -m tests.benchmarks.bench_gan                 # full cpu-demo run (~10 min)
    .venv/bin/python -m tests.benchmarks.bench_gan --steps 20      # quick
    .venv/bin/python -m tests.benchmarks.bench_gan --frames-only   # frames/s only

By default it ingests the built-in subject (the Grace Hopper portrait, single-photo mode:
1 real + 24 synthetic samples, 256² UV) into a throwaway vault and trains on that, as
`memorial demo` does; `--procedural` uses a procedural dataset of the same shape instead
(tests/gan/synth.py); `--subject NAME` trains on an existing subject's dataset/current
($MEMORIAL_PASSPHRASE), writing checkpoint/bench into that vault.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time

import torch


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=None, help="training steps (default: the preset's)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--subject", default=None, help="train on this subject's real dataset instead")
    ap.add_argument("--frames-only", action="store_true")
    ap.add_argument("--procedural", action="store_true", help="procedural dataset instead of the built-in subject")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    from generation.gan.config import make_config
    from generation.gan.evaluate import frame_speed
    from generation.gan.networks import Generator

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} CPUs visible, "
          f"load average {os.getloadavg()[0]:.2f} (other work on the machine slows every figure)")
    if not args.frames_only:
        run_training(args)
    else:
        g = Generator(make_config("cpu-demo")).eval().requires_grad_(False)
        print(f"frames/s at {g.resolution}² on CPU (untrained cpu-demo G, batch 64, median of 5): {frame_speed(g, 64, repeats=5):.1f} (target >= 30)")
    if torch.cuda.is_available():
        g = Generator(make_config("gpu")).cuda().eval().requires_grad_(False)
        name = torch.cuda.get_device_name()
        print(f"frames/s at 256² on {name} (gpu preset G, batch 512): {frame_speed(g, 512, repeats=5):.0f} "
              "(target >= 500)")
    else:
        print("GPU frames/s: not measured (no GPU on this machine)")


def run_training(args) -> None:
    from assets.artifacts import KEYS
    from generation.gan import checkpoint
    from generation.gan.data import load_dataset
    from generation.gan.evaluate import evaluate, frame_speed, head_or_none, report_lines
    from generation.gan.train import train_subject
    from generation.vault import create_vault, open_vault
    from generation.vault.consent import parse_consent
    from tests.conftest import consent_toml
    from tests.gan.synth import make_dataset

    with tempfile.TemporaryDirectory() as home:
        if args.subject:
            vault = open_vault(args.subject, os.environ["MEMORIAL_PASSPHRASE"])
            name, what = "bench", f"the real dataset of '{args.subject}'"
        else:
            os.environ["MEMORIAL_HOME"] = home
            vault = create_vault("bench", parse_consent(consent_toml()), "bench", "bench-passphrase")
            name = "current"
            if args.procedural:
                vault.put(KEYS["dataset"], make_dataset(n=25, res=256, synthetic_fraction=24 / 25).to_bytes(), kind="dataset")
                what = "a procedural dataset shaped like the single-photo subject (1 real + 24 synthetic, 256² UV)"
            else:
                from assets import default_subject
                from generation.ingest import fit_subject, ingest_paths

                t = time.perf_counter()
                ingest_paths(vault, [default_subject.portrait_path()], progress=False)
                fit_subject(vault, progress=False)
                what = f"the built-in subject (ingested and fitted in {time.perf_counter() - t:.0f} s)"
        with vault:
            print(f"training cpu-demo on {what}")
            t, cpu = time.perf_counter(), time.process_time()
            key = train_subject(vault, "cpu-demo", steps=args.steps, progress=True, name=name,
                                overrides={"num_threads": args.threads})
            wall, cpu = time.perf_counter() - t, time.process_time() - cpu
            ckpt = checkpoint.load(vault, key)
            lines = [json.loads(x) for x in ckpt["train"]["log"] if '"img_per_s"' in x]
            print(f"cpu-demo training: {wall:.0f} s wall (vault, data preparation and checkpoints included), "
                  f"{ckpt['step']} steps of {checkpoint.config_of(ckpt).steps}, "
                  f"{lines[-1]['img_per_s'] if lines else float('nan'):.1f} images/s; this process used {cpu:.0f} CPU-s "
                  f"({cpu / max(ckpt['step'], 1):.2f} CPU-s per step: on an idle 2-core machine a step takes about "
                  f"{cpu / max(ckpt['step'], 1) / args.threads:.2f}-{cpu / max(ckpt['step'], 1):.2f} s)")
            ds, _ = load_dataset(vault)
            for line in report_lines(evaluate(ckpt, ds, head=head_or_none(vault))):
                print(line)
            g = checkpoint.generator_from(ckpt)
            print(f"frames/s at {g.resolution}² on CPU (trained G_ema, batch 64, median of 5): {frame_speed(g, 64, repeats=5):.1f} (target >= 30)")


if __name__ == "__main__":
    main()
