"""Audio/visual sync measures on one track: both read the same clock (sample 0 = frame 0).

Positive offsets mean the audio comes later than the picture (mouth leads), which viewers
tolerate up to 125 ms; audio ahead of the picture is visible beyond 45 ms (ITU-R BT.1359).
"""

from __future__ import annotations

import numpy as np

from assets import expression
from assets.artifacts import ExpressionTrack

RATE = 200.0  # Hz: analysis grid, 5 ms
AUDIO_AHEAD_LIMIT_MS = 45.0
AUDIO_BEHIND_LIMIT_MS = 125.0


def envelope(audio: np.ndarray, sr: int, rate: float = RATE, win_s: float = 0.03) -> np.ndarray:
    """RMS envelope on a `rate` Hz grid, [N]."""
    hop = sr / rate
    n = int(len(audio) / hop)
    half = int(win_s * sr / 2)
    sq = np.concatenate([[0.0], np.cumsum(audio.astype(np.float64) ** 2)])
    centres = (np.arange(n) * hop).astype(int)
    a = np.clip(centres - half, 0, len(audio))
    b = np.clip(centres + half, 0, len(audio))
    return np.sqrt((sq[b] - sq[a]) / np.maximum(b - a, 1))


def control_curve(track: ExpressionTrack, name: str, rate: float = RATE) -> np.ndarray:
    """One control resampled (linear) to the analysis grid, [N]."""
    t = np.arange(int(track.duration * rate)) / rate
    frames = np.arange(len(track.codes)) / track.fps
    return np.interp(t, frames, track.codes[:, expression.index(name)])


def xcorr_offset_ms(track: ExpressionTrack, name: str = "jaw_open", max_lag_ms: float = 250.0) -> float:
    """Lag (ms) that best aligns the control with the speech envelope; + = audio later than mouth."""
    assert track.audio is not None, "track has no audio"
    env = envelope(track.audio, track.sample_rate)
    cur = control_curve(track, name)
    n = min(len(env), len(cur))
    env, cur = env[:n] - env[:n].mean(), cur[:n] - cur[:n].mean()
    max_lag = int(max_lag_ms / 1000 * RATE)
    lags = np.arange(-max_lag, max_lag + 1)
    scores = np.array([np.dot(cur[max(0, -l):n - max(0, l)], env[max(0, l):n - max(0, -l)]) for l in lags])
    i = int(np.argmax(scores))
    frac = 0.0
    if 0 < i < len(scores) - 1:  # parabolic refinement below one grid step
        y0, y1, y2 = scores[i - 1:i + 2]
        den = y0 - 2 * y1 + y2
        frac = 0.5 * (y0 - y2) / den if den != 0 else 0.0
    return float((lags[i] + frac) / RATE * 1000)


def plosive_offsets_ms(track: ExpressionTrack) -> list[tuple[float, float]]:
    """For each bilabial stop (p, b, m-less) followed by sound: (release offset, peak lead) in ms.

    The lips are pressed (mouth_press peaks) during the stop's silence and part when the
    burst's energy starts. release offset = burst onset - time the press falls to half its
    peak (0 is perfect sync; + = audio later than the picture). peak lead = burst onset -
    press peak (positive: the closure is visible before the sound, as in real speech).
    """
    assert track.audio is not None
    env = envelope(track.audio, track.sample_rate, win_s=0.01)
    press = control_curve(track, "mouth_press")
    out = []
    for start, end, ph, vis in track.phonemes:
        if not ph or ph[0] not in "pb":
            continue
        a, b = int(start * RATE), int(min(end + 0.08, track.duration) * RATE)
        if b - a < 4 or b > len(env):
            continue
        closure = a + int(np.argmin(env[a:int(end * RATE) + 1]))  # the silent stop itself
        seg = env[closure:b]
        floor, top = seg.min(), seg.max()
        if len(seg) < 3 or top < 4 * floor + 1e-4:
            continue
        onset = closure + int(np.argmax(seg > floor + 0.3 * (top - floor)))
        lo, hi = max(int((start - 0.1) * RATE), 0), min(int((end + 0.1) * RATE), len(press))
        if hi - lo < 2:
            continue
        peak = lo + int(np.argmax(press[lo:hi]))
        after = press[peak:hi]
        release = peak + int(np.argmax(after < 0.5 * press[peak])) if np.any(after < 0.5 * press[peak]) else hi
        out.append(((onset - release) / RATE * 1000, (onset - peak) / RATE * 1000))
    return out


def within_itu(offset_ms: float) -> bool:
    """True when audio is not more than 45 ms ahead of, nor 125 ms behind, the picture."""
    return -AUDIO_AHEAD_LIMIT_MS <= offset_ms <= AUDIO_BEHIND_LIMIT_MS
