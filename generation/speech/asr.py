"""Offline speech recognition for conversation: pocketsphinx (its English model ships in the wheel)."""

from __future__ import annotations

import numpy as np

from ..errors import UsageError
from .audio_io import resample

SR = 16000
_DECODER = None


def transcribe(audio: np.ndarray, sr: int) -> str:
    """Mono float audio -> lower-case words ('' when nothing was recognised)."""
    global _DECODER
    try:
        from pocketsphinx import Decoder
    except ImportError:
        raise UsageError("speech recognition needs the 'pocketsphinx' package (pip install pocketsphinx); "
                         "or pass the question as --text") from None
    if _DECODER is None:
        _DECODER = Decoder(samprate=SR, loglevel="FATAL")
    pcm = (np.clip(resample(audio, sr, SR), -1, 1) * 32767).astype(np.int16).tobytes()
    _DECODER.start_utt()
    _DECODER.process_raw(pcm, full_utt=True)
    _DECODER.end_utt()
    hyp = _DECODER.hyp()
    return hyp.hypstr.strip() if hyp is not None else ""


def word_error_rate(reference: str, hypothesis: str) -> float:
    """Levenshtein distance over words / reference length."""
    ref, hyp = reference.lower().split(), hypothesis.lower().split()
    d = np.arange(len(hyp) + 1)
    for i, r in enumerate(ref, 1):
        prev, d[0] = d.copy(), i
        for j, h in enumerate(hyp, 1):
            d[j] = min(prev[j] + 1, d[j - 1] + 1, prev[j - 1] + (r != h))
    return float(d[len(hyp)]) / max(len(ref), 1)
