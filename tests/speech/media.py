"""Test media made in memory: a talking Grace Hopper video, plain videos, encoded audio."""

from __future__ import annotations

import io

import numpy as np


def portrait() -> np.ndarray:
    from PIL import Image

    from assets import default_subject

    return np.array(Image.open(default_subject.portrait_path()).convert("RGB"))  # [600,512,3]


def open_mouth(img: np.ndarray, lm: np.ndarray, px: float) -> np.ndarray:
    """Drop the lower lip and jaw by `px` pixels and paint the gap as the mouth's inside."""
    h, w = img.shape[:2]
    lip_y = (lm[13, 1] + lm[14, 1]) / 2
    cx, half = (lm[61, 0] + lm[291, 0]) / 2, (lm[291, 0] - lm[61, 0]) / 2 * 1.3
    chin = lm[152, 1] + 20
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    fx = np.clip(1 - np.abs(xx - cx) / half, 0, 1)
    below = yy > lip_y
    shift = px * fx * np.where(below, np.clip((chin - yy) / (chin - lip_y), 0, 1), 0)
    out = img[np.clip(yy - shift, 0, h - 1).astype(int), xx.astype(int)]
    out[below & (yy < lip_y + shift) & (fx > 0.25)] = (60, 20, 25)
    return out


def encode_video(frames: list[np.ndarray], fps: int = 25) -> bytes:
    import av

    buf = io.BytesIO()
    h, w = (frames[0].shape[0] // 2 * 2, frames[0].shape[1] // 2 * 2)
    with av.open(buf, "w", format="mp4") as c:
        s = c.add_stream("libx264", rate=fps)
        s.width, s.height, s.pix_fmt = w, h, "yuv420p"
        for f in frames:
            for p in s.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(f[:h, :w]), format="rgb24")):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    return buf.getvalue()


def talking_video(n: int = 40, period: int = 20, amp_px: float = 18.0, fps: int = 25) -> tuple[bytes, np.ndarray]:
    """Grace Hopper opening and closing her mouth; returns (mp4 bytes, opening 0..1 per frame [n])."""
    from generation.face.landmarks import LandmarkDetector

    img = portrait()
    with LandmarkDetector() as det:
        lm = det.detect(img)[0].landmarks
    k = 0.5 * (1 - np.cos(2 * np.pi * np.arange(n) / period))
    return encode_video([open_mouth(img, lm, amp_px * v) for v in k], fps), k


def encode_audio(audio: np.ndarray, sr: int, fmt: str, channels: int = 1) -> bytes:
    """WAV/FLAC via soundfile, mp3 via PyAV."""
    if fmt in ("wav", "flac"):
        import soundfile as sf

        buf = io.BytesIO()
        data = np.stack([audio] * channels, 1) if channels > 1 else audio
        sf.write(buf, data, sr, format=fmt.upper())
        return buf.getvalue()
    import av

    buf = io.BytesIO()
    with av.open(buf, "w", format="mp3") as c:
        s = c.add_stream("libmp3lame", rate=sr)
        s.layout = "mono"
        for i in range(0, len(audio), 1152):
            fr = av.AudioFrame.from_ndarray(audio[None, i:i + 1152].astype(np.float32), format="fltp", layout="mono")
            fr.sample_rate = sr
            for p in s.encode(fr):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    return buf.getvalue()
