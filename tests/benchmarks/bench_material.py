"""A family's material at scale: the whole ingest path with the face recogniser.

Prints: photos/s and video frames/s through `ingest_paths` (decode, detection, identity,
quality, crops, vault commits); peak memory of one process ingesting a 1-hour video
(320x240, 10 fps, with a sound track) next to a 1-minute one; identity precision/recall on
group photos composed from real single-person images; word error rate and answer
latency of the recogniser on the JFK clip.

    PYTHONPATH=$PWD .venv/bin/python -m tests.benchmarks.bench_material [--quick]
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
MEDIA = ROOT / ".." / "shared" / "media"
WER_TARGET = 0.08
LATENCY_TARGET = 2.0  # s for a 5 s question
PASS = "bench-passphrase"


def _vault(name: str):
    from generation.vault import create_vault
    from generation.vault.consent import parse_consent
    from tests.conftest import consent_toml

    return create_vault(name, parse_consent(consent_toml()), "anna", PASS)


def _hopper_album(folder: Path, n: int) -> list[Path]:
    """n distinct photos (not near-duplicates): the subject's head at random sizes and places
    on backgrounds cut from scikit-image's pictures, a third of them with two other people."""
    import cv2
    from PIL import Image
    from skimage import data

    from tests.ingest import media as M

    hop, astro = M.head(M.hopper(), M.HOPPER_HEAD), M.head(M.astronaut(), M.ASTRONAUT_HEAD)
    others = M.lfw_faces(range(100))
    scenes = [data.coffee(), data.chelsea(), data.rocket(), data.astronaut()[300:], data.immunohistochemistry()]
    rng = np.random.default_rng(0)
    paths = []
    for i in range(n):
        w, h = int(rng.integers(640, 1024)), int(rng.integers(480, 800))
        bg = scenes[i % len(scenes)]
        y, x = int(rng.integers(0, bg.shape[0] // 2)), int(rng.integers(0, bg.shape[1] // 2))
        bg = bg[y:, x:][:: rng.choice([-1, 1]), :: rng.choice([-1, 1])]
        bg = np.rot90(bg, k=int(rng.integers(0, 4)))
        canvas = cv2.resize(np.ascontiguousarray(bg), (w, h), interpolation=cv2.INTER_LINEAR)
        canvas = np.clip(canvas * (0.6 + 0.8 * rng.random(3)), 0, 255).astype(np.uint8)
        side = int(min(w, h) * (0.35 + 0.45 * rng.random()))
        head = cv2.resize(hop if i % 2 else hop[:, ::-1], (side * 300 // 370, side), interpolation=cv2.INTER_AREA)
        head = np.clip(head * (0.85 + 0.3 * rng.random(3)), 0, 255).astype(np.uint8)
        if i % 3 == 2:  # a group photo
            canvas, _ = M.group_photo([others[i % 100], head, astro], tile=int(rng.integers(240, 320)))
        else:
            y0, x0 = int(rng.integers(0, h - head.shape[0])), int(rng.integers(0, w - head.shape[1]))
            canvas[y0:y0 + head.shape[0], x0:x0 + head.shape[1]] = head
        path = folder / f"photo-{i:04d}.jpg"
        Image.fromarray(np.ascontiguousarray(canvas)).save(path, quality=90)
        paths.append(path)
    return paths


def _cpu_seconds() -> float:
    import resource

    return sum(r.ru_utime + r.ru_stime for r in (resource.getrusage(resource.RUSAGE_SELF),
                                                 resource.getrusage(resource.RUSAGE_CHILDREN)))


def bench_photos(n: int, parallel: bool = True) -> tuple[float, float, str]:
    """Photos/s (wall) and CPU seconds per photo (this process and its workers)."""
    from generation.ingest import ingest_paths, pipeline
    from generation.ingest.pipeline import learn_references
    from tests.ingest import media as M

    default = pipeline.PARALLEL_FROM
    pipeline.PARALLEL_FROM = 1 if parallel else n + 1

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        os.environ["MEMORIAL_HOME"] = str(tmp / "home")
        (tmp / "album").mkdir()
        _hopper_album(tmp / "album", n)
        M.save(tmp / "reference.jpg", M.hopper(), quality=92)
        with _vault("photos") as vault:
            learn_references(vault, [tmp / "reference.jpg"])
            t0, c0 = time.perf_counter(), _cpu_seconds()
            try:
                report = ingest_paths(vault, [tmp / "album"], progress=False)
            finally:
                pipeline.PARALLEL_FROM = default
            rate, cpu = n / (time.perf_counter() - t0), (_cpu_seconds() - c0) / n
        return rate, cpu, (f"{len(report.accepted)} accepted, {report.samples} samples, {report.other_faces} other "
                      f"faces left out, {len(report.doubtful)} doubtful, {len(report.skipped)} skipped")


def write_long_video(path: Path, seconds: float, fps: int = 10, size: tuple[int, int] = (320, 240)) -> Path:
    """A cheap long video: the subject's head drifting and cutting between framings, a tone."""
    import av
    import cv2

    from tests.ingest import media as M

    w, h = size
    head = cv2.resize(M.head(M.hopper(), M.HOPPER_HEAD), (h * 300 // 370, h - 20), interpolation=cv2.INTER_AREA)
    pool = []
    for k in range(24):
        canvas = np.full((h, w, 3), 60 + 5 * k, np.uint8)
        x = 10 + (k * 17) % (w - head.shape[1] - 20)
        canvas[10:10 + head.shape[0], x:x + head.shape[1]] = head if k % 2 else head[:, ::-1]
        pool.append(canvas)
    n = int(seconds * fps)
    with av.open(str(path), "w") as out:
        vs = out.add_stream("libx264", rate=fps)
        vs.width, vs.height, vs.pix_fmt = w, h, "yuv420p"
        vs.options = {"preset": "ultrafast", "g": "250"}
        a_s = out.add_stream("aac", rate=16000, layout="mono")
        for i in range(n):
            for p in vs.encode(av.VideoFrame.from_ndarray(pool[(i // (fps * 7)) % len(pool)], format="rgb24")):
                out.mux(p)
        for p in vs.encode():
            out.mux(p)
        M.write_tone(out, a_s, seconds)
    return path


_CHILD = """
import sys, time, json
from tests.benchmarks.bench_material import _vault
from generation.ingest import ingest_paths
t0 = time.perf_counter()
with _vault("long") as v:
    r = ingest_paths(v, [sys.argv[1]], progress=False)
# VmHWM, not ru_maxrss: the latter keeps the parent's size from before exec
hwm = int(open("/proc/self/status").read().split("VmHWM:")[1].split()[0])
print(json.dumps({"frames": r.frames, "samples": r.samples, "audio": r.audio, "seconds": time.perf_counter() - t0,
                  "peak_mb": hwm / 1024}))
"""


def ingest_in_child(video: Path, home: Path) -> dict:
    """Ingest one video in a fresh process; its peak resident memory is the figure."""
    import json

    env = {**os.environ, "MEMORIAL_HOME": str(home), "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", _CHILD, str(video)], env=env, capture_output=True, text=True,
                         check=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench_video(long_seconds: float) -> list[str]:
    lines = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for seconds in (60.0, long_seconds):
            t0 = time.perf_counter()
            video = write_long_video(tmp / f"v{int(seconds)}.mp4", seconds)
            made = time.perf_counter() - t0
            r = ingest_in_child(video, tmp / f"home{int(seconds)}")
            lines.append(f"video {seconds / 60:.0f} min ({video.stat().st_size / 1e6:.0f} MB, 320x240 10 fps + AAC, "
                         f"made in {made:.0f} s): {r['frames'] / r['seconds']:.0f} frames/s through the whole path, "
                         f"{r['samples']} samples, audio {'kept' if r['audio'] else 'missing'}; "
                         f"peak memory {r['peak_mb']:.0f} MB")
            video.unlink()
    return lines


def _aoc_frames(every: int = 25) -> list[np.ndarray]:
    import av

    clip = MEDIA / "talking-clip-aoc.mp4"
    if not clip.exists():
        return []
    with av.open(str(clip)) as c:
        return [f.to_ndarray(format="rgb24") for i, f in enumerate(c.decode(video=0)) if i % every == 0]


def bench_identity() -> list[str]:
    """Precision/recall on composed group photos, for two subjects (Hopper; the woman of the
    talking clip when the real media are present, whose reference is her first frame and whose
    group photos use her later frames, other expressions)."""
    from PIL import Image

    from generation.ingest import ingest_paths
    from generation.ingest.pipeline import learn_references
    from generation.ingest.records import load_records
    from tests.ingest import media as M

    hop = M.head(M.hopper(), M.HOPPER_HEAD)
    astro = M.head(M.astronaut(), M.ASTRONAUT_HEAD)
    others = M.lfw_faces(range(100))
    aoc = _aoc_frames()
    grey = np.repeat(hop.mean(axis=2, keepdims=True).astype(np.uint8), 3, axis=2)
    subjects = {"Hopper": (M.hopper(), [hop, hop[:, ::-1], grey, M.sepia(hop), hop[30:, 20:-20]], [astro] + aoc)}
    if aoc:
        subjects["talking-clip woman"] = (aoc[0], aoc[1:], [astro, hop])
    lines = []
    rng = np.random.default_rng(1)
    for name, (reference, views, strangers) in subjects.items():
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            os.environ["MEMORIAL_HOME"] = str(tmp / "home")
            (tmp / "groups").mkdir()
            truth = {}
            for g in range(24):
                k = int(rng.integers(2, 5))
                people = [others[int(i)] for i in rng.choice(100, k - 1, replace=False)]
                people.insert(int(rng.integers(0, k)), strangers[g % len(strangers)])
                with_subject = g % 4 != 3
                if with_subject:
                    people[int(rng.integers(0, k))] = views[g % len(views)]
                img, cells = M.group_photo(people)
                fname = f"group-{g:02d}.png"
                Image.fromarray(img).save(tmp / "groups" / fname)
                truth[fname] = [cells[i] for i, p in enumerate(people) if any(p is v for v in views)]
            M.save(tmp / "reference.png", reference)
            with _vault("ident") as vault:
                learn_references(vault, [tmp / "reference.png"])
                report = ingest_paths(vault, [tmp / "groups"], progress=False)
                correct = wrong = 0
                for rec in load_records(vault):
                    for s in rec.samples:
                        cx = (s.info["bbox"][0] + s.info["bbox"][2]) / 2
                        hit = any(x0 <= cx < x1 for x0, _, x1, _ in truth.get(rec.filename, []))
                        correct, wrong = correct + hit, wrong + (not hit)
            positives = sum(1 for cells in truth.values() if cells)
            precision = correct / max(correct + wrong, 1)
            lines.append(f"identity ({name}): precision {precision:.0%} ({correct}/{correct + wrong} kept faces are "
                         f"the subject), recall {correct / positives:.0%} ({correct}/{positives} photos with the "
                         f"subject); {report.other_faces} other faces left out, {len(report.doubtful)} doubtful")
    return lines


def bench_asr(repeats: int = 5) -> list[str]:
    import soundfile as sf

    from generation.speech import asr

    clip = MEDIA / "jfk-inaugural.flac"
    if not clip.exists():
        return [f"ASR: skipped, real media missing ({clip})"]
    t0 = time.perf_counter()
    rec = asr.load()
    load_s = time.perf_counter() - t0
    audio, sr = sf.read(clip, dtype="float32")
    audio = audio.mean(axis=1) if audio.ndim > 1 else audio
    heard = asr.transcribe(audio, sr)
    wer = asr.word_error_rate((MEDIA / "jfk-inaugural.txt").read_text(), heard)
    question = audio[: 5 * sr]
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        asr.transcribe(question, sr)
        times.append(time.perf_counter() - t0)
    from generation.speech import tts
    from tests.speech.test_memory import PARAPHRASES

    errors = words = 0.0
    for q, _ in PARAPHRASES:  # questions spoken by the offline neural voice
        speech = tts.speak(q)
        n = len(asr.normalize(q))
        errors += asr.word_error_rate(q, asr.transcribe(speech.audio, speech.sample_rate)) * n
        words += n
    return [f"ASR ({rec.name}): WER {errors / words:.1%} on {len(PARAPHRASES)} TTS-spoken questions "
            f"({words:.0f} words)",
            f"ASR ({rec.name}{', fallback: ' + rec.fallback_reason if rec.fallback_reason else ''}): "
            f"WER {wer:.1%} on the JFK clip (target <= {WER_TARGET:.0%}); heard: {heard!r}",
            f"ASR latency for a 5 s question: median {statistics.median(times):.2f} s over {repeats} "
            f"(target <= {LATENCY_TARGET:.0f} s); model load once per process {load_s:.1f} s"]


def main(quick: bool = False) -> None:
    for line in bench_asr():
        print(line, flush=True)
    for line in bench_identity():
        print(line, flush=True)
    n = 30 if quick else 120
    for parallel in (False, True):
        rate, cpu, what = bench_photos(n, parallel)
        print(f"photos ({'2 worker processes' if parallel else 'one process'}): {rate:.2f} photos/s, "
              f"{cpu * 1000:.0f} ms CPU per photo, through the whole ingest path with identity "
              f"({n} photos of 480-1024 px, a third of them groups of 3; {what})", flush=True)
    print(f"  machine load while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores", flush=True)
    for line in bench_video(600.0 if quick else 3600.0):
        print(line, flush=True)


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
