"""Crash-safe file writes and the inter-process vault lock."""

from __future__ import annotations

import errno
import fcntl
import os
import time
from contextlib import contextmanager
from pathlib import Path

from assets.errors import VaultBusy

TMP_SUFFIX = ".tmp"


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes) -> None:
    """Write to a temp file in the same folder, fsync, rename over, fsync the folder.

    A reader sees either the old file or the new one, never a torn one, even after kill -9.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}{TMP_SUFFIX}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    fsync_dir(path.parent)


def append_line(path: Path, line: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.write(fd, line + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_stale_temp_files(folder: Path) -> int:
    """Leftovers of writers killed mid-write; only safe while holding the vault lock."""
    removed = 0
    for tmp in folder.glob(f".*{TMP_SUFFIX}"):
        tmp.unlink(missing_ok=True)
        removed += 1
    return removed


@contextmanager
def vault_lock(folder: Path, timeout: float = 30.0):
    """Exclusive advisory lock on `folder/.lock`; the kernel drops it if the holder dies."""
    lock_path = folder / ".lock"
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                if time.monotonic() > deadline:
                    raise VaultBusy(f"vault {folder.name} is busy: another memorial process holds its lock") from None
                time.sleep(0.02)
        yield
    finally:
        os.close(fd)  # closing releases the flock
