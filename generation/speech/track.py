"""Speech -> ExpressionTrack: mouth from the phoneme timeline, idle life underneath, one clock."""

from __future__ import annotations

import numpy as np

from assets import expression, vault_door
from assets.artifacts import KEYS, ExpressionTrack
from assets.errors import UsageError
from ..paths import validate_subject_name
from . import coarticulation, idle, sync
from . import visemes as vz

FPS = 30.0
SMILE_LEVEL = 0.35
SMILE_RAMP_S = 0.35


def smile_curve(times: np.ndarray, spans: list[tuple[float, float]]) -> np.ndarray:
    """[T] 0..1 smile level with gentle ramps in and out of each marked span."""
    out = np.zeros(len(times), dtype=np.float32)
    for a, b in spans:
        up = np.clip((times - (a - SMILE_RAMP_S)) / SMILE_RAMP_S, 0, 1)
        down = np.clip(((b + SMILE_RAMP_S) - times) / SMILE_RAMP_S, 0, 1)
        s = np.minimum(up, down)
        out = np.maximum(out, 0.5 - 0.5 * np.cos(np.pi * s))
    return out


def compose(fps: float, n: int, phonemes, audio: np.ndarray | None, sample_rate: int, *, source: str,
            smile_spans=(), seed: int = 0, gaze_target=None, mouth: np.ndarray | None = None, text: str = "",
            meta: dict | None = None) -> ExpressionTrack:
    """Mouth (from phonemes, or given [n,6]) over an idle layer; a speech-energy nod on the pose.

    With audio, the measured audio-to-mouth offset goes into meta["av_offset_ms"].
    """
    times = np.arange(n) / fps
    if mouth is None:
        mouth = coarticulation.mouth_curves(phonemes, times)  # [n,6]
    assert mouth.shape == (n, len(vz.MOUTH)), mouth.shape
    speech_ends = _speech_ends(phonemes)
    codes, pose = idle.layer(n, fps, seed, gaze_target, speech_ends)
    codes[:, vz.MOUTH_IDX] = mouth
    smile = smile_curve(times, list(smile_spans))
    for name, k in (("mouth_smile_l", 1.0), ("mouth_smile_r", 1.0), ("cheek_raise", 0.6)):
        i = expression.index(name)
        codes[:, i] = codes[:, i] + SMILE_LEVEL * k * smile
    if audio is not None:
        env = sync.envelope(audio, sample_rate, rate=fps, win_s=0.2)
        env = np.pad(env, (0, max(0, n - len(env))))[:n]
        env = env / (env.max() + 1e-9)
        pose[:, 1] += 1.2 * env  # a slight nod with emphasis, degrees
        brow = np.convolve(env, np.ones(9) / 9, mode="same")
        for name in ("brow_up_l", "brow_up_r"):
            codes[:, expression.index(name)] += 0.15 * brow
    result = ExpressionTrack(fps=float(fps), codes=expression.clip(codes), pose=pose.astype(np.float32),
                             source=source, audio=None if audio is None else audio.astype(np.float32),
                             sample_rate=sample_rate, phonemes=[tuple(p) for p in phonemes], text=text,
                             meta=dict(meta or {}))
    if audio is not None:
        result.meta["av_offset_ms"] = round(sync.xcorr_offset_ms(result), 1)
    return result


def _speech_ends(phonemes) -> list[float]:
    """Times where a stretch of speech ends in a pause of at least 0.3 s (a blink often follows)."""
    ends = []
    for i, (s, e, p, v) in enumerate(phonemes):
        if v == "sil" and e - s >= 0.3 and i > 0:
            ends.append(s)
    if phonemes and phonemes[-1][3] != "sil":
        ends.append(phonemes[-1][1])
    return ends


def speech_track(speech, fps: float = FPS, seed: int = 0, gaze_target=None, text: str = "") -> ExpressionTrack:
    n = max(1, int(np.ceil(speech.duration * fps)))
    return compose(fps, n, speech.phonemes, speech.audio, speech.sample_rate, source="text",
                   smile_spans=speech.smile_spans, seed=seed, gaze_target=gaze_target, text=text, meta=speech.meta)


def track_key(name: str) -> str:
    try:
        validate_subject_name(name)
    except Exception:
        raise UsageError(f"bad track name {name!r}: use letters, digits, '-' and '_'") from None
    return KEYS["track"].format(name=name)


def store(vault, track: ExpressionTrack, name: str) -> str:
    key = track_key(name)
    vault.put(key, track.to_bytes(), kind="track",
              meta={"source": track.source, "duration_s": round(track.duration, 3), "fps": track.fps})
    return key


def load(vault, name: str) -> ExpressionTrack:
    return vault_door.read(vault, "track", name)
