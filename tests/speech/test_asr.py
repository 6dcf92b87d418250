"""Whisper as the default recogniser, pocketsphinx as the reported fallback, WER on real speech."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assets.errors import UsageError
from generation.speech import asr

MEDIA = Path(__file__).resolve().parents[2] / ".." / "shared" / "media"


@pytest.fixture
def fresh_loader():
    asr.load.cache_clear()
    yield
    asr.load.cache_clear()


def test_word_error_rate_ignores_case_and_punctuation():
    assert asr.word_error_rate("And so, my fellow Americans:", "and so my fellow americans") == 0
    assert asr.word_error_rate("don't ask", "do not ask") == pytest.approx(1.0)  # 1 sub + 1 insertion over 2
    assert asr.word_error_rate("a b c d", "a x c") == pytest.approx(0.5)


def test_whisper_is_the_default_and_loaded_once(fresh_loader):
    first = asr.load()
    assert first.name == "whisper tiny.en" and first.fallback_reason == ""
    assert asr.load() is first


def test_whisper_on_the_jfk_clip():
    import soundfile as sf

    clip = MEDIA / "jfk-inaugural.flac"
    if not clip.exists():
        pytest.skip(f"real media missing: {clip}")
    audio, sr = sf.read(clip, dtype="float32")
    heard = asr.transcribe(audio.mean(axis=1), sr)
    wer = asr.word_error_rate((MEDIA / "jfk-inaugural.txt").read_text(), heard)
    assert wer <= 0.08, heard


def test_silence_gives_no_words():
    assert asr.word_error_rate("", asr.transcribe(np.zeros(16000, np.float32), 16000)) == 0


def test_fallback_to_pocketsphinx_is_reported(fresh_loader, monkeypatch):
    pytest.importorskip("pocketsphinx", reason="pocketsphinx is not installed")

    def missing():
        raise ImportError("No module named 'faster_whisper'", name="faster_whisper")

    monkeypatch.setattr(asr, "_whisper", missing)
    rec = asr.load()
    assert rec.name == "pocketsphinx" and "faster_whisper" in rec.fallback_reason
    assert isinstance(asr.transcribe(np.zeros(8000, np.float32), 16000), str)


def test_no_recogniser_at_all_is_a_clear_error(fresh_loader, monkeypatch):
    import builtins

    real = builtins.__import__

    def fake(name, *a, **k):
        if name in ("pocketsphinx", "faster_whisper"):
            raise ImportError(name, name=name)
        return real(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", fake)
    with pytest.raises(UsageError, match="pocketsphinx is not installed either"):
        asr.transcribe(np.zeros(16000, np.float32), 16000)


def test_stereo_input_is_refused():
    with pytest.raises(UsageError, match="mono"):
        asr.transcribe(np.zeros((2, 100), np.float32), 16000)
