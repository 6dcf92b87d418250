"""Idle behaviour: blinks, saccades, gaze toward a listener, breathing and slow sway.

Everything is seeded (the same seed gives the same track) yet irregular: blink intervals
come from a gamma process (mean 4 s, about 15 per minute), saccades from another, sway
from a few incommensurate slow sinusoids, so the face is never frozen or periodic.
"""

from __future__ import annotations

import numpy as np

from assets import expression
from assets.artifacts import ExpressionTrack

BLINK_MEAN_S = 4.0  # 15 per minute
BLINK_SHAPE_K = 3.0  # gamma shape: CV ~0.58, irregular but not clustered
EYE_HALF_SPACING_M = 0.032
BREATH_HZ = 0.24  # ~14 breaths per minute


def blink_times(duration: float, rng: np.random.Generator, extra: list[float] = ()) -> list[tuple[float, float]]:
    """(time, length s) of each blink; `extra` adds a blink (a longer one) at given times, e.g. after speech."""
    out = []
    t = rng.uniform(0.3, BLINK_MEAN_S)
    while t < duration:
        out.append((t, rng.uniform(0.22, 0.32)))
        t += max(0.6, rng.gamma(BLINK_SHAPE_K, BLINK_MEAN_S / BLINK_SHAPE_K))
    for e in extra:
        if e < duration:
            out = [b for b in out if abs(b[0] - e) > 0.8]
            out.append((e, rng.uniform(0.35, 0.45)))
    return sorted(out)


def blink_curve(times: np.ndarray, blinks: list[tuple[float, float]]) -> np.ndarray:
    """Eyelid closure [T] 0..1: fast close (a third of the blink), slower open."""
    lid = np.zeros(len(times), dtype=np.float32)
    for t0, length in blinks:
        close = length / 3
        x = times - t0
        down = np.clip(x / close, 0, 1)
        up = np.clip(1 - (x - close) / (length - close), 0, 1)
        shape = np.where(x < close, np.sin(down * np.pi / 2), up**2)
        shape[(x < 0) | (x > length)] = 0
        lid = np.maximum(lid, shape.astype(np.float32))
    return lid


def gaze_angles(target: np.ndarray) -> np.ndarray:
    """Target point(s) in head space (metres; +x subject's left, +y up, +z forward) -> [...,4] code units."""
    target = np.asarray(target, dtype=np.float64)
    out = []
    for side in (+1, -1):  # left eye at +x, right eye at -x
        rel = target - np.array([side * EYE_HALF_SPACING_M, 0.0, 0.0])
        yaw = np.degrees(np.arctan2(rel[..., 0], np.maximum(rel[..., 2], 1e-3)))
        pitch = np.degrees(np.arctan2(rel[..., 1], np.hypot(rel[..., 0], rel[..., 2])))
        out += [yaw / 30.0, pitch / 30.0]
    return np.clip(np.stack(out, axis=-1), -1, 1)


def saccade_offsets(times: np.ndarray, rng: np.random.Generator, amp_deg: float = 1.5) -> np.ndarray:
    """[T,2] yaw/pitch offsets (code units) that jump every 0.4–3 s in about 40 ms and hold."""
    out = np.zeros((len(times), 2))
    t, cur = 0.0, np.zeros(2)
    duration = times[-1] if len(times) else 0
    while t <= duration:
        nxt = t + rng.uniform(0.4, 3.0)
        new = rng.normal(0, amp_deg / 30.0, 2) * np.array([1.0, 0.6])
        x = np.clip((times - t) / 0.04, 0, 1)
        seg = (times >= t) & (times < nxt)
        out[seg] = cur + (new - cur) * x[seg, None]
        cur = new
        t = nxt
    return out


def layer(n: int, fps: float, seed: int = 0, gaze_target=None, speech_ends: list[float] = ()) -> tuple[np.ndarray, np.ndarray]:
    """Idle codes [n,E] (eyes, brows; mouth left neutral) and head pose [n,6]."""
    rng = np.random.default_rng(seed)
    times = np.arange(n) / fps
    duration = n / fps
    codes = expression.neutral(n)
    lid = blink_curve(times, blink_times(duration, rng, [e + rng.uniform(0.1, 0.3) for e in speech_ends]))
    codes[:, expression.index("blink_l")] = lid
    codes[:, expression.index("blink_r")] = np.clip(lid * rng.uniform(0.95, 1.0), 0, 1)
    if gaze_target is None:
        gaze_target = np.array([0.0, 0.0, 1.2])  # a listener straight ahead at conversation distance
    target = np.asarray(gaze_target, dtype=np.float64)
    assert target.shape in ((3,), (n, 3)), f"gaze target must be [3] or [{n},3], got {target.shape}"
    gaze = np.broadcast_to(gaze_angles(target), (n, 4)).copy()
    sacc = saccade_offsets(times, rng)
    gaze[:, [0, 2]] += sacc[:, [0]]
    gaze[:, [1, 3]] += sacc[:, [1]] - 0.1 * lid[:, None]  # eyes dip ~3 degrees in a blink
    codes[:, list(expression.GAZE)] = gaze
    # slow brow drift: a little life, well below an expression
    drift = _slow_noise(times, rng, 0.05, 2)
    codes[:, expression.index("brow_up_l")] = 0.06 + 0.04 * drift[:, 0]
    codes[:, expression.index("brow_up_r")] = 0.06 + 0.04 * drift[:, 1]
    pose = np.zeros((n, 6), dtype=np.float32)
    breath = np.sin(2 * np.pi * (BREATH_HZ * rng.uniform(0.85, 1.15)) * times + rng.uniform(0, 2 * np.pi))
    sway = _slow_noise(times, rng, 0.08, 3)  # [T,3] in -1..1
    pose[:, 0] = 1.5 * sway[:, 0]  # yaw degrees
    pose[:, 1] = 1.0 * sway[:, 1] + 0.4 * breath  # pitch
    pose[:, 2] = 0.8 * sway[:, 2]  # roll
    pose[:, 4] = 0.002 * breath  # chest rise lifts the head by ~2 mm
    return expression.clip(codes), pose


def _slow_noise(times: np.ndarray, rng: np.random.Generator, base_hz: float, k: int) -> np.ndarray:
    """[T,k] smooth -1..1 signals: sums of three sinusoids at unrelated slow frequencies."""
    out = np.zeros((len(times), k))
    for j in range(k):
        freqs = base_hz * rng.uniform(0.5, 2.0, 3)
        phases = rng.uniform(0, 2 * np.pi, 3)
        out[:, j] = np.sum(np.sin(2 * np.pi * freqs[None] * times[:, None] + phases[None]), axis=1) / 3
    return out


def idle_track(duration: float, fps: float = 30, seed: int = 0, gaze_target=None) -> ExpressionTrack:
    """An idle ExpressionTrack of `duration` seconds (not stored; see say_text for storing)."""
    if not duration > 0:
        raise ValueError(f"duration must be positive, got {duration}")
    n = max(1, int(round(duration * fps)))
    codes, pose = layer(n, fps, seed, gaze_target)
    return ExpressionTrack(fps=float(fps), codes=codes, pose=pose, source="idle",
                           meta={"seed": seed, "gaze_target": None if gaze_target is None
                                 else np.asarray(gaze_target, dtype=float).tolist()})
