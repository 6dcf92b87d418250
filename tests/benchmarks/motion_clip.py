"""The shared talking clip split for self-reenactment: first 6 s to ingest, last 2 s held out.

The training part is re-encoded (H.264 + AAC, as a phone or editor would write it) with
its voice; the held-out part is kept as decoded frames (for the real mouth and texture)
and as a WAV of its voice (what `memorial say --audio` replays).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tests.provenance.media import write_mp4

REPO = Path(__file__).resolve().parents[2]
CLIP = REPO.parent / "shared" / "media" / "talking-clip-aoc.mp4"
TRAIN_S = 6.0


@dataclass
class SplitClip:
    train_mp4: Path  # first TRAIN_S seconds, video + voice
    heldout_wav: Path  # the rest of the voice
    heldout_frames: list  # [H,W,3] uint8 frames from TRAIN_S on
    heldout_times: np.ndarray  # [T] seconds from the start of the held-out part
    fps: float


def available() -> bool:
    return CLIP.is_file()


def split(out_dir: Path, train_s: float = TRAIN_S) -> SplitClip:
    import av
    import soundfile as sf

    out_dir.mkdir(parents=True, exist_ok=True)
    frames, times, fps = [], [], 25.0
    with av.open(str(CLIP)) as c:
        v = c.streams.video[0]
        fps = float(v.average_rate or 25)
        for f in c.decode(v):
            frames.append(f.to_ndarray(format="rgb24"))
            times.append(float(f.pts * v.time_base))
    with av.open(str(CLIP)) as c:
        a = c.streams.audio[0]
        sr = int(a.rate)
        res = av.AudioResampler(format="flt", layout="mono", rate=sr)
        chunks = [o.to_ndarray().reshape(-1) for f in c.decode(a) for o in res.resample(f)]
        chunks += [o.to_ndarray().reshape(-1) for o in res.resample(None)]
    audio = np.concatenate(chunks).astype(np.float32)
    times = np.asarray(times)
    cut = int(round(train_s * sr))
    train_frames = [f for f, t in zip(frames, times) if t < train_s - 1e-6]
    held = [(f, t - train_s) for f, t in zip(frames, times) if t >= train_s - 1e-6]

    mp4 = write_mp4(out_dir / "clip-train.mp4", train_frames, fps=int(round(fps)), audio=audio[:cut], rate=sr, crf=12)
    wav = out_dir / "clip-heldout.wav"
    sf.write(str(wav), audio[cut:], sr)
    return SplitClip(mp4, wav, [f for f, _ in held], np.array([t for _, t in held]), fps)
