"""Room-test fixtures: a subject vault holding a small hand-made head, track and frames."""

from __future__ import annotations

import numpy as np
import pytest

from assets.artifacts import KEYS

from .heads import make_frames, make_head, make_track


class RecordingExporter:
    """Stands in for generation.provenance.Exporter at its boundary: records every call,
    prepends `notice_s` of silence like the spoken notice, and marks nothing else."""

    def __init__(self, notice_s: float = 0.3):
        self.notice_s = notice_s
        self.boxes, self.finalized, self.pngs, self.audio_calls = [], [], [], 0

    def mark_image(self, rgb, face_box=None):
        assert rgb.ndim == 3 and rgb.dtype == np.uint8
        self.boxes.append(face_box)
        return rgb

    def mark_audio(self, samples, sample_rate):
        assert samples.ndim == 1, "the real Exporter takes mono"
        self.audio_calls += 1
        return np.concatenate([np.zeros(int(self.notice_s * sample_rate), np.float32), samples])

    def finalize(self, path, media_type=None):
        assert path.is_file(), "finalize must come after the file is written"
        self.finalized.append((path, media_type))

    def write_png(self, path, rgb, face_box=None):
        from PIL import Image

        Image.fromarray(rgb).save(path)
        self.pngs.append((path, face_box))


@pytest.fixture
def room_vault(make_subject):
    """An owner vault with head/current, track/hello (1 s) and frames/hello."""
    vault = make_subject("rose")
    vault.put(KEYS["head"], make_head(4).to_bytes(), kind="HeadModel")
    vault.put(KEYS["track"].format(name="hello"), make_track(1.0).to_bytes(), kind="ExpressionTrack")
    vault.put(KEYS["frames"].format(name="hello"), make_frames(30).to_bytes(), kind="FrameSequence")
    return vault


@pytest.fixture
def recorder():
    return RecordingExporter()
