"""Breath pauses: what the mouth does in the long silences between phrases.

Short gaps inside speech (a stop, a word join, a comma) close the lips, and the audio
models learn that from sound. A long pause between phrases is where a speaker breathes in,
and during speech people breathe in mostly through the mouth (Lester & Hoit 2014, "Nasal
and oral inspiration during natural speech breathing"), so the lips part and stay parted
until the next phrase. The sound says nothing there (an inhalation is quiet, and recordings
are often gated to silence), so a model that reads sound shuts the mouth. This lays the
person's own breathing opening over those spans, easing in and out so phrase onsets and
offsets stay the model's.
"""

from __future__ import annotations

import numpy as np

from . import sync

MIN_PAUSE_S = 0.45  # shorter silences are articulation gaps, not breaths
RAMP_S = 0.12  # the lips part this long after the phrase ends, and close as long before the next
QUIET = 0.03  # silence: envelope below this share of the clip's loud (95th percentile) level
RATE = 100.0
DEFAULT_OPENING = 0.2  # jaw code of a breathing mouth when the person's own is unknown


def pauses(audio: np.ndarray, sr: int, min_s: float = MIN_PAUSE_S) -> list[tuple[float, float]]:
    """(start, end) seconds of every silence at least `min_s` long between two stretches of sound.

    Silence before the first sound and after the last is no pause between phrases: the
    mouth there is left at rest."""
    env = sync.envelope(np.asarray(audio, np.float32), sr, rate=RATE, win_s=0.03)
    if len(env) == 0 or env.max() <= 0:
        return []
    quiet = env < QUIET * np.percentile(env, 95)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], quiet.astype(np.int8), [0]])))
    spans = [(a, b) for a, b in zip(edges[::2], edges[1::2]) if a > 0 and b < len(env)]
    return [(a / RATE, b / RATE) for a, b in spans if (b - a) / RATE >= min_s]


def weight(times: np.ndarray, spans: list[tuple[float, float]], ramp_s: float = RAMP_S,
           lead_s: float = 0.0) -> np.ndarray:
    """[T] in 0..1: how far into a breath each time is (0 outside pauses, 1 once the lips have parted).

    `lead_s` is how far the mouth curve runs ahead of its sound: the breath then starts
    where that curve finishes the phrase (lead_s before the silence), so the lips go
    straight from the phrase's last sound into the breath instead of closing first and
    parting again. The end stays on the sound's clock: the curve already shows the next
    phrase's first sound that far ahead, and the larger of the two is kept."""
    times = np.asarray(times, np.float64)
    w = np.zeros(len(times))
    for a, b in spans:
        inside = np.clip(np.minimum(times - (a - lead_s), b - times) / ramp_s, 0, 1)
        w = np.maximum(w, 0.5 - 0.5 * np.cos(np.pi * inside))  # smooth ease, no corner at either end
    return w


def open_for_breath(jaw: np.ndarray, times: np.ndarray, audio: np.ndarray, sr: int,
                    opening: float = DEFAULT_OPENING, lead_s: float = 0.0) -> np.ndarray:
    """The jaw curve [T] (running `lead_s` ahead of the audio) with the lips parted to `opening`
    in every breath pause."""
    w = weight(times, pauses(audio, sr), lead_s=lead_s)
    return np.maximum(np.asarray(jaw, np.float32), (opening * w).astype(np.float32))


def opening_of(clips: list[tuple[np.ndarray, np.ndarray, np.ndarray, int]]) -> float:
    """The person's breathing opening from her own talking videos, each (jaw [T], times [T],
    audio, sr): her median jaw inside their breath pauses when they have a few frames there,
    else her median jaw over all frames (a resting mouth sits inside the range it moves
    through while talking)."""
    inside = [np.asarray(j)[weight(t, pauses(a, sr)) >= 1] for j, t, a, sr in clips]
    inside = np.concatenate(inside) if inside else np.zeros(0)
    every = np.concatenate([np.asarray(j) for j, _, _, _ in clips]) if clips else np.zeros(0)
    pick = inside if len(inside) >= 5 else every
    return float(np.clip(np.median(pick), 0, 1)) if len(pick) else DEFAULT_OPENING
