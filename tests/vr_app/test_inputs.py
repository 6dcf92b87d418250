"""What the room takes from the vault: generated frames first, else a still face, photo thumbnails."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from vr_app.inputs import load_inputs, load_texture, photo_thumbnails


def _jpeg(w, h, color) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (w, h), color).save(buf, format="JPEG")
    return buf.getvalue()


def test_generated_frames_are_streamed_for_their_track(room_vault):
    stream, source = load_texture(room_vault, "hello")
    assert source == "frames/hello" and len(stream) == 30 and stream.fps == 30
    still, source = load_texture(room_vault, "other-line")
    assert source == "plain" and len(still) == 1, "no frames and no dataset: a plain skin tone, still"


def test_inputs_carry_track_title_and_only_thumbnails(room_vault):
    room_vault.put("original/aaa", _jpeg(1600, 1200, (200, 30, 30)), kind="original", meta={"media_type": "image/jpeg"})
    room_vault.put("original/bbb", b"RIFF....WAVEfmt not an image", kind="original", meta={"media_type": "audio/wav"})
    room_vault.put("original/ccc", b"\x00garbage", kind="original")
    inputs = load_inputs(room_vault, "hello")
    assert inputs.track is not None and inputs.track.text == "Hello, my dear."
    assert inputs.title == "Rose Example"
    assert len(inputs.photos) == 1
    photo = inputs.photos[0]
    assert max(photo.shape[:2]) <= 256 and photo.shape[2] == 3, "only a thumbnail is kept in memory"
    assert np.abs(photo.mean(axis=(0, 1)) - (200, 30, 30)).max() < 10
    assert len(photo_thumbnails(room_vault, 0)) == 0


def test_each_line_gets_its_own_frames_and_next_line_switches_them(room_vault):
    from assets.artifacts import KEYS
    from tests.vr_app.conftest import make_track
    from vr_app.inputs import line_textures
    from vr_app.viewer import Player

    room_vault.put(KEYS["track"].format(name="bye"), make_track(0.5).to_bytes(), kind="ExpressionTrack")
    hello, bye = line_textures(room_vault, ["hello", "bye"])
    assert len(hello) == 30, "hello has generated frames"
    assert len(bye) == 1, "bye has none: the still face"

    class Scene:  # records what the player hands the scene
        def __init__(self):
            self.calls = []

        def set_track(self, track, texture=None):
            self.calls.append((track, texture))

    scene = Scene()
    player = Player(scene, None, ["T-hello", "T-bye"], [hello, bye])
    player.start_line(0)
    player.start_line(1)
    assert scene.calls == [("T-hello", hello), ("T-bye", bye)]
