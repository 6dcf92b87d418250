"""Turn the PATH arguments of `memorial ingest` into a flat list of media items.

Folders are walked recursively; zip and tar archives (also inside each other, up to
MAX_DEPTH levels) are read member by member in memory, never extracted to disk, with the
checks a hostile archive needs: no `..` or absolute member names, no links or devices,
and size/ratio limits against zip bombs, shared across nested archives.
"""

from __future__ import annotations

import io
import stat
import tarfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Callable, Iterator

IMAGE_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".webp": "image/webp",
               ".bmp": "image/bmp", ".tif": "image/tiff", ".tiff": "image/tiff",
               ".heic": "image/heic", ".heif": "image/heif"}
VIDEO_TYPES = {".mp4": "video/mp4", ".mov": "video/quicktime", ".mkv": "video/x-matroska",
               ".avi": "video/x-msvideo", ".webm": "video/webm", ".m4v": "video/mp4"}
MEDIA_TYPES = {**IMAGE_TYPES, **VIDEO_TYPES}
ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz")

MAX_FILE_BYTES = 2 * 1024**3  # one photo, or one video inside an archive, read into memory
MAX_ZIP_MEMBER_BYTES = 512 * 1024**2
MAX_ZIP_TOTAL_BYTES = 4 * 1024**3  # all members of an archive and the archives inside it
MAX_ZIP_RATIO = 200  # uncompressed / compressed; real photos and videos barely compress
MAX_DEPTH = 3  # archives inside archives


@dataclass
class Item:
    """One media file to ingest; `error` set means it is skipped with that reason.

    `open` gives a seekable binary stream: the file itself for files on disk (so videos
    are decoded and hashed without reading them whole), the member's bytes for archives."""

    name: str  # what the user sees: the path, or archive.zip:member
    media_type: str | None = None
    read: Callable[[], bytes] | None = None
    error: str | None = None
    open: Callable[[], BinaryIO] | None = field(default=None, repr=False)
    live_photo: bool = False  # the motion part of an iPhone live photo (a still of the same name exists)

    def __post_init__(self):
        if self.open is None and self.read is not None:
            read = self.read
            self.open = lambda: io.BytesIO(read())

    @property
    def filename(self) -> str:
        return PurePosixPath(self.name.replace("\\", "/").rsplit(":", 1)[-1]).name

    @property
    def is_video(self) -> bool:
        return bool(self.media_type and self.media_type.startswith("video/"))


def _file_item(path: Path, media_type: str) -> Item:
    def check() -> None:
        if path.stat().st_size > MAX_FILE_BYTES and not media_type.startswith("video/"):
            raise ValueError(f"file is larger than {MAX_FILE_BYTES // 1024**3} GB")

    def read() -> bytes:
        check()
        return path.read_bytes()

    def open_() -> BinaryIO:
        check()
        return open(path, "rb")

    return Item(str(path), media_type, read, open=open_)


def _type_of(name: str) -> str | None:
    return MEDIA_TYPES.get(PurePosixPath(name.lower()).suffix)


def _is_archive(name: str) -> bool:
    return name.lower().endswith(ARCHIVE_SUFFIXES)


def expand(paths: list[Path]) -> list[Item]:
    """Items for every argument, in a stable order; problems become items with an error.
    A short video beside a photo of the same name (IMG_0001.HEIC + IMG_0001.MOV) is marked
    as a live photo's motion."""
    items = list(_expand(paths))
    stills = {_stem(i.name) for i in items if i.media_type and not i.is_video}
    for i in items:
        i.live_photo = i.is_video and _stem(i.name) in stills
    return items


def _stem(name: str) -> str:
    return name.rsplit(".", 1)[0].lower()


def _expand(paths: list[Path]) -> Iterator[Item]:
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
    if _is_archive(path.name):
        yield from archive_items(str(path), lambda: open(path, "rb"), _Budget(), 1)
        return
    media_type = _type_of(path.name)
    if media_type is None:
        yield Item(str(path), error=f"unsupported file type '{path.suffix or path.name}'")
    else:
        yield _file_item(path, media_type)


@dataclass
class _Budget:
    """Bytes promised by all members of one top-level archive, nested ones included."""

    total: int = 0

    def take(self, n: int) -> str | None:
        self.total += n
        if self.total > MAX_ZIP_TOTAL_BYTES:
            return f"archive holds more than {MAX_ZIP_TOTAL_BYTES // 1024**3} GB"
        return None


@dataclass
class _Member:
    name: str
    size: int
    compressed: int  # 0 when unknown (tar)
    problem: str | None


def _name_problem(name: str) -> str | None:
    parts = PurePosixPath(name.replace("\\", "/")).parts
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        return "absolute path in archive"
    if ".." in parts:
        return "path escapes the archive ('..')"
    return None


def _size_problem(size: int, compressed: int) -> str | None:
    if size > MAX_ZIP_MEMBER_BYTES:
        return f"member larger than {MAX_ZIP_MEMBER_BYTES // 1024**2} MB"
    if compressed and size / compressed > MAX_ZIP_RATIO and size > 1024**2:
        return f"compression ratio {size // compressed}:1 looks like a zip bomb"
    return None


def _zip_members(zf: zipfile.ZipFile) -> Iterator[tuple[_Member, Callable[[], bytes]]]:
    for info in zf.infolist():
        if info.is_dir():
            continue
        problem = _name_problem(info.filename)
        if problem is None and stat.S_ISLNK(info.external_attr >> 16):
            problem = "symbolic link in archive"
        if problem is None and info.flag_bits & 0x1:
            problem = "encrypted archive member"
        problem = problem or _size_problem(info.file_size, info.compress_size)

        def read(info=info) -> bytes:
            with zf.open(info) as fh:
                data = fh.read(info.file_size + 1)
            if len(data) > info.file_size:
                raise ValueError("archive member is larger than its header says (zip bomb?)")
            return data

        yield _Member(info.filename, info.file_size, info.compress_size, problem), read


def _tar_members(tf: tarfile.TarFile, packed_size: int) -> Iterator[tuple[_Member, Callable[[], bytes]]]:
    for info in tf.getmembers():
        if info.isdir():
            continue
        problem = _name_problem(info.name)
        if problem is None and (info.issym() or info.islnk()):
            problem = "link in archive"
        if problem is None and not info.isfile():
            problem = "device or special file in archive"
        problem = problem or _size_problem(info.size, 0)

        def read(info=info) -> bytes:
            fh = tf.extractfile(info)
            data = fh.read(info.size + 1) if fh is not None else b""
            if len(data) != info.size:
                raise ValueError("archive member does not match its header")
            return data

        yield _Member(info.name, info.size, 0, problem), read
    total = sum(m.size for m in tf.getmembers() if m.isfile())
    if packed_size and total / packed_size > MAX_ZIP_RATIO and total > 1024**2:
        raise tarfile.TarError(f"compression ratio {total // packed_size}:1 looks like a tar bomb")


def archive_items(label: str, opener: Callable[[], BinaryIO], budget: _Budget, depth: int) -> Iterator[Item]:
    """Items of one archive. Members are read through a reader that re-opens the archive,
    so nothing stays in memory between items; a nested archive is read into memory
    (at most MAX_ZIP_MEMBER_BYTES) while its own members are listed and read."""
    try:
        members = list(_list_members(label, opener))
    except (zipfile.BadZipFile, tarfile.TarError, OSError, EOFError) as exc:
        kind = "zip" if label.lower().endswith(".zip") else "tar"
        yield Item(label, error=f"not a readable {kind} archive ({exc})")
        return
    for member, index in members:
        name = f"{label}:{member.name}"
        problem = member.problem or budget.take(member.size)
        inner = _is_archive(member.name)
        media_type = None if inner else _type_of(member.name)
        if problem is None and inner and depth >= MAX_DEPTH:
            problem = f"archives nested more than {MAX_DEPTH} deep"
        if problem is None and not inner and media_type is None:
            problem = f"unsupported file type '{PurePosixPath(member.name).suffix or member.name}'"
        if problem:
            yield Item(name, error=problem)
            continue
        reader = _member_reader(label, opener, index)
        if inner:
            try:
                data = reader()
            except (ValueError, OSError, zipfile.BadZipFile, tarfile.TarError, EOFError) as exc:
                yield Item(name, error=f"cannot read: {exc}")
                continue
            yield from archive_items(name, lambda data=data: io.BytesIO(data), budget, depth + 1)
        else:
            yield Item(name, media_type, reader)


def _list_members(label: str, opener: Callable[[], BinaryIO]):
    with opener() as fh:
        if label.lower().endswith(".zip"):
            with zipfile.ZipFile(fh) as zf:
                return [(m, i) for i, (m, _) in enumerate(_zip_members(zf))]
        packed = fh.seek(0, io.SEEK_END)
        fh.seek(0)
        with tarfile.open(fileobj=fh, mode="r:*") as tf:
            return [(m, i) for i, (m, _) in enumerate(_tar_members(tf, packed))]


def _member_reader(label: str, opener: Callable[[], BinaryIO], index: int) -> Callable[[], bytes]:
    def read() -> bytes:
        with opener() as fh:
            if label.lower().endswith(".zip"):
                with zipfile.ZipFile(fh) as zf:
                    for i, (_, member_read) in enumerate(_zip_members(zf)):
                        if i == index:
                            return member_read()
            else:
                with tarfile.open(fileobj=fh, mode="r:*") as tf:
                    for i, (_, member_read) in enumerate(_tar_members(tf, 0)):
                        if i == index:
                            return member_read()
        raise ValueError("archive member vanished (archive changed during ingest?)")

    return read


def zip_items(path: Path) -> Iterator[Item]:
    """Items of one zip or tar archive on disk."""
    return archive_items(str(path), lambda: open(path, "rb"), _Budget(), 1)
