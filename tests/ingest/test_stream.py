"""Videos streamed from disk, large originals stored in parts, live photos."""

from __future__ import annotations

import pathlib

import numpy as np
from PIL import Image

from generation.ingest import ingest_paths, originals
from generation.ingest.records import load_records
from generation.vault.store import ORIGINAL_PREFIX

from . import media as M


def test_video_is_streamed_and_its_original_stored_in_parts(make_subject, media_dir, monkeypatch, cli, tmp_path):
    video = media_dir / "talk.mp4"
    real_read = pathlib.Path.read_bytes

    def refuse_videos(self):
        assert self.suffix != ".mp4", "a video was read whole"
        return real_read(self)

    monkeypatch.setattr(pathlib.Path, "read_bytes", refuse_videos)
    monkeypatch.setattr(originals, "PART_BYTES", 16 * 1024)
    vault = make_subject("rose")
    report = ingest_paths(vault, [video], progress=False)
    assert report.frames == 75 and report.samples >= 1, report.lines()
    size = video.stat().st_size
    parts = vault.list(originals.PART_PREFIX)
    assert len(parts) == -(-size // (16 * 1024)) > 1
    (orig,) = vault.list(ORIGINAL_PREFIX)
    assert orig.meta["parts"] == len(parts) and orig.meta["bytes"] == size
    assert b"".join(originals.original_chunks(vault, orig.key)) == real_read(video)
    from generation.ingest.bust import source_image

    (record,) = load_records(vault)
    assert source_image(vault, orig.key, record.samples[0]).ndim == 3  # the frame, from the parts
    vault.close()
    monkeypatch.setattr(pathlib.Path, "read_bytes", real_read)
    out = tmp_path / "out"
    result = cli("subject", "export-memories", "rose", out)
    assert result.exit_code == 0, result.output
    assert (out / "talk.mp4").read_bytes() == real_read(video)


def test_live_photo_motion_gives_few_frames(make_subject, tmp_path):
    hop = M.hopper()[:592]
    Image.fromarray(hop).save(tmp_path / "IMG_0007.JPG", quality=90)  # older iPhones: JPEG + MOV
    frames = [np.roll(hop, 4 * i, axis=0) for i in range(30)]  # the camera drifts: many "new" frames
    M.write_video(tmp_path / "IMG_0007.MOV", frames, container="mov")
    vault = make_subject("rose")
    report = ingest_paths(vault, [tmp_path], progress=False)
    notes = {n.rsplit("/", 1)[-1]: what for n, what in report.accepted}
    assert notes["IMG_0007.MOV"].startswith("live photo: "), report.lines()
    recs = {r.filename: r for r in load_records(vault)}
    assert 1 <= len(recs["IMG_0007.MOV"].samples) <= 4


def test_frames_are_checked_more_often_while_someone_speaks(make_subject, media_dir):
    from pathlib import Path

    clip = Path(__file__).resolve().parents[2] / ".." / "shared" / "media" / "talking-clip-aoc.mp4"
    if not clip.exists():
        __import__("pytest").skip(f"real media missing: {clip}")
    from generation.ingest.decode import extract_audio
    from generation.ingest.sampling import FrameSampler, SamplingPolicy, talking_mask

    envelope: list[float] = []
    flac, rate, seconds = extract_audio(clip.read_bytes(), envelope)
    assert abs(len(envelope) * 0.1 - seconds) < 0.2
    talking = talking_mask(envelope)
    assert 0.3 < talking.mean() < 0.95  # she speaks most of the clip, with pauses
    quiet = np.zeros(1000, np.float32).tolist()
    assert not talking_mask(quiet).any() and not talking_mask([0.3] * 100).any()  # silence, a steady hum
    policy = SamplingPolicy(check_interval=1.0)
    speaking, silent = FrameSampler(policy, talking=np.ones(200, bool)), FrameSampler(policy)
    thumb = np.full((48, 48), 100, np.uint8)
    checks = [sum(s.wants_landmarks(thumb, i / 25) for i in range(250)) for s in (speaking, silent)]
    assert checks[0] >= 2.5 * checks[1]


def test_video_of_someone_else_keeps_neither_face_nor_voice(make_subject, media_dir, tmp_path):
    from generation.ingest.pipeline import learn_references
    from generation.ingest.records import AUDIO_PREFIX

    video = M.write_video(tmp_path / "friend.mp4", [M.astronaut()] * 8, audio_seconds=0.5)
    vault = make_subject("rose")
    learn_references(vault, [media_dir / "hopper.jpg"])
    report = ingest_paths(vault, [video], progress=False)
    assert report.samples == 0 and vault.list(AUDIO_PREFIX) == []
    (why,) = [w for n, w in report.skipped if n.endswith("friend.mp4")]
    assert "not the subject ×" in why and "the voice is likely theirs" in why


def test_a_new_head_angle_is_kept_even_with_the_same_expression():
    from generation.ingest.sampling import FrameSampler

    lm = np.random.default_rng(0).normal(0, 50, (478, 3)).astype(np.float32)
    sampler = FrameSampler()
    sampler.wants_landmarks(np.zeros((48, 48), np.uint8), 0.0)
    assert sampler.keep(lm, (0.0, 0.0))
    assert not sampler.keep(lm, (3.0, -2.0))  # same face, same angle: nothing new
    assert sampler.keep(lm, (15.0, 0.0))  # turned: a view the dataset lacks
    assert not sampler.keep(lm, (17.0, 1.0))
