"""Test media made from the real faces that packages ship: Grace Hopper and the astronaut."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from fractions import Fraction
from pathlib import Path

import numpy as np
from PIL import Image


def hopper() -> np.ndarray:
    from assets.default_subject import portrait_path

    return np.asarray(Image.open(portrait_path()).convert("RGB"))  # [600,512,3]


def astronaut() -> np.ndarray:
    from skimage import data

    return data.astronaut()  # [512,512,3]


def save(path: Path, rgb: np.ndarray, **kw) -> Path:
    Image.fromarray(rgb).save(path, **kw)
    return path


def crowd() -> np.ndarray:
    """Several faces side by side: the astronaut (largest) and two smaller Hoppers."""
    a = astronaut()
    h = np.asarray(Image.fromarray(hopper()).resize((300, 352)))
    canvas = np.full((512, 512 + 600, 3), 200, np.uint8)
    canvas[:, :512] = a
    canvas[:352, 512:812] = h
    canvas[160:512, 812:1112] = h[:, ::-1]
    return canvas


def write_video(path: Path, frames: list[np.ndarray], fps: int = 25, audio_seconds: float = 0.0,
                container: str | None = None, rotation: int = 0) -> Path:
    """H.264 (+ AAC tone when audio_seconds > 0) video with PyAV; `rotation` is the display
    rotation a phone would record (counter-clockwise degrees)."""
    import av

    h, w = frames[0].shape[:2]
    with av.open(str(path), mode="w", format=container) as out:
        vs = out.add_stream("libx264" if container != "webm" else "libvpx-vp9", rate=fps)
        vs.width, vs.height, vs.pix_fmt = w - w % 2, h - h % 2, "yuv420p"
        vs.options = {"preset": "ultrafast"} if container != "webm" else {}
        if rotation:
            vs.set_display_rotation(rotation)
        a_s = None
        if audio_seconds:
            a_s = out.add_stream("aac", rate=16000, layout="mono")
        for f in frames:
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(f[: vs.height, : vs.width]), format="rgb24")
            for p in vs.encode(frame):
                out.mux(p)
        for p in vs.encode():
            out.mux(p)
        if a_s is not None:
            write_tone(out, a_s, audio_seconds)
    return path


def write_tone(out, stream, seconds: float, rate: int = 16000) -> None:
    import av

    total = int(seconds * rate)
    for i in range(0, total, 1024):  # chunk by chunk: an hour of tone never sits in memory
        t = np.arange(i, min(i + 1024, total)) / rate
        chunk = (0.3 * np.sin(2 * np.pi * 220 * t) * 32767).astype(np.int16)
        frame = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = rate
        frame.pts = i
        frame.time_base = Fraction(1, rate)
        for p in stream.encode(frame):
            out.mux(p)
    for p in stream.encode():
        out.mux(p)


def write_audio_only(path: Path, seconds: float = 0.5) -> Path:
    import av

    with av.open(str(path), mode="w", format="mp4") as out:
        write_tone(out, out.add_stream("aac", rate=16000, layout="mono"), seconds)
    return path


def talking_frames(n: int = 50) -> list[np.ndarray]:
    """Hopper with a slowly drifting frame, then a cut to the astronaut (a shot change)."""
    base = hopper()[:592]
    frames = []
    for i in range(n):
        dx = int(3 * np.sin(i / 5))
        frames.append(np.roll(base, dx, axis=1))
    a = np.zeros_like(base)
    a[40:552] = astronaut()
    frames += [a] * (n // 2)
    return frames


def png_bomb(path: Path, side: int = 50000) -> Path:
    """A tiny PNG whose header declares side x side pixels (IDAT holds a few bytes only)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 1024)) + chunk(b"IEND", b"")
    path.write_bytes(data)
    return path


def hostile_zip(path: Path, good_jpeg: bytes) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("album/good.jpg", good_jpeg)
        zf.writestr("../../x.jpg", good_jpeg)
        zf.writestr("/etc/abs.jpg", good_jpeg)
        link = zipfile.ZipInfo("album/link.jpg")
        link.external_attr = (0o120777 << 16)
        zf.writestr(link, "/etc/passwd")
        bomb = zipfile.ZipInfo("album/bomb.png")
        zf.writestr(bomb, b"\x00" * (8 * 1024 * 1024), compress_type=zipfile.ZIP_DEFLATED)
    return path


def jpeg_bytes(rgb: np.ndarray, quality: int = 92) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def variants(n: int = 8) -> list[np.ndarray]:
    """Distinct photos of the two faces (crops, mirror images, tints) that are not near-duplicates."""
    out = []
    for i in range(n):
        src = hopper() if i % 2 == 0 else astronaut()
        if i % 4 >= 2:
            src = src[:, ::-1]
        k = i // 4
        h, w = src.shape[:2]
        crop = src[20 * k: h - 40 * (1 - k), 30 * (1 - k): w - 10 * k]
        tint = np.array([1.0, 1.0 - 0.1 * k, 1.0 - 0.05 * i], np.float32)
        out.append(np.clip(crop * tint, 0, 255).astype(np.uint8))
    return out


HOPPER_HEAD = (60, 430, 100, 400)  # y0, y1, x0, x1 of Grace Hopper's head and hair in hopper()
ASTRONAUT_HEAD = (10, 250, 120, 330)


def head(rgb: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    y0, y1, x0, x1 = box
    return np.ascontiguousarray(rgb[y0:y1, x0:x1])


def lfw_faces(indices) -> list[np.ndarray]:
    """Faces of other people from scikit-image's LFW subset (25x25 grey crops), upscaled and
    padded so that the face detector sees a head with some background."""
    import cv2
    from skimage import data

    lfw = data.lfw_subset()
    out = []
    for i in indices:
        g = cv2.resize((lfw[i] * 255).astype(np.uint8), (150, 150), interpolation=cv2.INTER_CUBIC)
        tile = np.full((230, 200), 128, np.uint8)
        tile[40:190, 25:175] = g
        out.append(np.repeat(tile[..., None], 3, axis=2))
    return out


def group_photo(people: list[np.ndarray], tile: int = 260) -> tuple[np.ndarray, list[tuple[int, int, int, int]]]:
    """People side by side, each scaled into a tile x tile cell on a wall-grey background;
    returns the picture and each person's cell (x0, y0, x1, y1)."""
    import cv2

    canvas = np.full((tile, tile * len(people), 3), 170, np.uint8)
    cells = []
    for k, p in enumerate(people):
        s = (tile - 20) / max(p.shape[:2])
        img = cv2.resize(p, (int(p.shape[1] * s), int(p.shape[0] * s)), interpolation=cv2.INTER_AREA)
        y0, x0 = (tile - img.shape[0]) // 2, k * tile + (tile - img.shape[1]) // 2
        canvas[y0:y0 + img.shape[0], x0:x0 + img.shape[1]] = img
        cells.append((k * tile, 0, (k + 1) * tile, tile))
    return canvas, cells


def sepia(rgb: np.ndarray) -> np.ndarray:
    """A toned print: grey values mapped through a brown ramp."""
    grey = rgb.astype(np.float32).mean(axis=2, keepdims=True)
    return np.clip(grey * np.array([1.07, 0.74, 0.43]) + np.array([0, 12, 24]), 0, 255).astype(np.uint8)
