"""A recording of the person -> mouth curves.

Two ways: a small per-subject model (audio_model.py) when one was trained on the
subject's own talking video, else this signal-based fallback: speech energy opens the
jaw, spectral shape chooses spread (bright, high centroid: i, s) or round (dark, low
centroid: o, u), and short silences inside speech close the lips (p, b, m).
"""

from __future__ import annotations

import numpy as np

from . import sync
from . import visemes as vz


MOUTH_LEAD_S = 0.1  # a real mouth moves before the sound it makes


def features(audio: np.ndarray, sr: int, fps: float, n: int, lead_s: float = 0.0) -> dict[str, np.ndarray]:
    """Per-frame RMS energy (0..1 of the clip's loud level) and spectral centroid (Hz), each [n],
    measured `lead_s` after each frame's time."""
    hop = sr / fps
    win = int(0.04 * sr)
    energy = np.zeros(n)
    centroid = np.zeros(n)
    window = np.hanning(win)
    freqs = np.fft.rfftfreq(win, 1 / sr)
    for k in range(n):
        a = int(k * hop + hop / 2 - win / 2 + lead_s * sr)
        seg = audio[max(a, 0):max(a, 0) + win]
        if len(seg) < win:
            seg = np.pad(seg, (0, win - len(seg)))
        energy[k] = np.sqrt(np.mean(seg**2))
        spec = np.abs(np.fft.rfft(seg * window))
        centroid[k] = np.sum(freqs * spec) / (np.sum(spec) + 1e-9)
    loud = np.percentile(energy, 95) if n else 1.0
    return {"energy": np.clip(energy / (loud + 1e-9), 0, 1.5), "centroid": centroid, "level": float(loud)}


def signal_mouth(audio: np.ndarray, sr: int, fps: float, n: int, lead_s: float = MOUTH_LEAD_S) -> np.ndarray:
    """Mouth controls [n,6] (visemes.MOUTH order) from the signal alone.

    Timed against real mouths, not only the audio: the frame at t shows the sound at t + lead_s.
    On the shared real talking clip her lip gap matched the speech energy best 120-140 ms
    ahead of it (the mouth opens before a syllable's loudness peaks; audio-visual speech
    studies report 100-300 ms at onsets); 100 ms keeps the audio within the ITU-R BT.1359
    tolerance (sound up to 125 ms after the picture)."""
    f = features(audio, sr, fps, n, lead_s)
    mouth = np.zeros((n, len(vz.MOUTH)), dtype=np.float32)
    if f["level"] < 1e-4:  # silence: the mouth stays at rest
        return mouth
    e = f["energy"]
    voiced = e > 0.12
    jaw = np.clip((e - 0.08) / 0.9, 0, 1) ** 0.7 * 0.75
    c = np.clip((f["centroid"] - 700) / 2300, 0, 1)  # 0 = dark/round, 1 = bright/spread
    spread = voiced * c * 0.3
    rounded = voiced * (1 - c) * 0.45
    # lips close in short gaps inside speech (stops), not in long pauses
    press = np.zeros(n)
    gap = ~voiced
    k = 0
    while k < n:
        if gap[k]:
            j = k
            while j < n and gap[j]:
                j += 1
            if 0 < k and j < n and (j - k) / fps <= 0.15:
                press[k:j] = 0.8
            k = j
        else:
            k += 1
    mouth[:, 0] = jaw
    mouth[:, 1] = mouth[:, 2] = spread
    mouth[:, 3] = rounded * 0.6
    mouth[:, 4] = rounded
    mouth[:, 5] = press
    return smooth(mouth, fps)


def smooth(x: np.ndarray, fps: float, tau_s: float = 0.035) -> np.ndarray:
    """Zero-phase one-pole smoothing (forward + backward): no snapping and no added delay."""
    a = np.exp(-1.0 / (tau_s * fps))
    y = x.astype(np.float64).copy()
    for rng in (range(1, len(y)), range(len(y) - 2, -1, -1)):
        prev = y[0] if rng.start == 1 else y[-1]
        for k in rng:
            prev = a * prev + (1 - a) * y[k]
            y[k] = prev
    return y.astype(np.float32)


def speech_fraction(audio: np.ndarray, sr: int) -> float:
    """Share of 10 ms frames that look like speech (energy well above the floor)."""
    env = sync.envelope(audio, sr, rate=100)
    if len(env) == 0 or env.max() < 1e-4:
        return 0.0
    floor = np.percentile(env, 10)
    return float(np.mean(env > max(4 * floor, 0.05 * env.max())))
