"""Ingest of real faces and of every kind of bad input the issue lists."""

from __future__ import annotations

import io
import shutil

import numpy as np
import pytest
from PIL import Image

from generation.ingest import ingest_paths
from generation.ingest.records import AUDIO_PREFIX, SAMPLE_PREFIX, IngestRecord
from generation.vault.store import ORIGINAL_PREFIX

from . import media as M


def short(name: str) -> str:
    """'/tmp/x/album.zip:../../x.jpg' -> 'album.zip:../../x.jpg'"""
    path, sep, member = name.partition(".zip:")
    return path.rsplit("/", 1)[-1] + sep + member


def reasons(report) -> dict[str, str]:
    return {short(name): why for name, why in report.skipped}


def test_bad_inputs_are_reported_and_the_rest_goes_in(make_subject, media_dir, bad_dir, tmp_path):
    vault = make_subject("rose")
    first = ingest_paths(vault, [media_dir / "hopper.jpg"], progress=False)
    assert len(first.accepted) == 1
    before = {b.key: vault.get(b.key) for b in vault.list(ORIGINAL_PREFIX)}

    batch = tmp_path / "batch"
    shutil.copytree(bad_dir, batch)
    shutil.copy(media_dir / "astronaut.png", batch / "astronaut.png")
    report = ingest_paths(vault, [batch], progress=False)
    why = reasons(report)

    assert why["empty.jpg"] == "empty file (0 bytes)"
    assert "not an image" in why["notes.jpg"]
    assert "truncated" in why["truncated.jpg"]
    assert "decompression bomb" in why["bomb.png"]
    assert why["corrupt.mp4"].startswith("cannot read video")
    assert why["voice-only.mp4"] == "no video stream (audio only)"
    assert why["no-face.png"] == "no face found"
    assert "escapes the archive" in why["album.zip:../../x.jpg"]
    assert why["album.zip:album/link.jpg"] == "symbolic link in archive"
    assert "zip bomb" in why["album.zip:album/bomb.png"]
    accepted = {short(name) for name, _ in report.accepted}
    assert accepted == {"astronaut.png", "album.zip:album/good.jpg"}

    # what was stored before is intact, and only accepted files were added
    for key, data in before.items():
        assert vault.get(key) == data
    names = sorted(b.meta["filename"] for b in vault.list(ORIGINAL_PREFIX))
    assert names == ["astronaut.png", "good.jpg", "hopper.jpg"]
    assert len(vault.list(SAMPLE_PREFIX)) == 3
    assert any(e.action == "ingest" and e.detail["skipped"] == len(report.skipped) for e in vault.audit_entries())


def test_sample_record_holds_crop_landmarks_and_quality(make_subject, media_dir):
    vault = make_subject("rose")
    ingest_paths(vault, [media_dir / "hopper.jpg"], progress=False)
    (blob,) = vault.list(SAMPLE_PREFIX)
    rec = IngestRecord.from_bytes(vault.get(blob.key))
    assert rec.filename == "hopper.jpg" and vault.exists(rec.source)
    (s,) = rec.samples
    assert s.crop.shape == (512, 512, 3) and s.crop.dtype == np.uint8
    assert s.landmarks.shape == (478, 3)
    # the face sits in the middle of its crop and the landmarks land on it
    assert 180 < s.landmarks[:, 0].mean() < 330 and 180 < s.landmarks[:, 1].mean() < 330
    assert 0.9 <= s.quality <= 1.0 and s.info["faces"] == 1 and not s.info["synthetic"]


def test_duplicates_exact_and_near(make_subject, media_dir, tmp_path):
    vault = make_subject("rose")
    shutil.copy(media_dir / "hopper.jpg", tmp_path / "copy-of-hopper.jpg")
    M.save(tmp_path / "hopper-small.png", np.asarray(Image.open(media_dir / "hopper.jpg").resize((256, 300))))
    report = ingest_paths(vault, [media_dir / "hopper.jpg", tmp_path], progress=False)
    why = reasons(report)
    assert why["copy-of-hopper.jpg"].startswith("already ingested")
    assert why["hopper-small.png"] == "near-duplicate of 'hopper.jpg'"
    assert len(vault.list(ORIGINAL_PREFIX)) == 1


def test_exif_orientation_is_honoured(make_subject, tmp_path):
    from generation.ingest.decode import decode_image

    upright = M.hopper()  # [600,512,3]
    lying = np.ascontiguousarray(np.rot90(upright, k=1))  # as a camera held sideways stores it
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    buf = io.BytesIO()
    Image.fromarray(lying).save(buf, format="JPEG", exif=exif, quality=95)
    rgb = decode_image(buf.getvalue())
    assert rgb.shape == upright.shape
    assert np.abs(rgb.astype(int) - upright.astype(int)).mean() < 6


def test_decompression_bomb_keeps_pillow_limit(bad_dir):
    from generation.ingest.decode import DecodeError, decode_image

    limit = Image.MAX_IMAGE_PIXELS
    with pytest.raises(DecodeError, match="decompression bomb"):
        decode_image((bad_dir / "bomb.png").read_bytes())
    assert Image.MAX_IMAGE_PIXELS == limit


def test_small_and_blurred_faces_are_rejected_with_reason(make_subject, tmp_path):
    import cv2

    vault = make_subject("rose")
    M.save(tmp_path / "tiny.png", cv2.resize(M.hopper(), (110, 128), interpolation=cv2.INTER_AREA))
    M.save(tmp_path / "blurred.png", cv2.GaussianBlur(M.hopper(), (0, 0), 6))
    report = ingest_paths(vault, [tmp_path], progress=False)
    why = reasons(report)
    assert why["tiny.png"].startswith("face too small")
    assert why["blurred.png"].startswith("too blurry")
    assert report.accepted == []


def test_crowd_first_ingest_takes_the_largest_face(make_subject, media_dir):
    vault = make_subject("rose")
    report = ingest_paths(vault, [media_dir / "crowd.png"], progress=False)
    assert len(report.accepted) == 1 and report.faces_found >= 3
    (flag,) = report.flagged
    assert "faces; chose the largest" in flag[1]
    (blob,) = vault.list(SAMPLE_PREFIX)
    (s,) = IngestRecord.from_bytes(vault.get(blob.key)).samples
    assert s.info["bbox"][0] > 512  # one of the (larger) Hopper tiles, not the astronaut


def test_crowd_later_ingest_follows_the_subject(make_subject, media_dir):
    vault = make_subject("rose")
    ingest_paths(vault, [media_dir / "astronaut.png"], progress=False)
    report = ingest_paths(vault, [media_dir / "crowd.png"], progress=False)
    assert len(report.accepted) == 1
    assert "most like the subject" in report.flagged[0][1]
    rec = [IngestRecord.from_bytes(vault.get(b.key)) for b in vault.list(SAMPLE_PREFIX)]
    (s,) = [r for r in rec if r.filename == "crowd.png"][0].samples
    assert s.info["bbox"][0] < 512  # the astronaut tile, though it is the smallest face


def test_video_frames_sampled_and_audio_kept(make_subject, media_dir):
    import soundfile as sf

    vault = make_subject("rose")
    report = ingest_paths(vault, [media_dir / "talk.mp4"], progress=False)
    assert report.frames == 75 and report.audio == 1
    (blob,) = vault.list(SAMPLE_PREFIX)
    rec = IngestRecord.from_bytes(vault.get(blob.key))
    assert rec.meta["shots"] == 2  # the cut from Hopper to the astronaut
    assert 2 <= len(rec.samples) <= 12  # near-identical frames dropped
    assert len({s.info["shot"] for s in rec.samples}) == 2
    (audio,) = vault.list(AUDIO_PREFIX)
    assert audio.meta["video"] == rec.source
    pcm, rate = sf.read(io.BytesIO(vault.get(audio.key)))
    assert rate == 16000 and abs(len(pcm) / rate - 2.0) < 0.15 and np.abs(pcm).max() > 0.1


def test_video_audio_skipped_without_voice_consent(make_subject, media_dir):
    vault = make_subject("rose", voice=False)
    report = ingest_paths(vault, [media_dir / "talk.mp4"], progress=False)
    assert report.audio == 0 and vault.list(AUDIO_PREFIX) == []
    assert "audio not kept (consent does not allow use of the voice" in report.accepted[0][1]


def test_ingest_needs_face_consent(make_subject, media_dir):
    from generation.errors import ConsentError

    vault = make_subject("rose", face=False)
    with pytest.raises(ConsentError):
        ingest_paths(vault, [media_dir / "hopper.jpg"], progress=False)
    assert vault.list(ORIGINAL_PREFIX) == []
