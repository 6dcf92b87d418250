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
    assert accepted == {"album.zip:album/good.jpg"}  # a mirrored Hopper
    # someone else alone, while only Hopper's photo taught the face: asked about, original kept, no sample
    assert [short(n) for n, _ in report.doubtful] == ["astronaut.png"]

    # what was stored before is intact, and only accepted files were added
    for key, data in before.items():
        assert vault.get(key) == data
    names = sorted(b.meta["filename"] for b in vault.list(ORIGINAL_PREFIX))
    assert names == ["astronaut.png", "good.jpg", "hopper.jpg"]
    samples = [IngestRecord.from_bytes(vault.get(b.key)) for b in vault.list(SAMPLE_PREFIX)]
    assert sorted((r.filename, len(r.samples)) for r in samples) == [("astronaut.png", 0), ("good.jpg", 1),
                                                                      ("hopper.jpg", 1)]
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
    assert 0.8 <= s.quality <= 1.0 and s.info["faces"] == 1 and not s.info["synthetic"]


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


def test_crowd_first_ingest_takes_nobody(make_subject, media_dir):
    """With no face known as the subject's, a group photo gives no sample and stays retryable."""
    vault = make_subject("rose")
    report = ingest_paths(vault, [media_dir / "crowd.png"], progress=False)
    assert report.accepted == [] and report.faces_found >= 3
    assert "the subject's face is not known yet" in reasons(report)["crowd.png"]
    assert vault.list(SAMPLE_PREFIX) == [] and vault.list(ORIGINAL_PREFIX) == []
    assert report.identity.startswith("not known yet")


def test_crowd_later_ingest_follows_the_subject(make_subject, media_dir):
    vault = make_subject("rose")
    ingest_paths(vault, [media_dir / "astronaut.png"], progress=False)
    report = ingest_paths(vault, [media_dir / "crowd.png"], progress=False)
    assert len(report.accepted) == 1 and report.other_faces == 2
    note = report.accepted[0][1]
    assert note.startswith("face 3 of 3 at x=") and "distance 0.0" in note, note  # the same photo: distance ~0
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
    assert 1 <= len(rec.samples) <= 10  # near-identical frames dropped
    assert {s.info["shot"] for s in rec.samples} == {1}  # the astronaut is someone else
    assert "left out: doubtful ×" in report.accepted[0][1]  # a lone stranger while the face is only provisional
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
    from assets.errors import ConsentError

    vault = make_subject("rose", face=False)
    with pytest.raises(ConsentError):
        ingest_paths(vault, [media_dir / "hopper.jpg"], progress=False)
    assert vault.list(ORIGINAL_PREFIX) == []


def test_extreme_pose_is_rejected_and_a_turned_head_down_weighted():
    from generation.face.landmarks import DetectedFace, LandmarkDetector
    from generation.ingest.faces import assess

    rgb = M.hopper()
    with LandmarkDetector() as det:
        face = det.detect(rgb)[0]

    def turned(deg: float) -> DetectedFace:
        """The same face with its landmarks turned about the vertical axis through their centre."""
        p = face.landmarks.astype(np.float64)
        c = p.mean(0)
        a = np.radians(deg)
        x, z = p[:, 0] - c[0], p[:, 2] - c[2]
        q = p.copy()
        q[:, 0] = c[0] + np.cos(a) * x + np.sin(a) * z
        q[:, 2] = c[2] - np.sin(a) * x + np.cos(a) * z
        q = q.astype(np.float32)
        return DetectedFace(q, (float(q[:, 0].min()), float(q[:, 1].min()), float(q[:, 0].max()), float(q[:, 1].max())))

    straight = assess(rgb, face)
    slight = assess(rgb, turned(35))
    extreme = assess(rgb, turned(75))
    assert straight.score > 0.8 and not any("turned head" in r for r in straight.reasons)
    assert 0 < slight.score < straight.score and any("turned head" in r for r in slight.reasons)
    assert extreme.rejected and extreme.reasons[0].startswith("extreme head pose")


def test_phone_video_rotation_is_honoured(make_subject, tmp_path):
    upright = M.hopper()[:592]
    lying = np.ascontiguousarray(np.rot90(upright, k=-1))  # stored sideways, displayed upright
    video = M.write_video(tmp_path / "phone.mov", [lying] * 10, container="mov", rotation=90)
    vault = make_subject("rose")
    report = ingest_paths(vault, [video], progress=False)
    assert report.samples == 1, report.lines()
    (blob,) = vault.list(SAMPLE_PREFIX)
    (s,) = IngestRecord.from_bytes(vault.get(blob.key)).samples
    assert abs(s.info["yaw"]) < 10  # a frontal face
    eyes = s.landmarks[[33, 263], :2]
    assert abs(eyes[0, 1] - eyes[1, 1]) < 10  # eyes level: the frame was turned upright


@pytest.mark.parametrize("suffix,container", [("mkv", "matroska"), ("avi", "avi"), ("webm", "webm")])
def test_other_video_containers(make_subject, tmp_path, suffix, container):
    frames = [M.hopper()[:592]] * 6
    video = M.write_video(tmp_path / f"clip.{suffix}", frames, container=container)
    vault = make_subject("rose")
    report = ingest_paths(vault, [video], progress=False)
    assert report.frames == 6 and report.samples == 1, report.lines()
    assert vault.list("original/")[0].meta["media_type"].startswith("video/")


def test_each_video_record_counts_its_own_frames(make_subject, tmp_path):
    """The per-file record holds that video's frame count, not the run's running total."""
    a = M.write_video(tmp_path / "a.mkv", [M.hopper()[:592]] * 6, container="matroska")
    b = M.write_video(tmp_path / "b.mkv", [M.hopper()[:592, ::-1]] * 4, container="matroska")
    vault = make_subject("rose")
    report = ingest_paths(vault, [a, b], progress=False)
    assert report.frames == 10, report.lines()
    recs = {r.filename: r for r in (IngestRecord.from_bytes(vault.get(x.key)) for x in vault.list(SAMPLE_PREFIX))}
    assert (recs["a.mkv"].meta["frames"], recs["b.mkv"].meta["frames"]) == (6, 4)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "BMP", "TIFF"])
def test_photo_formats_decode(fmt):
    from generation.ingest.decode import decode_image

    src = M.hopper()
    buf = io.BytesIO()
    Image.fromarray(src).save(buf, format=fmt, **({"quality": 95} if fmt in ("JPEG", "WEBP") else {}))
    rgb = decode_image(buf.getvalue())
    assert rgb.shape == src.shape and rgb.dtype == np.uint8
    assert np.abs(rgb.astype(int) - src.astype(int)).mean() < 4


def test_sampler_keeps_expressive_frames_and_drops_repeats():
    from generation.face.landmarks import LandmarkDetector
    from generation.ingest.sampling import FrameSampler

    with LandmarkDetector() as det:
        hop = det.detect(M.hopper())[0].landmarks
        ast = det.detect(M.astronaut())[0].landmarks
    sampler = FrameSampler()
    thumb = np.full((48, 48), 100, np.uint8)
    assert sampler.wants_landmarks(thumb, 0.0) and sampler.shots == 1
    assert sampler.keep(hop)
    assert not sampler.wants_landmarks(thumb, 0.04)  # same picture, too soon
    assert sampler.wants_landmarks(thumb, 0.25)  # due again
    moved = hop.copy()
    moved[:, :2] = moved[:, :2] * 1.1 + 7  # the same expression, nearer and shifted
    assert not sampler.keep(moved)
    assert sampler.keep(ast)  # a clearly different shape
    dark = np.full((48, 48), 10, np.uint8)
    assert sampler.wants_landmarks(dark, 0.3) and sampler.shots == 2  # a cut
