"""Make real exports through the Exporter for the tests (pictures, sound, video)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from generation.provenance import Exporter
from generation.provenance.demo_checks import change_one_pixel_byte  # noqa: F401 (used by the tests)

from .media import astronaut, speech, write_mp4

FACE = (150, 30, 330, 250)  # the astronaut's face box at 512x512


def export_png(vault, path: Path, command: str = "test-png", **kw) -> Path:
    ex = Exporter(vault, command=command, kind="image", **kw)
    return ex.write_png(path, astronaut(), face_box=FACE).path


def export_wav(vault, path: Path) -> Path:
    x, rate = speech("I love you all. Take care of the roses.")
    return Exporter(vault, command="test-wav", kind="audio").write_wav(path, x, rate).path


def export_mp4(vault, path: Path, n_frames: int = 24, with_audio: bool = True) -> tuple[Path, Exporter]:
    """A short 640x360 clip of the astronaut, every frame marked, speech marked, then finalized."""
    import cv2

    ex = Exporter(vault, command="test-render", kind="video")
    base = np.full((360, 640, 3), 50, np.uint8)
    base[:, 140:500] = cv2.resize(astronaut(), (360, 360), interpolation=cv2.INTER_AREA)
    frames = []
    for i in range(n_frames):
        frame = np.roll(base, i, axis=1)
        frames.append(ex.mark_image(frame, face_box=(220 + i, 20, 360 + i, 180)))
    audio, rate = None, 22050
    if with_audio:
        x, rate = speech("It is so good to see you.")
        audio = ex.mark_audio(x, rate)
    write_mp4(path, frames, fps=12, audio=audio, rate=rate)
    ex.finalize(path)
    return path, ex


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
