"""The room's durable op log, encrypted like the vault: AES-GCM lines, fsync'd before any ack.

On disk (`$MEMORIAL_HOME/rooms/SUBJECT/ROOM/`)::

    ops.log        one line per op: "SEQ base64(nonce | AES-GCM(JSON {seq, op}))", aad = room | seq
    snapshot.bin   AES-GCM(JSON RoomState) at some seq; ops at or below it are dropped from ops.log
    .lock          flock held by the one process serving the room

A kill -9 can leave a torn last line only (never acknowledged: the ack waits for fsync);
loading cuts it off. A complete line that fails authentication is tampering.
"""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path

from assets.errors import MemorialError, TamperError
from generation.paths import memorial_home
from generation.vault import crypto
from generation.vault.files import atomic_write, fsync_dir

from .state import RoomState

SNAPSHOT_EVERY = 1000  # ops between snapshots (a snapshot also compacts ops.log)


class RoomBusy(MemorialError):
    """Another process already serves this room; `url` says where, when known."""

    exit_code = 8

    def __init__(self, message: str, url: str = ""):
        super().__init__(message)
        self.url = url


def rooms_dir(subject: str) -> Path:
    path = memorial_home() / "rooms" / subject
    path.mkdir(parents=True, mode=0o700, exist_ok=True)
    return path


def op_aad(subject: str, room: str, seq: int) -> bytes:
    return f"room-op|{subject}|{room}|{seq}".encode()


def snapshot_aad(subject: str, room: str) -> bytes:
    return f"room-snapshot|{subject}|{room}".encode()


def seal_op(key: bytes, subject: str, room: str, seq: int, record: dict) -> bytes:
    body = json.dumps({"seq": seq, "op": record}, separators=(",", ":")).encode()
    return f"{seq} {crypto.b64e(crypto.seal(key, body, op_aad(subject, room, seq)))}".encode("ascii")


def line_seq(line: bytes) -> int:
    """The plaintext op number in front of a line (authenticated by the aad when opened)."""
    try:
        return int(line.split(b" ", 1)[0])
    except ValueError:
        raise TamperError("room op log has a line without an op number: tampered or corrupted") from None


def open_op(key: bytes, subject: str, room: str, seq: int, line: bytes) -> dict:
    try:
        sealed = crypto.b64d(line.split(b" ", 1)[1].decode("ascii"))
        entry = json.loads(crypto.open_sealed(key, sealed, op_aad(subject, room, seq)))
    except (crypto.InvalidTag, ValueError, UnicodeDecodeError, IndexError):
        raise TamperError(f"room '{room}' op {seq} failed authentication: tampered or corrupted") from None
    if entry.get("seq") != seq:
        raise TamperError(f"room '{room}' op {seq} is out of order: tampered")
    return entry["op"]


def seal_snapshot(key: bytes, subject: str, state: RoomState) -> bytes:
    return crypto.seal(key, json.dumps(state.to_json()).encode(), snapshot_aad(subject, state.room))


def open_snapshot(key: bytes, subject: str, room: str, data: bytes) -> RoomState:
    try:
        return RoomState.from_json(json.loads(crypto.open_sealed(key, data, snapshot_aad(subject, room))))
    except (crypto.InvalidTag, ValueError, KeyError):
        raise TamperError(f"room '{room}' snapshot failed authentication: tampered or corrupted") from None


class FileOpLog:
    """One room's log on local disk. Not thread-safe: one committer calls `append`."""

    def __init__(self, subject: str, room: str, key: bytes, folder: Path | None = None):
        self.subject, self.room, self._key = subject, room, key
        self.folder = folder or rooms_dir(subject) / room
        self.folder.mkdir(parents=True, mode=0o700, exist_ok=True)
        self._lock_fd: int | None = None
        self._fd: int | None = None
        self._since_snapshot = 0

    def acquire(self) -> None:
        """Exclusive flock for this process's lifetime (the kernel drops it when we die)."""
        fd = os.open(self.folder / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise RoomBusy(f"room '{self.room}' of '{self.subject}' is already served by another process") from None
        self._lock_fd = fd

    def load(self) -> RoomState:
        """Snapshot plus every complete op after it; a torn tail is cut off."""
        snap = self.folder / "snapshot.bin"
        state = open_snapshot(self._key, self.subject, self.room, snap.read_bytes()) if snap.exists() \
            else RoomState(room=self.room)
        path = self.folder / "ops.log"
        if path.exists():
            data = path.read_bytes()
            *lines, torn = data.split(b"\n")
            if torn:
                with open(path, "r+b") as fh:
                    fh.truncate(len(data) - len(torn))
            for line in lines:
                if line_seq(line) <= state.seq:
                    continue  # already in the snapshot (killed between snapshot and compaction)
                seq = state.seq + 1
                state.apply(seq, open_op(self._key, self.subject, self.room, seq, line))
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        fsync_dir(self.folder)
        return state

    def append(self, entries: list[tuple[int, dict]]) -> None:
        """Write and fsync a batch of numbered ops (group commit: one fsync per batch)."""
        data = b"".join(seal_op(self._key, self.subject, self.room, seq, rec) + b"\n" for seq, rec in entries)
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view):]
        os.fsync(self._fd)
        self._since_snapshot += len(entries)

    def maybe_snapshot(self, state: RoomState) -> None:
        """Every SNAPSHOT_EVERY ops: write the state, then start an empty log (both atomic)."""
        if self._since_snapshot < SNAPSHOT_EVERY:
            return
        atomic_write(self.folder / "snapshot.bin", seal_snapshot(self._key, self.subject, state))
        atomic_write(self.folder / "ops.log", b"")
        os.close(self._fd)
        self._fd = os.open(self.folder / "ops.log", os.O_WRONLY | os.O_APPEND, 0o600)
        self._since_snapshot = 0

    def renew(self) -> bool:
        return True  # the flock lasts as long as the process

    def publish_presence(self, members: list[dict]) -> None:
        pass  # one process: presence lives in the server only

    def close(self) -> None:
        for fd in (self._fd, self._lock_fd):
            if fd is not None:
                os.close(fd)
        self._fd = self._lock_fd = None
