"""`fit_subject` / `memorial subject fit`: dataset and head from the stored samples."""

from __future__ import annotations

import numpy as np
import pytest

from assets import expression
from assets.artifacts import KEYS, HeadModel, SubjectDataset, SubjectProfile
from generation.ingest import fit_subject, ingest_paths
from generation.ingest.records import SAMPLE_PREFIX, load_records


@pytest.fixture
def rose(make_subject, media_dir):
    vault = make_subject("rose")
    ingest_paths(vault, [media_dir / "hopper.jpg", media_dir / "hopper-mirror.png", media_dir / "hopper-tinted.png",
                         media_dir / "talk.mp4"], progress=False)
    return vault


def test_fit_builds_and_stores_the_dataset(rose):
    n_samples = sum(len(r.samples) for r in load_records(rose))
    ds, head = fit_subject(rose, single_photo=False, progress=False)
    n_samples += rose.info(KEYS["dataset"]).meta["dense_frames"]  # the talking video's skipped frames
    assert len(ds) == n_samples >= 4 and not ds.synthetic.any()
    stored = SubjectDataset.from_bytes(rose.get(KEYS["dataset"]))
    assert stored.crops.shape == (n_samples, 256, 256, 3) and stored.uv.shape == (n_samples, 256, 256, 3)
    assert np.array_equal(stored.codes, ds.codes) and stored.source_ids == ds.source_ids
    assert HeadModel.from_bytes(rose.get(KEYS["head"])).vertices.shape == head.vertices.shape
    assert np.all(ds.codes >= expression.LOW) and np.all(ds.codes <= expression.HIGH)

    profile = SubjectProfile.from_bytes(rose.get(KEYS["profile"]))  # what later stages read instead
    assert profile.calibration == stored.calibration and np.array_equal(profile.codes, stored.codes)
    real = np.where(~stored.synthetic)[0]
    best = real[np.argmax(stored.quality[real])]
    assert np.array_equal(profile.best_texture, stored.uv[best]) and profile.best_source == stored.source_ids[best]
    seen = ds.mask > 0
    assert np.all(seen.mean(axis=(1, 2)) > 0.2)  # each frontal face covers a good part of the UV square
    assert np.all(ds.uv[~seen] == 0) and ds.uv[seen].std() > 10
    for sid in ds.source_ids:
        assert rose.exists(sid.split("#")[0])
    # aligned crops put the eyes where geometry's canonical frame wants them
    eyes_y = ds.landmarks[:, [33, 263], 1].mean(axis=1)
    assert np.all(np.abs(eyes_y - 0.40 * 256) < 12)
    assert ds.quality.min() > 0 and ds.quality.max() <= 1
    assert any(e.action == "fit" for e in rose.audit_entries())


def test_subject_show_and_fit_command_with_exports(cli, rose, tmp_path):
    import trimesh
    from PIL import Image

    sheet, mesh = tmp_path / "sheet.png", tmp_path / "head.glb"
    result = cli("subject", "fit", "rose", "--no-single-photo", "--contact-sheet", sheet, "--export-mesh", mesh, "-q")
    assert result.exit_code == 0, result.output
    assert "real, 0 synthetic" in result.output and "Code coverage" in result.output
    png = np.asarray(Image.open(sheet))
    assert png.ndim == 3 and png.shape[1] == 4 * 2 * 128 and png.std() > 20
    loaded = trimesh.load(mesh, force="mesh")
    head = HeadModel.from_bytes(rose.get(KEYS["head"]))
    assert len(loaded.vertices) > 0.9 * len(head.vertices)
    show = cli("subject", "show", "rose")
    assert "Dataset" in show.output and "real, 0 synthetic" in show.output


def test_exports_need_the_video_export_scope(cli, make_subject, media_dir, tmp_path):
    vault = make_subject("rose", scopes=["private_viewing"])
    ingest_paths(vault, [media_dir / "hopper.jpg"], progress=False)
    sheet = tmp_path / "sheet.png"
    result = cli("subject", "fit", "rose", "--contact-sheet", sheet, "-q")
    assert result.exit_code != 0 and "video_export" in result.output
    assert not sheet.exists()


def test_fit_without_samples_is_a_clear_error(cli, make_subject):
    make_subject("rose")
    result = cli("subject", "fit", "rose", "-q")
    assert result.exit_code != 0
    assert "memorial: error: nothing to fit for 'rose'" in result.output


def test_single_photo_mode_builds_a_synthetic_album(make_subject, media_dir):
    from generation.ingest.dataset import FitConfig

    vault = make_subject("rose")
    ingest_paths(vault, [media_dir / "hopper.jpg"], progress=False)
    ds, head = fit_subject(vault, progress=False, config=FitConfig(album_size=8))
    assert (~ds.synthetic).sum() == 1 and ds.synthetic.sum() >= 6  # renders whose face was found again
    assert ds.source_ids[0].startswith("original/") and all(s.startswith("synthetic#") for s in ds.source_ids[1:])
    # the renders went back through the landmark pipeline: their codes differ from the photo's
    spread = ds.codes[ds.synthetic].max(0) - ds.codes[ds.synthetic].min(0)
    assert (spread[:12] > 0.25).sum() >= 3
    assert np.ptp(ds.pose[:, 0]) > 8  # the album turns the head, and the pose fit sees it
    assert all(m.max() == 255 for m in ds.mask)  # every render unwraps onto the texture
    # renders are no evidence for a fitted blendshape: one photo keeps the generic ones
    assert all(v.startswith("generic") for k, v in head.meta["blendshapes"].items() if not k.startswith("pca"))
    meta = vault.info(KEYS["dataset"]).meta
    assert meta["single_photo"] and meta["album"] == {"rendered": 8, "kept": int(ds.synthetic.sum())}
    assert len(vault.list(SAMPLE_PREFIX)) == 1  # synthetic samples live only in the dataset


def test_show_warns_when_head_and_dataset_do_not_match(rose):
    from generation.ingest.dataset import stored_dataset_lines

    fit_subject(rose, single_photo=False, progress=False)
    assert not any("does not match" in line for line in stored_dataset_lines(rose))
    head = rose.get(KEYS["head"])
    rose.put(KEYS["head"], head, kind="head", meta={"sha256": "0" * 64})  # as if a later fit died midway
    assert any("does not match" in line for line in stored_dataset_lines(rose))


def test_fit_stores_a_bust_for_its_head_and_the_room_loads_it(rose):
    from assets.artifacts import BustModel
    from vr_app.inputs import load_bust

    _, head = fit_subject(rose, single_photo=False, progress=False)
    assert rose.exists(KEYS["bust"])
    info = rose.info(KEYS["bust"]).meta
    assert info["head_sha256"] == rose.info(KEYS["head"]).meta["sha256"]
    bust = load_bust(rose)
    assert isinstance(bust, BustModel) and bust.face_texture.shape == (512, 512, 3)
    assert rose.exists(bust.meta["source"].split("#")[0])  # built from a real photo or frame in the vault
    from generation.ingest.dataset import stored_dataset_lines

    line = next(x for x in stored_dataset_lines(rose) if x.startswith("Bust"))
    ingested = ("hopper.jpg", "hopper-mirror.png", "hopper-tinted.png", "talk.mp4")  # the rose fixture's files
    assert "hair and upper body from" in line and any(name in line for name in ingested)
    # A head fitted again (e.g. after more photos) makes the stored bust stale: the room ignores it.
    head_bytes = rose.get(KEYS["head"])
    rose.put(KEYS["head"], head_bytes, kind="head", meta={"sha256": "0" * 64})
    assert load_bust(rose) is None
    # A damaged bust is a one-line error, not a silent fallback.
    from assets.errors import MemorialError

    rose.put(KEYS["bust"], b"not a bust", kind="bust", meta={"head_sha256": "0" * 64})
    with pytest.raises(MemorialError, match="stored bust cannot be read.*subject fit"):
        load_bust(rose)


def test_the_room_and_speech_read_the_profile_not_the_dataset(rose, monkeypatch):
    """No stage after fit decrypts every crop and texture to read one field."""
    from assets import vault_door
    from generation.speech.recording import training_pairs
    from vr_app.inputs import load_texture

    fit_subject(rose, single_photo=False, progress=False)
    get = rose.get

    def no_dataset(key, *args, **kwargs):
        assert key != KEYS["dataset"], "the whole dataset was decrypted"
        return get(key, *args, **kwargs)

    monkeypatch.setattr(rose, "get", no_dataset)
    stream, source = load_texture(rose, None)
    assert source.startswith(KEYS["profile"]) and np.array_equal(stream.at(0.0), vault_door.read(rose, "profile").best_texture)
    pairs, frames = training_pairs(rose)  # the lip-sync model's calibration comes from the profile too
    assert frames > 0 and len(pairs) == 1


def test_fit_adds_the_videos_skipped_frames_of_the_subjects_track_only(make_subject, media_dir, monkeypatch):
    """talk.mp4: 50 frames of Hopper, then a cut to 25 of the astronaut (someone else)."""
    from generation.ingest import dense
    from generation.ingest.dataset import FitConfig

    monkeypatch.setattr(dense, "TRACK_S", 10.0)  # time alone would let the astronaut in: the shot must not

    vault = make_subject("rose")
    ingest_paths(vault, [media_dir / "hopper.jpg", media_dir / "talk.mp4"], progress=False)
    (video,) = [r for r in load_records(vault) if r.filename == "talk.mp4"]
    kept = {s.info["frame"] for s in video.samples}
    ds, _ = fit_subject(vault, single_photo=False, progress=False)
    dense = [int(sid.split("#")[1]) for sid in ds.source_ids if sid.startswith(video.source + "#")]
    added = sorted(set(dense) - kept)
    assert vault.info(KEYS["dataset"]).meta["dense_frames"] == len(added) >= 20
    assert max(added) < 50  # never a frame of the astronaut's shot
    assert len(dense) == len(set(dense))  # no frame twice
    lean, _ = fit_subject(vault, single_photo=False, progress=False,
                          config=FitConfig(dense_video_frames=0, register=True))
    assert len(lean) == len(ds) - len(added)
    meta = vault.info(KEYS["dataset"]).meta
    assert meta["registered"] and meta["dense_frames"] == 0 and not ds.synthetic.any()
    assert np.all(lean.uv[lean.mask == 0] == 0) and (lean.mask > 0).mean() > 0.2
