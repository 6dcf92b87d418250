"""Speech, lip sync and living motion: ExpressionTracks from text, recordings, video and idle.

The avatar speaks only authored words (Action.AUTHOR) or the person's own recordings
(Action.USE_VOICE, needs voice consent); these entry points check that before any work.
"""

from __future__ import annotations

from pathlib import Path


def say_text(vault, text: str, name: str = "demo-line", voice: str | Path | None = None, seed: int = 0,
             gaze_target=None, progress=None):
    """Speak an authored line: TTS + visemes + idle on one clock; stored at track/<name> and returned."""
    from ..vault.roles import Action
    from . import track as tr
    from .tts import speak

    vault.authorize(Action.AUTHOR)
    key = tr.track_key(name)
    speech = speak(text, voice, progress=progress)
    result = tr.speech_track(speech, seed=seed, gaze_target=gaze_target, text=text)
    tr.store(vault, result, name)
    vault.log("track_from_text", track=key, characters=len(text), voice=speech.meta["voice"],
              duration_s=round(result.duration, 2))
    return result


def idle_track(duration: float, fps: float = 30, seed: int = 0, gaze_target=None):
    """Idle ExpressionTrack (blinks, saccades, gaze at `gaze_target`, breathing, sway); not stored."""
    from .idle import idle_track as _idle

    return _idle(duration, fps=fps, seed=seed, gaze_target=gaze_target)
