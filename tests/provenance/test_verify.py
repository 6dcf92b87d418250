"""`memorial verify` on good files and on each bad input the issue lists."""

from __future__ import annotations

import datetime as dt
import json
import time

import numpy as np
import pytest

from generation.provenance import credentials, keys, verify_file

from .exports import FACE, change_one_pixel_byte, export_mp4, export_png, export_wav
from .media import astronaut, read_mp4, resize, write_audio, write_mp4


def _save_jpeg(path, rgb, quality=75):
    from PIL import Image

    Image.fromarray(rgb).save(path, format="JPEG", quality=quality)
    return path


def test_good_png_verifies_with_exit_0(make_subject, cli, tmp_path):
    path = export_png(make_subject("rose"), tmp_path / "still.png")
    result = cli("verify", path, passphrase=None)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("still.png: OK: credentials trusted; watermark ")
    assert "exported here" in result.output


def test_json_output_is_one_object_per_file(make_subject, cli, tmp_path):
    good = export_png(make_subject("rose"), tmp_path / "good.png")
    plain = tmp_path / "plain.png"
    from PIL import Image

    Image.fromarray(astronaut()).save(plain)
    result = cli("verify", "--json", good, plain, passphrase=None)
    assert result.exit_code == 1  # one of the two fails
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert [r["ok"] for r in rows] == [True, False]
    assert rows[0]["credentials"] == "trusted" and rows[0]["watermark_found"] and rows[0]["in_export_log"]
    assert rows[1]["credentials"] == "absent" and not rows[1]["watermark_found"] and not rows[1]["in_export_log"]


def test_file_with_no_credentials(memorial_home, cli, tmp_path):
    from PIL import Image

    path = tmp_path / "photo.png"
    Image.fromarray(astronaut()).save(path)
    result = cli("verify", path, passphrase=None)
    assert result.exit_code == 1
    assert result.output.strip() == "photo.png: FAILED: credentials absent (no C2PA manifest); no watermark found"


def test_one_pixel_byte_changed_after_signing_is_tampered(make_subject, cli, tmp_path):
    path = export_png(make_subject("rose"), tmp_path / "still.png")
    forged = tmp_path / "forged.png"
    forged.write_bytes(change_one_pixel_byte(path.read_bytes()))
    report = verify_file(forged)
    assert report.credentials == "tampered" and not report.ok
    assert report.watermark_found and report.in_export_log  # the mark still tells where it came from
    result = cli("verify", forged, passphrase=None)
    assert result.exit_code == 1 and "credentials tampered" in result.output


@pytest.mark.parametrize("kind", ["png", "wav", "mp4"])
def test_any_flipped_byte_fails(make_subject, tmp_path, kind):
    vault = make_subject("rose")
    path = {"png": lambda: export_png(vault, tmp_path / "a.png"),
            "wav": lambda: export_wav(vault, tmp_path / "a.wav"),
            "mp4": lambda: export_mp4(vault, tmp_path / "a.mp4", n_frames=6, with_audio=False)[0]}[kind]()
    assert verify_file(path).ok
    raw = bytearray(path.read_bytes())
    for offset in (len(raw) // 3, len(raw) - 40):
        flipped = tmp_path / f"flipped-{offset}.{kind}"
        copy = bytearray(raw)
        copy[offset] ^= 0x10
        flipped.write_bytes(bytes(copy))
        report = verify_file(flipped)
        assert not report.ok, (offset, report.line())


def test_reencoded_jpeg_75_resized_copy_keeps_the_watermark(make_subject, cli, tmp_path):
    path = export_png(make_subject("rose"), tmp_path / "still.png")
    from PIL import Image

    rgb = np.asarray(Image.open(path).convert("RGB"))
    copy = _save_jpeg(tmp_path / "copy.jpg", resize(rgb, 0.75), 75)
    report = verify_file(copy)
    original = verify_file(path)
    assert report.credentials == "absent"
    assert report.watermark_id == original.watermark_id and report.in_export_log
    assert not report.exact_export and not report.ok
    result = cli("verify", copy, passphrase=None)
    assert result.exit_code == 1
    assert f"watermark {original.watermark_id}" in result.output
    assert "this copy differs from the exported file" in result.output


def test_mp4_reencoded_at_a_lower_bitrate_keeps_the_watermark(make_subject, tmp_path):
    path, ex = export_mp4(make_subject("rose"), tmp_path / "clip.mp4")
    frames, audio, rate = read_mp4(path)
    copy = write_mp4(tmp_path / "copy.mp4", frames, fps=12, audio=audio, rate=rate, crf=32, audio_bitrate=64000)
    report = verify_file(copy)
    assert report.credentials == "absent"
    assert report.watermark_id == ex.content_id and report.in_export_log and not report.ok
    assert "image" in report.watermark_sources


def test_truncated_files(make_subject, cli, tmp_path):
    vault = make_subject("rose")
    png = export_png(vault, tmp_path / "a.png")
    mp4 = export_mp4(vault, tmp_path / "a.mp4", n_frames=6, with_audio=False)[0]
    for path in (png, mp4):
        cut = tmp_path / f"cut{path.suffix}"
        cut.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
        result = cli("verify", cut, passphrase=None)
        assert result.exit_code == 1
        assert result.output.startswith(f"{cut.name}: FAILED")
        assert "Traceback" not in result.output
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    result = cli("verify", empty, passphrase=None)
    assert result.exit_code == 1 and result.output.startswith("empty.wav: FAILED")


def test_file_type_the_product_never_writes(memorial_home, cli, tmp_path):
    for name, data in (("notes.txt", b"hello"), ("anim.gif", b"GIF89a...."), ("noext", b"\x00\x01")):
        path = tmp_path / name
        path.write_bytes(data)
        result = cli("verify", path, passphrase=None)
        assert result.exit_code == 1
        assert "unsupported file type" in result.output and "writes .mp4, .png, .wav, .glb and .obj" in result.output
    result = cli("verify", tmp_path / "missing.png", passphrase=None)
    assert result.exit_code == 1 and "no such file" in result.output


def test_expired_certificate(make_subject, cli, tmp_path):
    """A file signed with a certificate that has since expired is reported as expired, not trusted."""
    from cryptography import x509
    from PIL import Image

    from generation.provenance import Exporter

    vault = make_subject("rose")
    ex = Exporter(vault, command="t", kind="image")
    path = tmp_path / "old.png"
    Image.fromarray(ex.mark_image(astronaut(), face_box=FACE)).save(path)
    identity = keys.signing_identity()
    root_cert = x509.load_pem_x509_certificate(identity.root_pem)
    root_key = keys._load_key(keys.provenance_dir() / "root.key", keys.subkey("root-key"))
    now = dt.datetime.now(dt.timezone.utc)
    short_cert, short_key = keys.make_signer(root_cert, root_key, not_before=now - dt.timedelta(minutes=5),
                                             lifetime=dt.timedelta(minutes=5, seconds=3))
    manifest = credentials.manifest(path.name, ex.content_id, "0" * 64, "image", "t")
    credentials.sign_in_place(path, "image/png", manifest, keys.pem(short_cert) + identity.root_pem,
                              keys.key_pem(short_key))
    # c2pa compares whole seconds: wait until the certificate is more than a second past its end
    left = (short_cert.not_valid_after_utc - dt.datetime.now(dt.timezone.utc)).total_seconds()
    time.sleep(max(0.0, left) + 2.2)
    report = verify_file(path)
    assert report.credentials == "expired" and not report.ok
    result = cli("verify", path, passphrase=None)
    assert result.exit_code == 1 and "credentials expired" in result.output


def test_file_from_another_installation_is_untrusted(make_subject, tmp_path, monkeypatch):
    path = export_png(make_subject("rose"), tmp_path / "theirs.png")
    monkeypatch.setenv("MEMORIAL_HOME", str(tmp_path / "other-home"))
    report = verify_file(path)
    assert report.credentials == "untrusted"
    assert report.watermark_found and not report.in_export_log and not report.ok
    assert "not in this installation's export log" in report.line()


def test_tampered_export_log_fails_verification(make_subject, tmp_path, memorial_home):
    path = export_png(make_subject("rose"), tmp_path / "a.png")
    log = memorial_home / "provenance" / "exports.log"
    log.write_bytes(log.read_bytes().replace(b"A", b"B", 1))
    report = verify_file(path)
    assert not report.ok and report.export_log_problem
    assert "export log damaged" in report.line()


def test_demo_checks_show_good_files_and_catch_altered_copies(make_subject, tmp_path):
    from generation.provenance.demo_checks import check_outputs

    vault = make_subject("rose")
    png = export_png(vault, tmp_path / "still.png")
    wav = export_wav(vault, tmp_path / "voice.wav")
    lines = []
    reports = check_outputs([png, wav], tmp_path, lines.append)
    assert [r.ok for r in reports] == [True, True, False, False]
    assert reports[2].credentials == "tampered" and reports[2].watermark_found
    assert reports[3].credentials == "absent" and reports[3].watermark_found and reports[3].in_export_log
    assert len(lines) == 4 and lines[0].startswith("  verify still.png: OK")


@pytest.mark.parametrize("codec,fmt,suffix", [("libmp3lame", "mp3", ".mp3"), ("aac", "ipod", ".m4a")])
def test_wav_reencoded_to_128k_keeps_the_watermark(make_subject, tmp_path, codec, fmt, suffix):
    import soundfile as sf

    path = export_wav(make_subject("rose"), tmp_path / "voice.wav")
    original = verify_file(path)
    x, rate = sf.read(path, dtype="float32")
    copy = write_audio(tmp_path / f"copy{suffix}", x, rate, codec, fmt)
    report = verify_file(copy)
    assert report.credentials == "absent" and not report.ok
    assert report.watermark_id == original.watermark_id and report.watermark_sources == ["audio"]
    assert report.in_export_log  # the log completes the audio's 64-bit short id to the full content id
