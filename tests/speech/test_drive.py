"""Driving video -> subject track, with a Grace Hopper video whose mouth is warped open and shut."""

import numpy as np
import pytest

from assets import expression
from assets.errors import UsageError
from generation.speech import drive, measures

from .media import encode_video, portrait, talking_video

JAW = expression.index("jaw_open")


@pytest.fixture(scope="module")
def video():
    return talking_video(n=40, period=20)


def test_drive_follows_the_mouth(video):
    data, opening = video
    tk = drive.drive_track(data)
    assert tk.source == "video" and tk.fps == 25 and len(tk.codes) == 40
    assert tk.meta["face_share"] == 1.0 and tk.audio is None
    assert np.corrcoef(tk.codes[:, JAW], opening)[0, 1] > 0.9
    assert tk.codes[:, JAW].max() > 0.4 and tk.codes[opening < 0.05, JAW].max() < 0.2
    assert np.abs(tk.pose[:, :3]).max() < 10  # the still portrait barely moves its head
    assert tk.codes[:, expression.index("blink_l")].max() > 0  # idle life underneath


def test_big_mouthed_driver_is_capped_by_the_subject_range(video):
    from generation.speech.drive import read_video, track_landmarks

    frames, _ = read_video(video[0])
    lms, _ = track_landmarks(frames)
    # a subject who never opens the mouth beyond 0.3 in her own data
    subject = expression.neutral(50)
    subject[:, JAW] = np.linspace(0, 0.3, 50)
    capped, _ = drive.retarget(lms, subject)
    free, _ = drive.retarget(lms, None)
    assert capped[:, JAW].max() <= 0.3 + 1e-6 < free[:, JAW].max()
    assert measures.subject_caps(subject)[measures.MEASURED.index("jaw_open")] == pytest.approx(0.3, abs=0.01)


def test_video_without_a_face():
    blank = [np.full((240, 320, 3), c, np.uint8) for c in range(0, 200, 10)]
    with pytest.raises(UsageError, match="no face found"):
        drive.drive_track(encode_video(blank))


def test_face_mostly_missing():
    img = portrait()[::2, ::2]
    frames = [img] * 3 + [np.zeros_like(img)] * 17
    with pytest.raises(UsageError, match="only 15%"):
        drive.drive_track(encode_video(frames))


@pytest.mark.parametrize("data, words", [(b"", "empty"), (b"\x00\x01" * 500, "not a readable video")])
def test_unreadable_video(data, words):
    with pytest.raises(UsageError, match=words):
        drive.drive_track(data)


def test_geometric_fallback_measures(video):
    from generation.speech.drive import read_video, track_landmarks

    frames, _ = read_video(video[0])
    lms, _ = track_landmarks(frames)
    raw = measures.raw(lms)
    norm = measures.Normalizer(raw)(raw)
    k = measures.MEASURED.index("jaw_open")
    assert np.corrcoef(norm[:, k], video[1])[0, 1] > 0.9


def test_phone_video_is_read_upright(tmp_path):
    """A phone stores the frame sideways with a display rotation; the driver's face must come out upright."""
    from tests.ingest.media import write_video

    upright = portrait()[:592]  # [592,512,3]
    lying = np.ascontiguousarray(np.rot90(upright, k=-1))  # stored sideways, displayed upright
    path = write_video(tmp_path / "phone.mov", [lying] * 4, container="mov", rotation=90)
    frames, fps = drive.read_video(path.read_bytes())
    assert len(frames) == 4 and fps == 25
    assert frames[0].shape == upright.shape  # taller than wide, as displayed
