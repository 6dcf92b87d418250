"""Ingest speed: photos per second (landmarks + alignment + unwrap) at 512 px input, and
video ingest speed in frames of source video per second (decode, sampling, landmarks,
vault commits). Medians of several runs.

    .venv/bin/python -m tests.benchmarks.bench_ingest
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

PHOTO_TARGET = 20.0  # photos/s
VIDEO_TARGET = 25.0  # source fps


def _photos(n: int = 40) -> list[np.ndarray]:
    from PIL import Image

    from tests.ingest import media as M

    out = [np.asarray(Image.fromarray(src).resize((512, 512), Image.Resampling.BILINEAR)) for src in M.variants(8)]
    return [out[i % len(out)] for i in range(n)]


def bench_photos(repeats: int = 3) -> tuple[float, dict[str, float]]:
    """Median photos/s over `repeats` passes, and the median milliseconds per stage."""
    from generation.face.landmarks import LandmarkDetector
    from generation.face.pipeline import fit_subject, process_face
    from generation.ingest.faces import assess, face_crop

    photos = _photos()
    stages: dict[str, list[float]] = {k: [] for k in ("landmarks", "quality+crop", "align+code+pose+unwrap")}
    with LandmarkDetector() as det:
        geometry = fit_subject(np.stack([det.detect(p)[0].landmarks for p in photos[:8]]))
        rates = []
        for _ in range(repeats):
            t_start = time.perf_counter()
            for rgb in photos:  # [512,512,3]
                t0 = time.perf_counter()
                face = det.detect(rgb)[0]
                t1 = time.perf_counter()
                assess(rgb, face)
                crop, lm = face_crop(rgb, face)
                t2 = time.perf_counter()
                process_face(crop, lm, geometry)
                t3 = time.perf_counter()
                for k, dt in zip(stages, (t1 - t0, t2 - t1, t3 - t2)):
                    stages[k].append(dt * 1000)
            rates.append(len(photos) / (time.perf_counter() - t_start))
    return statistics.median(rates), {k: statistics.median(v) for k, v in stages.items()}


def bench_video(seconds: float = 8.0, repeats: int = 3) -> tuple[float, int]:
    from tests.ingest import media as M

    fps = 25
    base = M.hopper()[:480, :512]
    frames = []
    for i in range(int(seconds * fps)):
        dx = int(20 * np.sin(i / 12))
        f = np.roll(base, dx, axis=1)
        if (i // 50) % 2:  # a cut every 2 s: alternate subject framing
            f = np.ascontiguousarray(f[:, ::-1])
        frames.append(np.ascontiguousarray(f))
    rates = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        video = M.write_video(tmp / "bench.mp4", frames, fps=fps, audio_seconds=seconds)
        os.environ["MEMORIAL_HOME"] = str(tmp / "home")
        from generation.ingest import ingest_paths
        from generation.vault import create_vault
        from generation.vault.consent import parse_consent
        from tests.conftest import consent_toml

        samples = 0
        for r in range(repeats):
            vault = create_vault(f"bench{r}", parse_consent(consent_toml()), "anna", "bench-passphrase")
            t0 = time.perf_counter()
            report = ingest_paths(vault, [video], progress=False)
            rates.append(report.frames / (time.perf_counter() - t0))
            samples = report.samples
            vault.close()
    return statistics.median(rates), samples


def main() -> None:
    rate, samples = bench_video()
    print(f"video ingest: {rate:.1f} source frames/s (target >= {VIDEO_TARGET:.0f}); "
          f"{samples} samples kept from 200 frames, 640x480-ish H.264 + AAC")
    photos, stages = bench_photos()
    print(f"photos: {photos:.1f} photos/s at 512 px (landmarks + alignment + unwrap; target >= {PHOTO_TARGET:.0f})")
    print("  median ms per photo: " + ", ".join(f"{k} {v:.1f}" for k, v in stages.items()))


if __name__ == "__main__":
    main()
