"""Media files for the ingest tests, written once per module into a temp folder."""

from __future__ import annotations

import pytest

from . import media as M


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("media")
    M.save(d / "hopper.jpg", M.hopper(), quality=92)
    M.save(d / "astronaut.png", M.astronaut())
    M.save(d / "crowd.png", M.crowd())
    hoppers = M.variants(8)
    M.save(d / "hopper-mirror.png", hoppers[2])  # the same person, other pictures
    M.save(d / "hopper-tinted.png", hoppers[4])
    M.write_video(d / "talk.mp4", M.talking_frames(), audio_seconds=2.0)
    return d


@pytest.fixture(scope="session")
def bad_dir(tmp_path_factory):
    """One file per kind of bad input the issue lists."""
    d = tmp_path_factory.mktemp("bad")
    (d / "empty.jpg").write_bytes(b"")
    (d / "notes.jpg").write_text("this is a text file, not a photo\n")
    (d / "truncated.jpg").write_bytes(M.jpeg_bytes(M.hopper())[:6000])
    M.png_bomb(d / "bomb.png")
    (d / "corrupt.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00" + bytes(range(256)) * 20)
    M.write_audio_only(d / "voice-only.mp4")
    M.hostile_zip(d / "album.zip", M.jpeg_bytes(M.hopper()[:, ::-1]))
    from skimage import data

    M.save(d / "no-face.png", data.rocket())
    return d
