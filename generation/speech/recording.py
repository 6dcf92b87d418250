"""The person's own recording -> ExpressionTrack, and training the per-subject audio model.

Replaying a recording needs Action.USE_VOICE (voice consent). The mouth comes from the
subject's trained audio -> expression model when the vault has one, else from the
signal-based fallback; idle life is layered underneath either way.
"""

from __future__ import annotations

import numpy as np

from assets import expression
from assets.artifacts import KEYS
from assets.errors import UsageError
from . import audio_driven, audio_io, audio_model, track
from . import visemes as vz

CHECKPOINT_KEY = KEYS["checkpoint"].format(name=audio_model.CHECKPOINT_NAME)
MIN_TRAIN_FRAMES = 60
MIN_SPEECH_SHARE = 0.15
SILENCE_RMS = 1e-3  # -60 dBFS


def speech_check(audio: np.ndarray, sr: int, label: str) -> dict:
    """Refuse silence and sound that is not speech (steady noise or music); return the measures."""
    rms = float(np.sqrt(np.mean(audio.astype(np.float64) ** 2)))
    if rms < SILENCE_RMS:
        raise UsageError(f"{label}: the recording is silent (level {20 * np.log10(rms + 1e-12):.0f} dBFS)")
    share = audio_driven.speech_fraction(audio, sr)
    if share < MIN_SPEECH_SHARE:  # steady sound has no quiet gaps between syllables
        raise UsageError(f"{label}: this does not sound like speech (steady noise or music?); "
                         "use a recording of the person talking")
    return {"speech_share": round(share, 3), "syllable_modulation": round(modulation_share(audio, sr), 3)}


def modulation_share(audio: np.ndarray, sr: int) -> float:
    """Share of the loudness envelope's variation at syllable rates (2–8 Hz), reported in the track's meta.

    Not used to refuse: long pauses in real speech lower it as much as music does.
    """
    from . import sync

    env = sync.envelope(audio, sr, rate=100, win_s=0.03)
    if len(env) < 100 or env.max() < 1e-5:
        return 0.0
    x = np.sqrt(env / env.max())
    x = x - x.mean()
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x)))) ** 2
    f = np.fft.rfftfreq(len(x), 0.01)
    band = spec[(f >= 2) & (f <= 8)].sum()
    return float(band / (spec[(f > 0.3) & (f <= 25)].sum() + 1e-12))


def recording_track(vault, data: bytes, label: str = "audio", fps: float = track.FPS, seed: int = 0):
    """Audio file bytes -> ExpressionTrack (source 'recording'), mouth from the model or the signal."""
    audio, sr = audio_io.decode(data, label)
    checks = speech_check(audio, sr, label)
    n = max(1, int(np.ceil(len(audio) / sr * fps)))
    times = np.arange(n) / fps
    if vault is not None and vault.exists(CHECKPOINT_KEY):
        ckpt = audio_model.from_bytes(vault.get(CHECKPOINT_KEY))
        mouth = audio_driven.smooth(audio_model.predict(ckpt, audio, sr, times), fps, tau_s=0.02)
        method = "subject's audio->expression model"
    else:
        mouth = audio_driven.signal_mouth(audio, sr, fps, n)
        method = "signal (energy + spectral shape)"
    return track.compose(fps, n, [], audio, sr, source="recording", mouth=mouth, seed=seed,
                         meta={"mouth": method, **checks})


def training_pairs(vault) -> tuple[np.ndarray, np.ndarray, int]:
    """Log-mel windows [N,40,24] and mouth targets [N,6] from the subject's talking videos; and the video count."""
    from ..face import controls
    from ..ingest.records import load_records

    records = [r for r in load_records(vault) if r.meta.get("audio") and any("time" in s.info for s in r.samples)]
    calibration = None
    if vault.exists(KEYS["dataset"]):
        from assets.artifacts import SubjectDataset

        calibration = SubjectDataset.from_bytes(vault.get(KEYS["dataset"])).calibration or None
    all_lm = [s.landmarks for r in records for s in r.samples if "time" in s.info]
    if len(all_lm) < MIN_TRAIN_FRAMES:
        raise UsageError(f"the subject has {len(all_lm)} talking-video frames with audio; the audio model needs at "
                         f"least {MIN_TRAIN_FRAMES} (ingest longer videos of the person speaking). "
                         "Until then `memorial say --audio` uses the signal-based mouth.")
    if not calibration:
        calibration = controls.fit_calibration(np.stack(all_lm))
    xs, ys = [], []
    for r in records:
        audio, sr = audio_io.decode(vault.get(r.meta["audio"]), r.filename)
        frames = [s for s in r.samples if "time" in s.info]
        times = np.array([s.info["time"] for s in frames])
        codes = controls.codes_from_landmarks(np.stack([s.landmarks for s in frames]), calibration)
        xs.append(audio_model.windows(audio_model.log_mel(audio, sr), times))
        ys.append(np.clip(codes[:, vz.MOUTH_IDX], 0, 1))
    return np.concatenate(xs), np.concatenate(ys).astype(np.float32), len(records)


def train_subject_model(vault, steps: int = 400, progress=None) -> dict:
    """Train on the vault's talking videos, hold out 20% of frames, store the checkpoint; return figures."""
    x, y, videos = training_pairs(vault)
    n_test = max(1, len(x) // 5)
    ckpt = audio_model.train(x[:-n_test], y[:-n_test], steps=steps, progress=progress)
    import torch

    net_pred = audio_model.predict_windows(ckpt, x[-n_test:])
    jaw = expression.index("jaw_open")
    k = list(vz.MOUTH_IDX).index(jaw)
    corr = float(np.corrcoef(net_pred[:, k], y[-n_test:, k])[0, 1]) if y[-n_test:, k].std() > 1e-6 else float("nan")
    ckpt["heldout_jaw_corr"] = torch.tensor(corr)
    vault.put(CHECKPOINT_KEY, audio_model.to_bytes(ckpt), kind="checkpoint",
              meta={"model": "audio2expr", "frames": int(len(x)), "videos": videos})
    vault.log("train_audio_model", frames=int(len(x)), videos=videos, heldout_jaw_corr=round(corr, 3))
    return {"frames": int(len(x)), "videos": videos, "heldout_jaw_corr": corr}

