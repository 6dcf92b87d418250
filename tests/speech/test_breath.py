"""Breath pauses: long silences between phrases part the lips; short articulation gaps do not."""

import numpy as np
import pytest

from generation.speech import breath, recording
from generation.speech import visemes as vz

from .media import encode_audio
from .test_audio import syllables

JAW = list(vz.MOUTH).index("jaw_open")
SR = 16000


def two_phrases(gap_s: float) -> np.ndarray:
    """1 s of syllables, `gap_s` of digital silence, 1 s of syllables."""
    speech, _ = syllables(SR, 1.0)
    return np.concatenate([speech, np.zeros(int(gap_s * SR), np.float32), speech])


def test_only_long_silences_are_breath_pauses():
    (span,) = breath.pauses(two_phrases(0.8), SR)
    # the silence runs 1.0-1.8 s; the syllables' own quiet tails widen it by at most one syllable half
    assert span[0] == pytest.approx(1.0, abs=0.13) and span[1] == pytest.approx(1.8, abs=0.02)
    assert breath.pauses(two_phrases(0.25), SR) == []  # an articulation gap, not a breath
    assert breath.pauses(np.zeros(SR, np.float32), SR) == []
    # silence before the first phrase and after the last is rest, not a breath between phrases
    speech, _ = syllables(SR, 1.0)
    quiet = np.zeros(SR, np.float32)
    assert breath.pauses(np.concatenate([quiet, speech, quiet]), SR) == []


def test_the_lips_part_inside_a_pause_and_ease_back_at_its_edges():
    t = np.arange(0, 3.0, 1 / 30)
    audio = two_phrases(1.0)
    closed = np.zeros(len(t), np.float32)
    jaw = breath.open_for_breath(closed, t, audio, SR, opening=0.3)
    inside = (t > 1.3) & (t < 1.7)
    assert np.allclose(jaw[inside], 0.3, atol=1e-6)
    assert np.all(jaw[t < 0.9] == 0) and np.all(jaw[t > 2.05] == 0)  # speech is left to the model
    assert np.abs(np.diff(jaw)).max() < 0.15  # eased over several frames, no 0.3 snap
    wide = np.full(len(t), 0.6, np.float32)
    assert np.array_equal(breath.open_for_breath(wide, t, audio, SR, 0.3), wide)  # never closes a mouth


def test_a_mouth_that_runs_ahead_goes_from_the_phrase_into_the_breath_without_closing():
    """The curve leads its sound by 110 ms, so it finishes the phrase 110 ms before the silence starts;
    on the sound's clock the breath would start only then, and the lips would shut and part again."""
    t = np.arange(0, 3.0, 1 / 30)
    audio = two_phrases(1.0)
    (start, end), = breath.pauses(audio, SR)
    lead = 0.11
    closing = np.clip((t - (start - lead)) / 0.12, 0, 1)  # eases shut from where the curve ends the phrase
    jaw = (0.5 * (1 - closing) + 0.5 * ((t > end - lead) & (t < end + 0.5))).astype(np.float32)
    gap = (t > start - lead) & (t < end - lead)
    assert breath.open_for_breath(jaw, t, audio, SR, 0.3)[gap].min() < 0.1  # on the sound's clock: shut
    held = breath.open_for_breath(jaw, t, audio, SR, 0.3, lead_s=lead)
    assert held[gap].min() > 0.15
    assert np.allclose(held[(t > start + 0.05) & (t < end - lead)], 0.3, atol=1e-6)  # then the breath itself
    assert np.array_equal(held[t < start - lead], jaw[t < start - lead])  # the phrase is the model's


def test_the_opening_is_the_persons_own():
    t = np.arange(0, 3.0, 1 / 25)
    jaw = np.where((t > 1.2) & (t < 1.8), 0.42, 0.1).astype(np.float32)
    jaw[::7] = 0.9  # talking frames vary; the pause's frames decide
    assert breath.opening_of([(jaw, t, two_phrases(1.0), SR)]) == pytest.approx(0.42)
    # no breath pause in her videos: her median jaw over all frames
    t2 = np.arange(0, 2.25, 1 / 25)
    talk = np.linspace(0.0, 0.5, len(t2)).astype(np.float32)
    assert breath.opening_of([(talk, t2, two_phrases(0.25), SR)]) == pytest.approx(0.25, abs=0.01)
    assert breath.opening_of([]) == breath.DEFAULT_OPENING


def test_a_replayed_recording_breathes_with_its_pauses():
    tk = recording.recording_track(None, encode_audio(two_phrases(1.0), SR, "wav"), "clip.wav")
    t = np.arange(len(tk.codes)) / tk.fps
    mouth_jaw = tk.codes[:, vz.MOUTH_IDX[JAW]]
    assert np.all(mouth_jaw[(t > 1.3) & (t < 1.7)] >= breath.DEFAULT_OPENING - 1e-3)


def test_the_models_jaw_is_steepened_around_her_median_talking_jaw():
    jaw = np.array([-0.1, 0.0, 0.1, 0.3, 0.5, 0.8], np.float32)
    out = recording.steepen(jaw, 0.3, contrast=1.5)
    assert out[3] == pytest.approx(0.3)  # her median stays put
    assert out[0] == 0 and out[1] == 0  # in 0..1
    assert out[2] < 0.1 and 0.5 < out[4] < 0.8 and out[5] == 1.0  # closer below, wider above (clipped at 1)
    assert np.all(np.diff(out) >= 0)  # the order of her openings is kept
    assert np.allclose(recording.steepen(jaw, 0.3, contrast=1.0), np.clip(jaw, 0, 1))
    assert np.allclose(recording.steepen(jaw, 0.0), np.clip(jaw, 0, 1))  # an older model has no median
