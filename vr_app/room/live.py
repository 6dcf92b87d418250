"""A live room: its authoritative state, the committer that stores ops before they are
acknowledged, its connected members (presence) and the per-tick pose batches.

The server (server.py) owns the sockets; a Room asks it to send, drop a member or store.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

from websockets.asyncio.server import ServerConnection

from assets.errors import MemorialError

from . import protocol as p
from .access import InviteError
from .state import OpRefused, RoomState

if TYPE_CHECKING:
    from .server import RoomServer

log = logging.getLogger("memorial.room")

CLOSE_KICKED = 4003
CLOSE_ROOM_CLOSED = 4004


class SlowConsumer(Exception):
    pass


@dataclass(eq=False)
class Conn:
    ws: ServerConnection
    member: str
    role: str
    device: str
    slot: int
    queue: asyncio.Queue
    lease_until: float
    pose_entry: bytes = b""  # the newest pose as a batch entry (protocol.pose_entry)
    pose_fresh: bool = False
    tokens: float = 0.0
    token_time: float = 0.0
    window_start: float = 0.0
    window_frames: int = 0
    strikes: int = 0
    closed: bool = False
    close_reason: tuple[int, str] = (1000, "bye")

    def send(self, frame: str | bytes) -> None:
        if self.closed:
            return
        try:
            self.queue.put_nowait(frame)
        except asyncio.QueueFull:
            raise SlowConsumer(self.member) from None


@dataclass(eq=False)
class Pending:
    record: dict | None  # set for server ops (invite_used); None for a client op in `msg`
    msg: p.Msg | None
    conn: Conn | None
    future: asyncio.Future


class Room:
    """One room's authoritative state, its committer and its connected members."""

    def __init__(self, name: str, state: RoomState, oplog, server: "RoomServer"):
        self.name, self.state, self.log, self.server = name, state, oplog, server
        self.conns: dict[str, Conn] = {}
        self.recent: deque[tuple[int, dict]] = deque(maxlen=server.config.recent_ops)
        self._pending: list[Pending] = []
        self._wake = asyncio.Event()
        self._committer = asyncio.create_task(self._commit_loop(), name=f"room-{name}-committer")
        self.broken: str | None = None
        self.tick_phase = 0  # which slice of the server's tick period this room's batches go out in

    # ----- durable ops ---------------------------------------------------------------------------

    def submit(self, msg: p.Msg | None, conn: Conn | None, record: dict | None = None) -> asyncio.Future:
        if self.broken:
            raise MemorialError(f"room '{self.name}' stopped: {self.broken}")
        fut = asyncio.get_running_loop().create_future()
        self._pending.append(Pending(record, msg, conn, fut))
        self._wake.set()
        return fut

    def _check(self, item: Pending, now: float) -> dict:
        if item.record is None:
            return self.state.check(item.msg, item.conn.member, item.conn.role, now)
        if item.record["type"] == "invite_used" and item.record["nonce"] in self.state.used_invites:
            raise InviteError("invite was already used")
        return item.record

    async def _commit_loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            limit = self.server.config.commit_batch
            batch, self._pending = self._pending[:limit], self._pending[limit:]
            if self._pending:
                self._wake.set()
            done: list[tuple[Pending, int, dict]] = []
            now = time.time()
            for item in batch:
                try:
                    record = self._check(item, now)
                except (OpRefused, InviteError) as exc:
                    item.future.set_exception(exc)
                    continue
                seq = self.state.seq + 1
                self.state.apply(seq, record)  # visible to the next check in this batch; nobody sees it before fsync
                done.append((item, seq, record))
            if not done:
                continue
            try:
                await self.server.log_io(self.log.append, [(seq, rec) for _, seq, rec in done])
                await self.server.log_io(self.log.maybe_snapshot, self.state)
            except Exception as exc:  # the disk (or Redis) failed: never ack, stop the room
                self.broken = f"could not store ops: {exc}"
                log.error("room %s: %s", self.name, self.broken)
                for item, _, _ in done:
                    item.future.set_exception(MemorialError(self.broken))
                self.server.drop_room(self)
                return
            for item, seq, record in done:
                self.recent.append((seq, record))
                item.future.set_result(seq)
                if record["type"] != "invite_used":
                    self.broadcast(p.encode({"type": "op", "seq": seq, "op": record}))
                self._after(record)

    def _after(self, record: dict) -> None:
        """Connection side effects of ops that change who may stay."""
        kind = record["type"]
        if kind == "kick" and record["member"] in self.conns:
            self.server.close_conn(self, self.conns[record["member"]], CLOSE_KICKED, "kicked by an owner")
        elif kind in ("close", "end"):
            for conn in list(self.conns.values()):
                if conn.role != "owner":
                    self.server.close_conn(self, conn, CLOSE_ROOM_CLOSED, "the room was closed")
        elif kind == "mute":
            self.broadcast_presence()

    def ops_since(self, since: int) -> list[dict] | None:
        """The ops after `since` if they are all still in memory, else None (send a snapshot)."""
        if since == self.state.seq:
            return []
        if not self.recent or since < self.recent[0][0] - 1 or since > self.state.seq:
            return None
        return [{"seq": seq, "op": rec} for seq, rec in self.recent if seq > since and rec["type"] != "invite_used"]

    # ----- presence and fan-out ------------------------------------------------------------------

    def free_slot(self) -> int:
        used = {c.slot for c in self.conns.values()}
        return next(i for i in range(len(used) + 1) if i not in used)

    def presence(self) -> list[dict]:
        return [{"member": c.member, "role": c.role, "device": c.device, "slot": c.slot,
                 "muted": c.member in self.state.muted or c.role == "viewer"} for c in self.conns.values()]

    def broadcast(self, frame: str | bytes) -> None:
        for conn in list(self.conns.values()):
            self.server.send(self, conn, frame)

    def broadcast_presence(self) -> None:
        members = self.presence()
        self.broadcast(p.encode({"type": "presence", "members": members}))
        asyncio.get_running_loop().run_in_executor(self.server._log_pool, self.log.publish_presence, members)

    def tick(self, now: float) -> None:
        """One batch per tick with every member's newest pose since the last one, encoded once; the
        same bytes go to every member (each skips its own slot)."""
        fresh = [c for c in self.conns.values() if c.pose_fresh]
        if not fresh:
            return
        for c in fresh:
            c.pose_fresh = False
        receivers = [c for c in self.conns.values() if len(fresh) > 1 or c is not fresh[0]]
        if receivers:
            self.server.send_poses(self, receivers, p.encode_batch(now, [c.pose_entry for c in fresh]))
