"""The per-subject audio -> expression model trained from what ingest stores: audio/<sha> + sample/<sha>.

The talking video is made here (Grace Hopper's mouth warped open and shut, with a voiced
sound whose loudness follows the opening), stored the way the ingest stage stores it.
"""

import numpy as np
import pytest

from generation.ingest.records import AUDIO_PREFIX, IngestRecord, Sample
from assets.errors import UsageError
from generation.speech import audio_model, lipsync_prior, recording

from .media import encode_audio, open_mouth, portrait


def store_talking_video(vault, seconds=5.0, fps=25, sr=16000, sound_late_s=0.0):
    from generation.face.landmarks import LandmarkDetector

    img = portrait()
    levels = np.linspace(0, 1, 8)
    with LandmarkDetector() as det:
        base = det.detect(img)[0].landmarks
        level_lm = [det.detect(open_mouth(img, base, 18 * v))[0].landmarks for v in levels]
    times = np.arange(int(seconds * fps)) / fps
    opening = 0.5 * (1 - np.cos(2 * np.pi * 3.5 * times)) * (np.sin(2 * np.pi * 0.23 * times) > -0.6)
    samples = [Sample(np.zeros((64, 64, 3), np.uint8), level_lm[int(np.argmin(np.abs(levels - o)))], 0.9,
                      {"frame": i, "time": round(float(t), 3)}) for i, (t, o) in enumerate(zip(times, opening))]
    t = np.arange(int(seconds * sr)) / sr
    env = np.interp(t - sound_late_s, times, opening)  # the sound follows the mouth by sound_late_s
    audio = ((np.sign(np.sin(2 * np.pi * 120 * t)) * 0.3 + 0.2 * np.sin(2 * np.pi * 650 * t)) * env * 0.8)
    sha = "ab" * 32
    vault.put(AUDIO_PREFIX + sha, encode_audio(audio.astype(np.float32), sr, "flac"), kind="audio")
    rec = IngestRecord(sha, "talk.mp4", "video/mp4", samples, {"audio": AUDIO_PREFIX + sha, "fps": fps})
    vault.put(rec.key, rec.to_bytes(), kind="sample")
    return audio.astype(np.float32), sr


QUICK_PRIOR = dict(prior_steps=150, prior_sentences=lipsync_prior.SENTENCES[:2], members=3)


def test_train_from_ingested_video_and_replay(make_subject, cli, tmp_path):
    vault = make_subject("rose")
    audio, sr = store_talking_video(vault)
    figures = recording.train_subject_model(vault, steps=150, **QUICK_PRIOR)
    assert figures["frames"] == 125 and figures["videos"] == 1
    assert figures["heldout_jaw_corr"] > 0.6
    # her mouth stays shut in her own long pauses, so a replay does not part her lips there
    assert figures["breath_jaw"] < 0.1
    assert vault.exists(recording.CHECKPOINT_KEY)
    ckpt = audio_model.from_bytes(vault.get(recording.CHECKPOINT_KEY))
    members = ckpt["states"]  # one per prior seed
    # the replay's pivot is her median jaw over every frame she was filmed in
    (_, _, y), = recording.training_pairs(vault)[0]
    assert float(ckpt["jaw_median"]) == pytest.approx(np.clip(np.median(y[:, 0]), 0, 1), abs=1e-6)
    assert len(members) == QUICK_PRIOR["members"] and not all(
        np.array_equal(members[0][k], members[1][k]) for k in members[0])
    clip = tmp_path / "clip.wav"
    clip.write_bytes(encode_audio(audio, sr, "wav"))
    r = cli("say", "rose", "--audio", clip, "--name", "replay")
    assert r.exit_code == 0 and "subject's audio->expression model" in r.output, r.output


@pytest.mark.slow
def test_the_mouth_lead_is_measured_on_the_persons_own_video(make_subject, tmp_path):
    """Her mouth opens 100 ms before the sound it makes: the model is timed to that, not to the audio alone."""
    vault = make_subject("rose")
    audio, sr = store_talking_video(vault, sound_late_s=0.1)
    figures = recording.train_subject_model(vault, steps=150, **QUICK_PRIOR)
    assert abs(figures["lead_ms"] - 100) <= 30, figures
    ckpt = audio_model.from_bytes(vault.get(recording.CHECKPOINT_KEY))
    assert abs(float(ckpt["lead_s"]) - 0.1) <= 0.03


def test_an_old_audio_model_asks_to_retrain(make_subject):
    import io

    import torch

    buf = io.BytesIO()
    torch.save({"state": {}, "config": {"n_mels": 40, "win": 24, "hidden": 48, "outputs": 6}}, buf)
    with pytest.raises(UsageError, match="lipsync train"):
        audio_model.from_bytes(buf.getvalue())


def test_the_prior_hears_each_synthesised_clip_also_as_shorter_vocal_tracts():
    plain = lipsync_prior.tts_pairs(lipsync_prior.SENTENCES[:1], speeds=(1.0,), warps=(1.0,))
    x, y = lipsync_prior.tts_pairs(lipsync_prior.SENTENCES[:1], speeds=(1.0,))
    n = len(plain[0])
    assert len(x) == n * len(lipsync_prior.WARPS) and lipsync_prior.WARPS[0] == 1.0
    assert np.array_equal(x[:n], plain[0])  # the plain reading is kept as it was
    for k in range(1, len(lipsync_prior.WARPS)):
        assert np.array_equal(y[k * n:(k + 1) * n], plain[1])  # the mouth is the same, only the voice differs
        assert np.abs(x[k * n:(k + 1) * n] - plain[0]).mean() > 0.1


def test_the_adapted_ensemble_is_one_member_per_prior_and_the_seed_alone_decides_it():
    """Every prior is adapted into its own member, the stored model predicts their mean, and the
    same seed gives the same members bit for bit while another seed gives others."""
    audio, sr, times, y = audio_model.synthetic_pairs(3.0, seed=3)
    mel = audio_model.features(audio, sr)
    pairs = (audio_model.windows(mel, times), y)
    priors = [audio_model.train(*pairs, steps=10, seed=s) for s in range(3)]
    clips = [(mel, times, y)]
    a, b, c = (recording._adapt(priors, pairs, clips, steps=10, seed=s) for s in (0, 0, 1))
    assert len(a["states"]) == len(priors)
    assert all(np.array_equal(sa[k], sb[k]) for sa, sb in zip(a["states"], b["states"]) for k in sa)
    assert not all(np.array_equal(sa[k], sc[k]) for sa, sc in zip(a["states"], c["states"]) for k in sa)
    x = audio_model.windows(mel, times + float(a["lead_s"]))
    each = [audio_model.predict_windows({**a, "states": [s]}, x) for s in a["states"]]
    assert np.abs(audio_model.predict_windows(a, x) - np.mean(each, 0)).max() < 1e-5
    assert np.abs(each[0] - each[1]).max() > 1e-3  # the members differ, so the mean is not any one of them


def test_a_person_without_talking_video_can_have_the_speaker_independent_model(make_subject, cli, tmp_path):
    """The averaged priors, unadapted, stored as her model: `say --audio` then reads the sound through them
    instead of the signal, timed by the signal mouth's lead, and nothing of her is in it."""
    from generation.speech import audio_driven

    vault = make_subject("rose")  # no talking video at all
    figures = recording.train_speaker_independent(vault, **QUICK_PRIOR)
    ckpt = audio_model.from_bytes(vault.get(recording.CHECKPOINT_KEY))
    priors, _ = lipsync_prior.train_priors(QUICK_PRIOR["prior_steps"], range(QUICK_PRIOR["members"]),
                                           QUICK_PRIOR["prior_sentences"])
    assert figures["members"] == len(ckpt["states"]) == len(priors)
    assert all(np.array_equal(s[k], p["state"][k]) for s, p in zip(ckpt["states"], priors) for k in s)
    assert float(ckpt["lead_s"]) == pytest.approx(audio_driven.MOUTH_LEAD_S) and "jaw_median" not in ckpt
    audio, sr, _, _ = audio_model.synthetic_pairs(3.0, seed=1)
    clip = tmp_path / "clip.wav"
    clip.write_bytes(encode_audio(audio, sr, "wav"))
    r = cli("say", "rose", "--audio", clip, "--name", "replay")
    assert r.exit_code == 0 and "speaker-independent audio->expression model" in r.output, r.output
