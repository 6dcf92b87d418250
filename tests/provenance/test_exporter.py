"""The one export path: label + watermark + spoken notice + metadata + C2PA + both logs."""

from __future__ import annotations

import hashlib
import io

import numpy as np
import pytest

from assets.errors import MemorialError, UsageError
from generation.provenance import Exporter, metadata, verify_file

from .exports import FACE, export_mp4, export_png, sha256
from .media import astronaut, read_mp4, speech, write_mp4


def test_png_export_is_labelled_signed_and_logged(make_subject, tmp_path):
    vault = make_subject("rose")
    path = export_png(vault, tmp_path / "still.png")
    report = verify_file(path)
    assert report.ok, report.line()
    assert report.credentials == "trusted" and report.exact_export
    assert report.metadata_content_id == report.watermark_id == report.manifest_content_id
    # the subject's audit log names the export, with the final file's hash
    entry = [e for e in vault.audit_entries() if e.action == "export"][-1]
    assert entry.detail["content_id"] == report.watermark_id
    assert entry.detail["sha256"] == sha256(path)
    assert entry.detail["command"] == "test-png" and entry.member == "anna"
    # the consent reference is a hash; the person's name is nowhere in the file
    import c2pa

    manifest = c2pa.Reader("image/png", io.BytesIO(path.read_bytes())).get_active_manifest()
    ours = next(a["data"] for a in manifest["assertions"] if a["label"] == "org.memorialvr.provenance")
    assert ours["consent_sha256"] == hashlib.sha256(vault.consent.canonical_bytes()).hexdigest()
    assert b"Rose" not in path.read_bytes() and b"Anna" not in path.read_bytes()
    aigc = metadata.read_png(path)["AIGC"]
    assert aigc["ContentType"] == "AIGC" and aigc["ProduceID"] == report.watermark_id


def test_visible_label_is_in_the_exported_pixels(make_subject, tmp_path):
    from PIL import Image

    vault = make_subject("rose")
    ex = Exporter(vault, command="t", kind="image")
    path = ex.write_png(tmp_path / "x.png", astronaut(), face_box=FACE).path
    pixels = np.asarray(Image.open(path).convert("RGB"))
    x0, y0, x1, y1 = ex.label_box
    assert (pixels[y0:y1, x0:x1] > 200).all(axis=2).sum() > 300  # white glyphs
    assert (pixels[y0:y1, x0:x1] < 60).all(axis=2).sum() > 1000  # dark box behind them
    assert not (x1 > FACE[0] and x0 < FACE[2] and y1 > FACE[1] and y0 < FACE[3])


def test_face_is_found_when_no_box_is_given(make_subject, tmp_path):
    vault = make_subject("rose")
    ex = Exporter(vault, command="t", kind="image")
    rgb = astronaut()  # the face is at the top, where the label would go without a face
    ex.mark_image(rgb)
    x0, y0, x1, y1 = ex.label_box
    assert y0 > 256, "the label moves to the bottom, away from the face"
    assert ex._face_box is not None and ex._face_box[3] < 256


def test_wav_export_starts_with_the_spoken_notice(make_subject, tmp_path):
    import soundfile as sf

    vault = make_subject("rose")
    x, rate = speech("I love you all. Take care of the roses.")
    ex = Exporter(vault, command="t", kind="audio")
    path = ex.write_wav(tmp_path / "voice.wav", x, rate).path
    y, yrate = sf.read(path, dtype="float32")
    assert yrate == rate and len(y) > len(x) + 2 * rate  # a notice of more than two seconds in front
    head = y[: len(y) - len(x)]
    assert np.sqrt(np.mean(head ** 2)) > 0.02  # it is speech, not silence
    tail = y[len(y) - len(x):]
    assert np.corrcoef(tail, x)[0, 1] > 0.95  # the content itself is kept
    assert ex.notice_engine.startswith("piper")
    assert verify_file(path).ok


def test_mp4_export_verifies_from_frames_and_sound(make_subject, tmp_path):
    vault = make_subject("rose")
    path, ex = export_mp4(vault, tmp_path / "clip.mp4")
    report = verify_file(path)
    assert report.ok, report.line()
    assert report.watermark_id == ex.content_id
    assert report.watermark_sources == ["image", "audio"]
    assert metadata.read_mp4(path)["AIGC"]["ProduceID"] == ex.content_id
    frames, audio, _ = read_mp4(path)
    assert len(frames) == 24 and audio is not None


def test_finalize_refuses_unmarked_media(make_subject, tmp_path):
    from PIL import Image

    vault = make_subject("rose")
    ex = Exporter(vault, command="t", kind="image")
    path = tmp_path / "raw.png"
    Image.fromarray(astronaut()).save(path)
    with pytest.raises(MemorialError, match="did not go through Exporter.mark_image"):
        ex.finalize(path)
    ex.mark_image(astronaut(), face_box=FACE)
    clip = write_mp4(tmp_path / "clip.mp4", [astronaut()] * 3, audio=np.zeros(22050, np.float32))
    with pytest.raises(MemorialError, match="sound track did not go through"):
        ex.finalize(clip)
    with pytest.raises(UsageError, match="exports only"):
        ex.finalize(tmp_path / "x.gif")
    with pytest.raises(UsageError, match="no such file"):
        ex.finalize(tmp_path / "missing.png")
    assert not [e for e in vault.audit_entries() if e.action == "export"]


def test_notice_wording_is_configurable_but_not_removable(make_subject, monkeypatch):
    vault = make_subject("rose")
    with pytest.raises(UsageError, match="must say"):
        Exporter(vault, command="t", kind="audio", notice_text="")
    with pytest.raises(UsageError, match="must say"):
        Exporter(vault, command="t", kind="audio", notice_text="Hello there.")
    monkeypatch.setenv("MEMORIAL_AUDIO_NOTICE", "Grandma's voice here is made by AI.")
    assert Exporter(vault, command="t", kind="audio")._notice_text == "Grandma's voice here is made by AI."


def test_chinese_locale_label_and_notice(make_subject, tmp_path):
    vault = make_subject("rose")
    ex = Exporter(vault, command="t", kind="audio", locale="zh_CN.UTF-8")
    assert ex.language == "zh"
    out = ex.mark_audio(np.zeros(22050, np.float32), 22050)
    assert len(out) > 22050 * 2 and ex.notice_engine == "espeak-ng"


def test_export_needs_the_export_scope_and_role(make_subject):
    from assets.errors import ConsentError, PermissionDenied

    vault = make_subject("rose", scopes=["private_viewing"])
    with pytest.raises(ConsentError, match="video_export"):
        Exporter(vault, command="t", kind="image")
    owner = make_subject("lily")
    owner.add_member("vic", "viewer", "viewer-passphrase-1")
    from generation.vault import open_vault

    viewer = open_vault("lily", "viewer-passphrase-1", "vic")
    try:
        with pytest.raises(PermissionDenied):
            Exporter(viewer, command="t", kind="image")
    finally:
        viewer.close()
