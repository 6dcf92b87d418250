"""Read a user's audio file (WAV, FLAC, OGG via soundfile; mp3/m4a/anything else via PyAV) into mono float32."""

from __future__ import annotations

import io

import numpy as np


from assets.errors import UsageError

MAX_RATE = 48000
MAX_SECONDS = 600


def decode(data: bytes, label: str = "audio") -> tuple[np.ndarray, int]:
    """Bytes of an audio file -> (mono [S] float32 in -1..1, sample rate <= 48 kHz)."""
    if not data:
        raise UsageError(f"{label}: the file is empty")
    audio, sr = None, 0
    try:
        import soundfile as sf

        audio, sr = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)  # [S,C]
        audio = audio.mean(axis=1)
    except Exception:
        audio = None
    if audio is None:
        audio, sr = _decode_av(data, label)
    if sr <= 0 or len(audio) == 0:
        raise UsageError(f"{label}: no audio samples in the file")
    if len(audio) > MAX_SECONDS * sr:
        raise UsageError(f"{label}: longer than {MAX_SECONDS // 60} minutes; cut it into shorter clips")
    if not np.all(np.isfinite(audio)):
        raise UsageError(f"{label}: the audio contains invalid samples")
    if sr > MAX_RATE:
        from scipy.signal import resample_poly

        audio = resample_poly(audio, MAX_RATE, sr).astype(np.float32)
        sr = MAX_RATE
    return np.clip(audio, -1, 1).astype(np.float32), int(sr)


def _decode_av(data: bytes, label: str) -> tuple[np.ndarray, int]:
    import av

    try:
        with av.open(io.BytesIO(data)) as container:
            if not container.streams.audio:
                raise UsageError(f"{label}: the file has no audio stream")
            stream = container.streams.audio[0]
            resampler = av.AudioResampler(format="fltp", layout="mono", rate=min(stream.rate or 44100, MAX_RATE))
            parts = []
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    parts.append(out.to_ndarray()[0])
            for out in resampler.resample(None):
                parts.append(out.to_ndarray()[0])
            rate = resampler.rate
    except UsageError:
        raise
    except Exception as exc:
        raise UsageError(f"{label}: not a readable audio file ({type(exc).__name__})") from None
    if not parts:
        raise UsageError(f"{label}: no audio samples in the file")
    return np.concatenate(parts).astype(np.float32), int(rate)


