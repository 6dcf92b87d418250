"""Reading recordings, the signal-based mouth, and the per-subject audio -> expression model."""

import numpy as np
import pytest

from assets.errors import UsageError
from generation.speech import audio_driven, audio_io, audio_model, recording, sync
from generation.speech import visemes as vz

from .media import encode_audio

JAW = list(vz.MOUTH).index("jaw_open")


def syllables(sr: int, seconds: float = 3.0, rate_hz: float = 4.0) -> tuple[np.ndarray, np.ndarray]:
    """A voiced buzz whose loudness rises and falls like syllables; returns (audio, envelope)."""
    t = np.arange(int(seconds * sr)) / sr
    env = np.clip(np.sin(2 * np.pi * rate_hz * t), 0, None) ** 1.5
    buzz = np.sign(np.sin(2 * np.pi * 120 * t)) * 0.3 + 0.2 * np.sin(2 * np.pi * 700 * t)
    return (buzz * env * 0.8).astype(np.float32), env


@pytest.mark.parametrize("fmt, sr, channels", [("wav", 8000, 1), ("flac", 96000, 2), ("mp3", 44100, 1)])
def test_decode_formats(fmt, sr, channels):
    audio, _ = syllables(sr, 1.0)
    out, rate = audio_io.decode(encode_audio(audio, sr, fmt, channels), f"clip.{fmt}")
    assert out.ndim == 1 and out.dtype == np.float32
    assert rate == min(sr, 48000)
    assert abs(len(out) / rate - 1.0) < 0.1
    assert np.abs(out).max() > 0.3


@pytest.mark.parametrize("data, words", [(b"", "empty"), (b"RIFF\x00\x00garbage" * 20, "not a readable audio file")])
def test_decode_bad_files(data, words):
    with pytest.raises(UsageError, match=words):
        audio_io.decode(data, "bad.wav")


def test_signal_mouth_follows_the_energy():
    sr, fps = 16000, 30.0
    audio, env = syllables(sr)
    n = int(3.0 * fps)
    mouth = audio_driven.signal_mouth(audio, sr, fps, n, lead_s=0.0)
    frame_env = env[(np.arange(n) / fps * sr).astype(int)]
    assert np.corrcoef(mouth[:, JAW], frame_env)[0, 1] > 0.8
    assert np.abs(np.diff(mouth, axis=0)).max() < 0.5  # smoothed
    assert not np.any(audio_driven.signal_mouth(np.zeros(sr, np.float32), sr, fps, 30))  # silence: rest


def test_recording_track_on_one_clock():
    sr = 16000
    audio, _ = syllables(sr)
    tk = recording.recording_track(None, encode_audio(audio, sr, "wav"), "clip.wav")
    assert tk.source == "recording" and tk.meta["mouth"].startswith("signal")
    assert abs(tk.duration - 3.0) < 0.05 and tk.sample_rate == sr
    # the mouth runs ahead of the sound by the lead a real mouth has, inside the ITU tolerance
    assert abs(sync.xcorr_offset_ms(tk) - audio_driven.MOUTH_LEAD_S * 1000) <= 20
    assert sync.within_itu(sync.xcorr_offset_ms(tk))


def test_silence_and_noise_are_refused():
    sr = 16000
    with pytest.raises(UsageError, match="silent"):
        recording.speech_check(np.zeros(sr * 2, np.float32), sr, "quiet.wav")
    noise = np.random.default_rng(0).normal(0, 0.3, sr * 3).astype(np.float32)
    with pytest.raises(UsageError, match="does not sound like speech"):
        recording.speech_check(noise, sr, "noise.wav")
    t = np.arange(sr * 4) / sr
    notes = np.array([220, 262, 330, 392])[(t * 2).astype(int) % 4]
    music = (0.3 * np.sin(2 * np.pi * np.cumsum(notes) / sr)).astype(np.float32)
    with pytest.raises(UsageError, match="does not sound like speech"):
        recording.speech_check(music, sr, "song.wav")


def test_audio_model_learns_synthetic_aligned_data():
    """No subject talking video here yet: the model is checked on audio whose mouth is known by construction."""
    audio, sr, times, y = audio_model.synthetic_pairs(30.0, seed=1)
    x = audio_model.windows(audio_model.features(audio, sr), times)
    assert x.shape == (len(times), audio_model.N_MELS, audio_model.WIN_FRAMES)
    cut = int(len(x) * 0.75)
    ckpt = audio_model.train(x[:cut], y[:cut], steps=150)
    restored = audio_model.from_bytes(audio_model.to_bytes(ckpt))  # weights_only round trip
    pred = audio_model.predict(restored, audio, sr, times)[cut:]
    assert np.corrcoef(pred[:, JAW], y[cut:, JAW])[0, 1] > 0.7  # held-out frames
    shuffled = np.random.default_rng(0).permutation(y[cut:, JAW])
    assert abs(np.corrcoef(pred[:, JAW], shuffled)[0, 1]) < 0.3


def test_silence_around_speech_does_not_change_how_the_speech_reads():
    """A replayed clip that is half breath pause must feed the model the same speech as a clip that is
    all talk: the normalisation comes from the speech frames, not from every frame."""
    audio, sr, _, _ = audio_model.synthetic_pairs(4.0, seed=3)
    pause = np.random.default_rng(0).normal(0, 1e-4, 3 * sr).astype(np.float32)  # a quiet room, 3 s
    alone = audio_model.features(audio, sr)
    padded = audio_model.features(np.concatenate([audio, pause]), sr)[:len(alone)]
    edge = 5  # the last frames' FFT windows reach into the pause
    assert np.abs(alone[:-edge] - padded[:-edge]).max() < 0.02 * alone.std()


def test_training_needs_talking_video(make_subject):
    vault = make_subject("rose")
    with pytest.raises(UsageError, match="talking-video frames"):
        recording.train_subject_model(vault)


def test_signal_mouth_leads_its_sound():
    """The same syllables: with the lead, the frame at t already shows the loudness at t + lead."""
    sr, fps, lead = 16000, 30.0, 0.1
    audio, env = syllables(sr)
    n = int(3.0 * fps)
    mouth = audio_driven.signal_mouth(audio, sr, fps, n, lead_s=lead)
    ahead = env[np.clip(((np.arange(n) / fps + lead) * sr).astype(int), 0, len(env) - 1)]
    now = env[(np.arange(n) / fps * sr).astype(int)]
    assert np.corrcoef(mouth[:, JAW], ahead)[0, 1] > np.corrcoef(mouth[:, JAW], now)[0, 1] + 0.1


def test_the_lipsync_model_has_its_own_key_and_header():
    """`memorial train --checkpoint NAME` writes under checkpoint/: it can never overwrite the lip-sync model,
    and a blob that is not a lip-sync model is refused in one line."""
    import io

    import torch

    from assets.artifacts import KEYS, ArtifactError
    from generation.speech import audio_model
    from generation.speech.recording import CHECKPOINT_KEY

    assert CHECKPOINT_KEY == KEYS["lipsync"] and not CHECKPOINT_KEY.startswith(KEYS["checkpoint"].format(name=""))
    other = io.BytesIO()
    torch.save({"format": "GeneratorCheckpoint", "config": {"version": audio_model.VERSION}}, other)
    for blob in (other.getvalue(), b"not a checkpoint"):
        with pytest.raises(ArtifactError):
            audio_model.from_bytes(blob)


def test_the_seed_alone_decides_the_adapted_model():
    """`lipsync train --seed`: the same seed gives the same weights, another seed other batches."""
    audio, sr, times, y = audio_model.synthetic_pairs(6.0, seed=2)
    x = audio_model.windows(audio_model.features(audio, sr), times)
    a, b, c = (audio_model.train(x, y, steps=20, seed=s) for s in (3, 3, 4))
    assert all(np.array_equal(a["state"][k], b["state"][k]) for k in a["state"])
    assert not all(np.array_equal(a["state"][k], c["state"][k]) for k in a["state"])


def test_an_ensemble_predicts_the_mean_of_its_members_and_survives_storage():
    audio, sr, times, y = audio_model.synthetic_pairs(6.0, seed=2)
    x = audio_model.windows(audio_model.features(audio, sr), times)
    a, b = (audio_model.train(x, y, steps=20, seed=s) for s in (5, 6))
    both = audio_model.from_bytes(audio_model.to_bytes(audio_model.ensemble([a, b])))  # weights_only round trip
    mean = (audio_model.predict_windows(a, x) + audio_model.predict_windows(b, x)) / 2
    assert np.abs(audio_model.predict_windows(both, x) - mean).max() < 1e-5
    assert np.abs(audio_model.predict_windows(a, x) - mean).max() > 1e-3  # the members differ


def test_a_warped_reading_puts_a_formant_where_a_shorter_vocal_tract_would():
    """The prior's other voices: warp 1.2 reads a 1000 Hz resonance in the band a 1200 Hz one
    fills unwarped, and a warp of 1 is the plain reading."""
    from scipy.signal import lfilter

    sr, n = audio_model.SR, audio_model.SR
    pulses = np.zeros(n)
    pulses[::sr // 100] = 1.0  # 100 Hz voice
    def vowel(f):
        r = np.exp(-np.pi * 60 / sr)
        return lfilter([1 - r], [1, -2 * r * np.cos(2 * np.pi * f / sr), r * r], pulses).astype(np.float32)
    peak = lambda mel: int(np.argmax(mel[20:80].mean(0)))
    v = vowel(1000)  # one power spectrum read through several warps is each warp's own reading
    assert np.array_equal(audio_model.log_mel(v, sr, 1.2, audio_model.power_spectrum(v, sr)), audio_model.log_mel(v, sr, 1.2))
    assert abs(peak(audio_model.log_mel(vowel(1000), sr, 1.2)) - peak(audio_model.log_mel(vowel(1200), sr))) <= 1
    assert peak(audio_model.log_mel(vowel(1200), sr)) - peak(audio_model.log_mel(vowel(1000), sr)) >= 2
