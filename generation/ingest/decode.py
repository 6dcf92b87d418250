"""Decode photos (Pillow, pillow-heif for HEIC) and videos (PyAV).

Videos are decoded as a stream from a file object (a file on disk is never read whole),
frame by frame; memory stays bounded by the decoder's few reference frames.
Every failure becomes a `DecodeError` whose message is the reason shown to the user.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from typing import BinaryIO, Iterator, Union

import numpy as np

MAX_PIXELS = 80_000_000  # 80 MP: larger than any camera photo, far below a decompression bomb
MAX_VIDEO_SIDE = 8192


Source = Union[bytes, BinaryIO]  # whole bytes, or a seekable binary stream


class DecodeError(ValueError):
    pass


def _register_heif() -> None:
    try:
        import pillow_heif
    except ImportError:
        return  # HEIC then fails as "not an image Pillow can read"
    pillow_heif.register_heif_opener()


def decode_image(data: bytes) -> np.ndarray:
    """RGB uint8 [H,W,3] with EXIF orientation applied."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    if not data:
        raise DecodeError("empty file (0 bytes)")
    if data[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1", b"ftypmsf1", b"ftyphevc", b"ftypheim", b"ftypheis"):
        _register_heif()
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        old_limit = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = MAX_PIXELS
        try:
            with Image.open(io.BytesIO(data)) as im:
                w, h = im.size
                if w * h > MAX_PIXELS:
                    raise DecodeError(f"image declares {w}x{h} pixels (decompression bomb?)")
                im.load()
                im = ImageOps.exif_transpose(im)
                rgb = np.asarray(im.convert("RGB"), dtype=np.uint8)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise DecodeError(f"image declares more than {MAX_PIXELS // 1_000_000} MP (decompression bomb?)") from None
        except UnidentifiedImageError:
            raise DecodeError("not an image Pillow can read (wrong extension or corrupt)") from None
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise DecodeError(f"corrupt image: {exc}") from None
        finally:
            Image.MAX_IMAGE_PIXELS = old_limit
    assert rgb.ndim == 3 and rgb.shape[2] == 3
    return rgb


@dataclass
class VideoInfo:
    fps: float
    frames: int  # estimated number of frames (0 when the container does not say)
    width: int
    height: int
    has_audio: bool


def _open(src: Source):
    import av

    if isinstance(src, (bytes, bytearray)):
        if not src:
            raise DecodeError("empty file (0 bytes)")
        src = io.BytesIO(src)
    else:
        src.seek(0)
        if not src.read(1):
            raise DecodeError("empty file (0 bytes)")
        src.seek(0)
    try:
        return av.open(src, mode="r")
    except av.FFmpegError as exc:
        raise DecodeError(f"cannot read video: {exc}") from None


def probe_video(src: Source) -> VideoInfo:
    with _open(src) as container:
        if not container.streams.video:
            kind = "audio only" if container.streams.audio else "no streams"
            raise DecodeError(f"no video stream ({kind})")
        v = container.streams.video[0]
        if not v.width or not v.height or max(v.width, v.height) > MAX_VIDEO_SIDE:
            raise DecodeError(f"unusable video size {v.width}x{v.height}")
        fps = float(v.average_rate or v.guessed_rate or 25.0)
        frames = int(v.frames or 0)
        if not frames and v.duration and v.time_base:
            frames = int(float(v.duration * v.time_base) * fps)
        if not frames and container.duration:
            frames = int(container.duration / 1e6 * fps)
        return VideoInfo(fps, frames, v.width, v.height, bool(container.streams.audio))


@dataclass
class VideoFrame:
    index: int
    time: float  # seconds from the start
    frame: object  # av.VideoFrame, converted only when needed

    def thumbnail(self, size: int = 48) -> np.ndarray:
        """Small grey image [size,size] uint8 for cheap change detection (cached)."""
        if getattr(self, "_thumb", None) is None or self._thumb.shape[0] != size:
            self._thumb = self.frame.reformat(width=size, height=size, format="gray").to_ndarray()[:, :size]
        return self._thumb

    def rgb(self, max_side: int = 1280) -> np.ndarray:
        """RGB uint8 [H,W,3] as it should be displayed (phone videos carry a rotation), scaled
        down so the longer side is at most `max_side`."""
        w, h = self.frame.width, self.frame.height
        s = min(1.0, max_side / max(w, h))
        rgb = self.frame.to_ndarray(format="rgb24", width=max(2, int(w * s)), height=max(2, int(h * s)))
        turns = round((self.frame.rotation or 0) / 90) % 4  # display matrix: counter-clockwise degrees
        return np.ascontiguousarray(np.rot90(rgb, k=turns)) if turns else rgb


def iter_frames(src: Source) -> Iterator[VideoFrame]:
    """Every decoded frame of the first video stream. Decoding errors mid-stream end the
    iteration with a DecodeError only when nothing could be decoded at all."""
    import av

    container = _open(src)
    try:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        tb = float(stream.time_base or 0)
        n = 0
        try:
            for frame in container.decode(stream):
                t = float(frame.pts * tb) if frame.pts is not None and tb else n / float(stream.average_rate or 25)
                yield VideoFrame(n, t, frame)
                n += 1
        except av.FFmpegError as exc:
            if n == 0:
                raise DecodeError(f"cannot decode video: {exc}") from None
        if n == 0:
            raise DecodeError("video holds no decodable frames")
    finally:
        container.close()


def iter_frames_ahead(src: Source, depth: int = 16) -> Iterator[VideoFrame]:
    """`iter_frames` decoded in a helper thread up to `depth` frames ahead (with their
    thumbnails), so decoding overlaps face analysis on the other core. Memory stays bounded
    by the queue. The thread is finished when the iteration ends, however it ends."""
    import queue
    import threading

    frames: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    end = object()

    def produce() -> None:
        try:
            for vf in iter_frames(src):
                vf.thumbnail()
                while not stop.is_set():
                    try:
                        frames.put(vf, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            frames.put(end)
        except BaseException as exc:  # handed to the consumer
            frames.put(exc)

    worker = threading.Thread(target=produce, name="video-decode", daemon=True)
    worker.start()
    try:
        while True:
            item = frames.get()
            if item is end:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while worker.is_alive():
            try:
                frames.get(timeout=0.05)
            except queue.Empty:
                pass
        worker.join()


ENVELOPE_S = 0.1  # seconds per loudness value


def extract_audio(src: Source, envelope: list | None = None) -> tuple[bytes, int, float] | None:
    """The first audio track as mono FLAC bytes: (flac, sample_rate, seconds); None if none.
    Encoded while decoding, so only the FLAC output is held in memory. `envelope`, when
    given, receives the RMS loudness (0..1) of every ENVELOPE_S of sound."""
    import av
    import soundfile as sf

    with _open(src) as container:
        if not container.streams.audio:
            return None
        stream = container.streams.audio[0]
        rate = int(stream.rate or stream.codec_context.sample_rate or 16000)
        resampler = av.AudioResampler(format="s16", layout="mono", rate=rate)
        buf = io.BytesIO()
        n = 0
        block = max(1, int(rate * ENVELOPE_S))
        pending = np.zeros(0, np.float32)

        def measure(pcm: np.ndarray) -> None:
            nonlocal pending
            if envelope is None:
                return
            pending = np.concatenate([pending, pcm.astype(np.float32) / 32768.0])
            k = len(pending) // block
            if k:
                envelope.extend(np.sqrt((pending[:k * block].reshape(k, block) ** 2).mean(axis=1)).tolist())
                pending = pending[k * block:]

        with sf.SoundFile(buf, "w", samplerate=rate, channels=1, format="FLAC", subtype="PCM_16") as flac:
            try:
                for frame in container.decode(stream):
                    for out in resampler.resample(frame):
                        pcm = out.to_ndarray().reshape(-1).astype(np.int16)
                        flac.write(pcm)
                        measure(pcm)
                        n += len(pcm)
                for out in resampler.resample(None):
                    pcm = out.to_ndarray().reshape(-1).astype(np.int16)
                    flac.write(pcm)
                    measure(pcm)
                    n += len(pcm)
            except av.FFmpegError:
                pass  # keep what decoded before the damage
    if not n:
        return None
    return buf.getvalue(), rate, n / rate
