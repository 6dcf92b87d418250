"""A small audio -> expression model: log-mel windows -> mouth controls.

It learns in two stages so a few seconds of a person's talking video are enough:
a speaker-independent prior trained on speech the project makes itself (piper TTS, whose
phoneme timings give the mouth by construction; lipsync_prior.py), then adaptation on the
subject's own frames (each video frame's mouth from its landmarks, the audio around that
frame's time as input), mixed with prior pairs so six seconds cannot undo what the prior knows.

Log-mels are normalised per clip on its speech frames (mean per band, one global scale) so a
different voice, microphone, level or share of silence reads alike. The window keeps its time
axis to the last layer (no pooling): where in the window a sound falls is exactly what timing
is made of.
`lead_s` is how far the subject's mouth runs ahead of her sound, measured on her own video:
windows are centred at t + lead_s. Checkpoints are plain dicts of tensors + config (loaded
with weights_only=True) with a format name and version, stored in the vault under its own key
(`KEYS["lipsync"]`), apart from the GAN's checkpoints.
"""

from __future__ import annotations

import io
from dataclasses import asdict, dataclass

import numpy as np

from assets.artifacts import ArtifactError
from assets.errors import UsageError
from . import visemes as vz

SR = 16000
N_MELS = 40
HOP_S = 0.01
WIN_FRAMES = 32  # 320 ms of context around each video frame
# the speech frames' share of the loudness range, chosen by blocked 5-fold CV on the shared clip's
# training 6 s (0.3-0.9 tried; 0.7 at the top of both the in-clip CV and the replay CV, where each
# left-out stretch is normalised on its own: pooled r 0.53 and 0.50, whole-clip means 0.44 and 0.44)
SPEECH_RANGE = 0.7
FORMAT = "LipsyncModel"
VERSION = 3  # 3: features normalised on speech frames (a v2 model read its input differently)


@dataclass
class ModelConfig:
    n_mels: int = N_MELS
    win: int = WIN_FRAMES
    hidden: int = 64
    outputs: int = len(vz.MOUTH)
    version: int = VERSION


def mel_filters(sr: int = SR, n_fft: int = 512, n_mels: int = N_MELS, warp: float = 1.0) -> np.ndarray:
    """[n_mels, n_fft//2+1] triangular mel filterbank (HTK mel scale).

    `warp` > 1 reads the spectrum as a shorter vocal tract would have made it: each band takes
    its energy from frequencies `warp` times lower, so formants (and harmonics) land `warp` times
    higher while the timing is untouched (vocal-tract-length warping)."""
    mel = lambda f: 2595 * np.log10(1 + f / 700)
    inv = lambda m: 700 * (10 ** (m / 2595) - 1)
    edges = inv(np.linspace(mel(60), mel(sr / 2 * 0.95), n_mels + 2))
    freqs = np.fft.rfftfreq(n_fft, 1 / sr) * warp
    fb = np.zeros((n_mels, len(freqs)))
    for i in range(n_mels):
        lo, c, hi = edges[i:i + 3]
        fb[i] = np.clip(np.minimum((freqs - lo) / (c - lo), (hi - freqs) / (hi - c)), 0, None)
    return fb


def power_spectrum(audio: np.ndarray, sr: int) -> np.ndarray:
    """Power spectrum [F, n_fft//2+1] at 100 frames/s (frame k centred at k*10 ms)."""
    from assets.signal import resample

    x = resample(np.asarray(audio, dtype=np.float32), sr, SR)
    n_fft, hop = 512, int(HOP_S * SR)
    n = max(1, len(x) // hop)
    x = np.pad(x, (n_fft // 2, n_fft // 2 + hop))
    idx = np.arange(n)[:, None] * hop + np.arange(n_fft)[None]
    frames = x[idx] * np.hanning(n_fft)[None]  # [F, n_fft]
    return np.abs(np.fft.rfft(frames, axis=1)) ** 2


def log_mel(audio: np.ndarray, sr: int, warp: float = 1.0, power: np.ndarray | None = None) -> np.ndarray:
    """Log-mel spectrogram [F, N_MELS] at 100 frames/s; `warp`: mel_filters; `power`: the audio's
    power_spectrum when already worked out (the prior reads one clip through several warps)."""
    power = power_spectrum(audio, sr) if power is None else power
    return np.log(power @ mel_filters(warp=warp).T + 1e-6).astype(np.float32)


def windows(mel: np.ndarray, times: np.ndarray, win: int = WIN_FRAMES) -> np.ndarray:
    """Mel windows [N, N_MELS, win] centred on each time (seconds); edges padded with the quietest frame."""
    pad = np.full((win, mel.shape[1]), mel.min(), dtype=np.float32)
    padded = np.concatenate([pad, mel, pad])
    centres = np.round(np.asarray(times) / HOP_S).astype(int) + win
    idx = centres[:, None] + np.arange(-win // 2, win - win // 2)[None]
    idx = np.clip(idx, 0, len(padded) - 1)
    return np.transpose(padded[idx], (0, 2, 1)).copy()


def features(audio: np.ndarray, sr: int, warp: float = 1.0, power: np.ndarray | None = None) -> np.ndarray:
    """Per-clip normalised log-mel [F, N_MELS]: band means of the clip's speech removed, one scale.

    The means and the scale come from the speech frames only (frames in the loud
    SPEECH_RANGE of the clip's loudness range), so how much silence a clip holds does not
    change how its speech reads: a 2 s replay that is half breath pause and a 6 s training
    video that is nearly all talk put the same syllable at the same level. The scale is
    the spread around the band means, not the raw spread, which a voice's or microphone's
    spectral tilt would inflate. `warp`: mel_filters (the prior's other voices); `power`: log_mel."""
    mel = log_mel(audio, sr, warp, power)
    loud = mel.mean(1)  # [F]
    lo, hi = np.percentile(loud, [5, 95])
    speech = mel[loud >= hi - SPEECH_RANGE * (hi - lo)]
    mu = speech.mean(0)
    return ((mel - mu) / ((speech - mu).std() + 1e-6)).astype(np.float32)


def build(cfg: ModelConfig):
    import torch.nn as nn

    h = cfg.hidden
    return nn.Sequential(
        nn.Conv1d(cfg.n_mels, h, 5, padding=2), nn.ReLU(),
        nn.Conv1d(h, h, 5, padding=2, stride=2), nn.ReLU(),
        nn.Conv1d(h, h // 2, 3, padding=1, stride=2), nn.ReLU(),
        nn.Flatten(), nn.Linear(h // 2 * (cfg.win // 4), h), nn.ReLU(), nn.Linear(h, cfg.outputs),
    )


def train(x: np.ndarray, y: np.ndarray, steps: int = 400, seed: int = 0, progress=None, *, init: dict | None = None,
          prior: tuple[np.ndarray, np.ndarray] | None = None, prior_share: float = 0.5, lr: float = 2e-3,
          lead_s: float = 0.0, weights: np.ndarray | None = None) -> dict:
    """x [N,N_MELS,WIN] windows, y [N,6] mouth targets -> checkpoint dict.

    `init` starts from another checkpoint's weights (adaptation); `prior` pairs are mixed
    into every batch with weight `prior_share` so a few seconds of data adapt the model
    without overwriting it. `weights` [6] weighs each output in the loss (0 = not taught).
    """
    import torch

    assert x.ndim == 3 and x.shape[1:] == (N_MELS, WIN_FRAMES), x.shape
    assert y.shape == (len(x), len(vz.MOUTH)), y.shape
    torch.manual_seed(seed)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a tiny net: one thread is fastest on a shared 2-core machine
    try:
        cfg = ModelConfig()
        net = build(cfg)
        if init is not None:
            net.load_state_dict(init["state"])
        opt = torch.optim.Adam(net.parameters(), lr=lr)
        xt, yt = torch.from_numpy(x.astype(np.float32)), torch.from_numpy(y.astype(np.float32))
        w = torch.ones(len(vz.MOUTH)) if weights is None else torch.as_tensor(weights, dtype=torch.float32)
        px, py = (torch.from_numpy(prior[0].astype(np.float32)), torch.from_numpy(prior[1].astype(np.float32))) \
            if prior is not None else (None, None)
        gen = torch.Generator().manual_seed(seed)
        bar = progress(total=steps, desc="audio->expression") if progress else None
        loss = torch.zeros(())
        for _ in range(steps):
            idx = torch.randint(0, len(xt), (min(64, len(xt)),), generator=gen)
            loss = ((net(xt[idx]) - yt[idx]).pow(2) * w).mean()
            if px is not None:
                j = torch.randint(0, len(px), (64,), generator=gen)
                loss = (1 - prior_share) * loss + prior_share * (net(px[j]) - py[j]).pow(2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            if bar:
                bar.update(1)
        if bar:
            bar.close()
    finally:
        torch.set_num_threads(threads)
    return {"state": {k: v.detach().clone() for k, v in net.state_dict().items()}, "config": asdict(cfg),
            "lead_s": torch.tensor(float(lead_s)), "loss": torch.tensor(float(loss.detach()))}


def predict(ckpt: dict, audio: np.ndarray, sr: int, times: np.ndarray) -> np.ndarray:
    """Mouth controls [T,6] in 0..1 at `times` (seconds) for one clip."""
    lead = float(ckpt.get("lead_s", 0.0))
    return np.clip(predict_windows(ckpt, windows(features(audio, sr), np.asarray(times) + lead)), 0, 1)


def ensemble(members: list[dict]) -> dict:
    """One checkpoint that averages several nets trained on the same data from different seeds
    (starts and batches): a few seconds of video leave each one noisy in its own way."""
    import torch

    assert members and all(m["config"] == members[0]["config"] for m in members)
    return {"states": [m["state"] for m in members], "config": members[0]["config"], "lead_s": members[0]["lead_s"],
            "loss": torch.stack([m["loss"] for m in members]).mean()}


def predict_windows(ckpt: dict, x: np.ndarray) -> np.ndarray:
    """Raw model outputs [N,6] for normalised log-mel windows [N,mels,win] (the members' mean)."""
    import torch

    net = build(ModelConfig(**ckpt["config"]))
    out = []
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as in train: a tiny net, and a second thread only waits on a busy machine
    try:
        for state in ckpt["states"] if "states" in ckpt else [ckpt["state"]]:
            net.load_state_dict(state)
            net.eval()
            with torch.no_grad():
                out.append(net(torch.from_numpy(x.astype(np.float32))).numpy())
    finally:
        torch.set_num_threads(threads)
    return np.mean(out, axis=0)


def to_bytes(ckpt: dict) -> bytes:
    import torch

    buf = io.BytesIO()
    torch.save({**ckpt, "format": FORMAT}, buf)
    return buf.getvalue()


def from_bytes(data: bytes) -> dict:
    import torch

    try:
        ckpt = torch.load(io.BytesIO(data), weights_only=True)
    except Exception as exc:  # torch raises many types for a blob that is not a checkpoint
        raise ArtifactError(f"not a {FORMAT}: {type(exc).__name__}") from None
    if not isinstance(ckpt, dict) or ckpt.get("format", FORMAT) != FORMAT:
        raise ArtifactError(f"expected a {FORMAT}, got {ckpt.get('format') if isinstance(ckpt, dict) else type(ckpt)}")
    if ckpt.get("config", {}).get("version") != VERSION:
        raise UsageError("the stored audio->expression model is from an older version; "
                         "run `memorial lipsync train` again")
    return ckpt


def synthetic_pairs(seconds: float = 40.0, fps: float = 30.0, seed: int = 0) -> tuple[np.ndarray, int, np.ndarray, np.ndarray]:
    """Aligned (audio, sr, frame times, mouth targets [T,6]) where the mouth is known by construction.

    A voiced source (pitch 110-140 Hz) passes through two formants that follow a random
    sequence of vowel-like states; jaw opening follows loudness and the first formant,
    rounding follows a low second formant, lip closure is a silent gap. Used to test the
    model where no talking video of the subject exists yet.
    """
    rng = np.random.default_rng(seed)
    sr = SR
    n = int(seconds * sr)
    t = np.arange(n) / sr
    states = {"a": (750, 1200, 0.8, 0, 0, 0), "i": (300, 2300, 0.25, 0.35, 0, 0), "u": (320, 800, 0.2, 0, 0.7, 0),
              "o": (500, 900, 0.45, 0, 0.2, 0), "m": (0, 0, 0.0, 0, 0, 1.0), "_": (0, 0, 0.0, 0, 0, 0)}
    names = list(states)
    seg_times, seg_states = [0.0], []
    while seg_times[-1] < seconds:
        seg_states.append(names[rng.choice(len(names), p=[0.25, 0.2, 0.15, 0.15, 0.15, 0.1])])
        seg_times.append(seg_times[-1] + rng.uniform(0.08, 0.3))
    which = np.searchsorted(seg_times, t, side="right") - 1
    f1 = np.array([states[s][0] for s in seg_states])[which]
    f2 = np.array([states[s][1] for s in seg_states])[which]
    amp = np.array([states[s][2] > 0 for s in seg_states], dtype=float)[which]
    f0 = 110 + 30 * np.sin(2 * np.pi * 0.3 * t)
    phase = 2 * np.cumsum(f0) / sr * np.pi
    src = np.sign(np.sin(phase)) * 0.3 + rng.normal(0, 0.02, n)
    audio = np.zeros(n)
    from scipy.signal import lfilter

    block = int(0.01 * sr)
    for a in range(0, n, block):  # time-varying two-formant filter, 10 ms blocks
        b = min(a + block, n)
        y = np.zeros(b - a)
        for f, bw in ((f1[a], 80), (f2[a], 120)):
            if f <= 0:
                continue
            r = np.exp(-np.pi * bw / sr)
            y += lfilter([1 - r], [1, -2 * r * np.cos(2 * np.pi * f / sr), r * r], src[a:b])
        audio[a:b] = y * amp[a]
    audio = (audio / (np.abs(audio).max() + 1e-9) * 0.8).astype(np.float32)
    times = np.arange(int(seconds * fps)) / fps
    w = np.searchsorted(seg_times, times, side="right") - 1
    target = np.array([states[seg_states[k]][2:] for k in w])  # jaw, smile, pucker, press...
    y = np.stack([target[:, 0], target[:, 1], target[:, 1], target[:, 2] * 0.8, target[:, 2], target[:, 3]], 1)
    return audio, sr, times, y.astype(np.float32)
