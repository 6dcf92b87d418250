"""The spread-spectrum audio watermark: round trip, AAC and MP3 at 128 kbit/s, false alarms."""

from __future__ import annotations

import numpy as np
import pytest

from generation.provenance import audio_mark, payload

from .media import reencode_audio, speech

CID = "9b2e6f10-4c3d-4e5f-8a7b-1c2d3e4f5a6b"
SHORT = payload.short_id(CID)


@pytest.fixture(scope="module")
def voice():
    """What an export sounds like: the spoken AI notice, then the likeness speaking."""
    from generation.provenance import notice

    x, rate = speech()
    lead, _, _ = notice.spoken("en", rate)
    return np.concatenate([lead, x]), rate


@pytest.fixture(scope="module")
def marked(voice):
    x, rate = voice
    return audio_mark.embed(x, rate, CID), rate


def test_round_trip_keeps_the_sound(voice, marked):
    x, rate = voice
    y, _ = marked
    assert y.shape == x.shape and y.dtype == np.float32
    snr = 10 * np.log10(np.sum(x.astype(float) ** 2) / np.sum((y.astype(float) - x) ** 2))
    assert snr > 15, snr
    found = audio_mark.detect(y, rate)
    assert found.short_id == SHORT and found.method == "crc"


@pytest.mark.parametrize("codec", ["aac", "libmp3lame"])
def test_survives_lossy_reencoding_at_128k(marked, codec):
    y, rate = marked
    z, zrate = reencode_audio(y, rate, codec, 128000)
    assert audio_mark.detect(z, zrate).short_id == SHORT


def test_survives_resampling_and_a_shift(marked):
    from scipy.signal import resample_poly

    y, rate = marked
    z = resample_poly(np.concatenate([np.zeros(1234, np.float32), y]), 160, 147)  # 22050 -> 24000 Hz
    assert audio_mark.detect(z, 24000).short_id == SHORT


def test_unmarked_speech_and_noise_give_no_id(voice):
    x, rate = voice
    assert audio_mark.detect(x, rate).short_id is None
    noise = np.random.default_rng(1).normal(0, 0.1, rate * 5).astype(np.float32)
    assert audio_mark.detect(noise, rate).short_id is None


def test_too_short_audio_is_refused(voice):
    x, rate = voice
    with pytest.raises(ValueError, match="too short"):
        audio_mark.embed(x[: rate], rate, CID)
