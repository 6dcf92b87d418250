"""Expanding PATH arguments: folders, unsupported types and hostile zip archives."""

from __future__ import annotations

import io
import tarfile
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
    assert items["inner.zip"].error.startswith("not a readable zip archive")  # nested archives are opened


def test_not_a_zip(tmp_path):
    (tmp_path / "fake.zip").write_text("hello")
    (item,) = expand([tmp_path / "fake.zip"])
    assert item.error.startswith("not a readable zip archive")


def _zip_bytes(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _tar(path, members: dict[str, bytes], mode: str = "w:gz", links: dict[str, str] = {}) -> None:
    with tarfile.open(path, mode) as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
        for name, target in links.items():
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            tf.addfile(info)


def test_nested_archives_are_read_with_the_same_checks(tmp_path):
    inner_tar = tmp_path / "inner.tar.gz"
    _tar(inner_tar, {"deep/photo.heic": b"heic", "../up.jpg": b"x"}, links={"deep/link.jpg": "/etc/passwd"})
    inner_zip = _zip_bytes({"b/two.jpg": b"two", "inner.tar.gz": inner_tar.read_bytes()})
    outer = tmp_path / "outer.zip"
    outer.write_bytes(_zip_bytes({"a/one.png": b"one", "albums/inner.zip": inner_zip}))
    items = {i.name.split("outer.zip:", 1)[1]: i for i in expand([outer])}
    assert items["a/one.png"].read() == b"one"
    assert items["albums/inner.zip:b/two.jpg"].read() == b"two"
    heic = items["albums/inner.zip:inner.tar.gz:deep/photo.heic"]
    assert heic.media_type == "image/heic" and heic.read() == b"heic" and heic.open().read() == b"heic"
    assert items["albums/inner.zip:inner.tar.gz:../up.jpg"].error == "path escapes the archive ('..')"
    assert items["albums/inner.zip:inner.tar.gz:deep/link.jpg"].error == "link in archive"


def test_archives_nested_too_deep_are_refused(tmp_path):
    data = _zip_bytes({"x.jpg": b"x"})
    for level in range(4):
        data = _zip_bytes({f"level{level}.zip": data})
    path = tmp_path / "deep.zip"
    path.write_bytes(data)
    (item,) = expand([path])
    assert "nested more than 3 deep" in item.error


def test_tar_bomb_ratio_is_refused(tmp_path):
    path = tmp_path / "bomb.tar.gz"
    _tar(path, {"big.png": b"\0" * (8 * 1024 * 1024)})
    (item,) = expand([path])
    assert "tar bomb" in item.error


def test_not_a_tar(tmp_path):
    (tmp_path / "fake.tar").write_text("hello")
    (item,) = expand([tmp_path / "fake.tar"])
    assert item.error.startswith("not a readable tar archive")
