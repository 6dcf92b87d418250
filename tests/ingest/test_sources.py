"""Expanding PATH arguments: folders, unsupported types and hostile zip archives."""

from __future__ import annotations

import zipfile

from generation.ingest.sources import expand


def test_folders_are_walked_and_types_checked(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "x.JPG").write_bytes(b"1")
    (tmp_path / "a" / "clip.mov").write_bytes(b"2")
    (tmp_path / "a" / "notes.txt").write_text("3")
    items = {i.name.split("/a/")[-1]: i for i in expand([tmp_path / "a", tmp_path / "missing.png"])}
    assert items["b/x.JPG"].media_type == "image/jpeg" and items["b/x.JPG"].read() == b"1"
    assert items["clip.mov"].is_video
    assert items["notes.txt"].error == "unsupported file type '.txt'"
    assert items[str(tmp_path / "missing.png")].error == "no such file or folder"


def test_zip_members_are_checked(tmp_path):
    path = tmp_path / "x.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("ok/one.png", b"png")
        zf.writestr("..\\evil.png", b"png")
        zf.writestr("C:/evil.png", b"png")
        zf.writestr("inner.zip", b"PK")
    items = {i.name.split(":", 1)[1]: i for i in expand([path])}
    assert items["ok/one.png"].read() == b"png"
    assert items["..\\evil.png"].error == "path escapes the archive ('..')"
    assert items["C:/evil.png"].error == "absolute path in archive"
    assert items["inner.zip"].error == "unsupported file type '.zip'"


def test_not_a_zip(tmp_path):
    (tmp_path / "fake.zip").write_text("hello")
    (item,) = expand([tmp_path / "fake.zip"])
    assert item.error.startswith("not a readable zip archive")
