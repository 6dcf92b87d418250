"""Subtitle cues from a track: its text split into sentences, timed over the voiced span."""

from __future__ import annotations

import re

from assets.artifacts import ExpressionTrack


def cues(track: ExpressionTrack | None) -> list[tuple[float, float, str]]:
    """[(start s, end s, text)], each sentence shown for a share of the time proportional to its length."""
    if track is None or not track.text.strip():
        return []
    sentences = [s.strip() for s in re.split(r"(?<=[.!?…])\s+", track.text.strip()) if s.strip()]
    if track.phonemes:
        start = float(track.phonemes[0][0])
        end = float(track.phonemes[-1][1])
    else:
        start, end = 0.0, track.duration
    end = max(end, start + 0.5)
    total = sum(len(s) for s in sentences)
    out, t = [], start
    for s in sentences:
        d = (end - start) * len(s) / total
        out.append((t, t + d, s))
        t += d
    return out


def text_at(cue_list: list[tuple[float, float, str]], t: float, hold: float = 0.6) -> str:
    """The cue shown at time t; the last one lingers `hold` seconds after it ends."""
    for i, (a, b, s) in enumerate(cue_list):
        last = i == len(cue_list) - 1
        if a <= t < b + (hold if last else 0):
            return s
    return ""
