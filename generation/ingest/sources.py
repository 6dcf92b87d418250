"""Turn the PATH arguments of `memorial ingest` into a flat list of media items.

Folders are walked recursively; zip archives are read member by member in memory
(never extracted to disk), with the checks a hostile archive needs: no `..` or
absolute member names, no symlinks, and size/ratio limits against zip bombs.
"""

from __future__ import annotations

import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Callable, Iterator

IMAGE_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".webp": "image/webp",
               ".bmp": "image/bmp", ".tif": "image/tiff", ".tiff": "image/tiff"}
VIDEO_TYPES = {".mp4": "video/mp4", ".mov": "video/quicktime", ".mkv": "video/x-matroska",
               ".avi": "video/x-msvideo", ".webm": "video/webm"}
MEDIA_TYPES = {**IMAGE_TYPES, **VIDEO_TYPES}

MAX_FILE_BYTES = 2 * 1024**3  # one photo or video read into memory
MAX_ZIP_MEMBER_BYTES = 512 * 1024**2
MAX_ZIP_TOTAL_BYTES = 4 * 1024**3
MAX_ZIP_RATIO = 200  # uncompressed / compressed; real photos and videos barely compress


@dataclass
class Item:
    """One media file to ingest; `error` set means it is skipped with that reason."""

    name: str  # what the user sees: the path, or archive.zip:member
    media_type: str | None = None
    read: Callable[[], bytes] | None = None
    error: str | None = None

    @property
    def filename(self) -> str:
        return PurePosixPath(self.name.replace("\\", "/").rsplit(":", 1)[-1]).name

    @property
    def is_video(self) -> bool:
        return bool(self.media_type and self.media_type.startswith("video/"))


def _file_reader(path: Path) -> Callable[[], bytes]:
    def read() -> bytes:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ValueError(f"file is larger than {MAX_FILE_BYTES // 1024**3} GB")
        return path.read_bytes()

    return read


def _type_of(name: str) -> str | None:
    return MEDIA_TYPES.get(PurePosixPath(name.lower()).suffix)


def expand(paths: list[Path]) -> Iterator[Item]:
    """Items for every argument, in a stable order; problems become items with an error."""
    for path in paths:
        path = Path(path)
        if path.is_symlink() and not path.exists():
            yield Item(str(path), error="broken symbolic link")
        elif path.is_dir():
            for child in sorted(p for p in path.rglob("*") if p.is_file()):
                yield from _file_items(child)
        elif path.is_file():
            yield from _file_items(path)
        elif not path.exists():
            yield Item(str(path), error="no such file or folder")
        else:
            yield Item(str(path), error="not a regular file")


def _file_items(path: Path) -> Iterator[Item]:
    if path.suffix.lower() == ".zip":
        yield from zip_items(path)
        return
    media_type = _type_of(path.name)
    if media_type is None:
        yield Item(str(path), error=f"unsupported file type '{path.suffix or path.name}'")
    else:
        yield Item(str(path), media_type, _file_reader(path))


def _member_problem(info: zipfile.ZipInfo) -> str | None:
    name = info.filename
    parts = PurePosixPath(name.replace("\\", "/")).parts
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        return "absolute path in archive"
    if ".." in parts:
        return "path escapes the archive ('..')"
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        return "symbolic link in archive"
    if info.flag_bits & 0x1:
        return "encrypted archive member"
    if info.file_size > MAX_ZIP_MEMBER_BYTES:
        return f"member larger than {MAX_ZIP_MEMBER_BYTES // 1024**2} MB"
    if info.compress_size and info.file_size / info.compress_size > MAX_ZIP_RATIO and info.file_size > 1024**2:
        return f"compression ratio {info.file_size // info.compress_size}:1 looks like a zip bomb"
    return None


def _bounded_reader(archive_path: Path, info: zipfile.ZipInfo) -> Callable[[], bytes]:
    """Read one member, never more than its declared size (a lying header cannot bomb us)."""

    def read() -> bytes:
        with zipfile.ZipFile(archive_path) as zf, zf.open(info) as fh:
            data = fh.read(info.file_size + 1)
        if len(data) > info.file_size:
            raise ValueError("archive member is larger than its header says (zip bomb?)")
        return data

    return read


def zip_items(path: Path) -> Iterator[Item]:
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        yield Item(str(path), error=f"not a readable zip archive ({exc})")
        return
    total = 0
    for info in infos:
        if info.is_dir():
            continue
        name = f"{path}:{info.filename}"
        problem = _member_problem(info)
        if problem is None:
            total += info.file_size
            if total > MAX_ZIP_TOTAL_BYTES:
                problem = f"archive holds more than {MAX_ZIP_TOTAL_BYTES // 1024**3} GB"
        media_type = _type_of(info.filename)
        if problem is None and media_type is None:
            problem = f"unsupported file type '{PurePosixPath(info.filename).suffix or info.filename}'"
        if problem:
            yield Item(name, error=problem)
        else:
            yield Item(name, media_type, _bounded_reader(path, info))
