"""A headless room client: the library the Panda3D client, the tests and the bench share.

It mirrors the room with the same `RoomState.apply` the server uses (snapshot, then each
numbered op), keeps presence as the server sends it, and buffers remote poses so they
can be drawn ~100 ms in the past, interpolated between the two samples around that time.
"""

from __future__ import annotations

import asyncio
import json
import math
import ssl as ssl_module
import time
from collections import deque
from dataclasses import dataclass, field

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from assets.errors import MemorialError

from . import protocol as p
from .state import RoomState

INTERP_DELAY = 0.100  # seconds behind the newest server time that remote poses are drawn
HEARTBEAT_S = 1.0


def _decode_jpeg(data: bytes):
    import io

    import numpy as np
    from PIL import Image

    with Image.open(io.BytesIO(data)) as img:
        return np.asarray(img.convert("RGB"), dtype=np.uint8).copy()


class RoomError(MemorialError):
    """The server refused a join or an op; `code` is its typed error code."""

    def __init__(self, code: str, message: str, url: str = ""):
        super().__init__(f"{message} ({code})")
        self.code = code
        self.url = url  # RoomBusy: the process that serves the room


def _lerp(a: float, b: float, t: float) -> float:
    return a + (b - a) * t


def interpolate_pose(a: tuple[float, ...], b: tuple[float, ...], t: float) -> tuple[float, ...]:
    """Positions linearly, each quaternion by normalised lerp along the shorter arc. [21] -> [21]"""
    out: list[float] = []
    for part in range(3):
        base = part * 7
        out.extend(_lerp(a[base + i], b[base + i], t) for i in range(3))
        qa, qb = a[base + 3:base + 7], b[base + 3:base + 7]
        sign = -1.0 if sum(x * y for x, y in zip(qa, qb)) < 0 else 1.0
        q = [_lerp(x, sign * y, t) for x, y in zip(qa, qb)]
        norm = math.sqrt(sum(x * x for x in q)) or 1.0
        out.extend(x / norm for x in q)
    return tuple(out)


@dataclass
class PoseBuffer:
    """One remote member's recent poses on the server clock, newest last."""

    samples: deque = field(default_factory=lambda: deque(maxlen=32))

    def add(self, server_time: float, pose: tuple[float, ...]) -> None:
        if self.samples and server_time <= self.samples[-1][0]:
            return  # older or same tick: newest wins
        self.samples.append((server_time, pose))

    def sample(self, at: float) -> tuple[float, ...] | None:
        """The pose at server time `at`: interpolated between neighbours, held at the ends."""
        if not self.samples:
            return None
        if at <= self.samples[0][0]:
            return self.samples[0][1]
        for (t0, p0), (t1, p1) in zip(self.samples, list(self.samples)[1:]):
            if t0 <= at <= t1:
                return interpolate_pose(p0, p1, (at - t0) / (t1 - t0))
        return self.samples[-1][1]


class RoomClient:
    """Connect with `await RoomClient.connect(...)`; then `op`, `send_pose`, `wait_until`, `close`."""

    def __init__(self, ws: ClientConnection, member: str):
        self.ws = ws
        self.member = member
        self.role = ""
        self.slot = -1
        self.state = RoomState()
        self.presence: dict[str, dict] = {}
        self.poses: dict[int, PoseBuffer] = {}
        self.errors: list[dict] = []
        self.closed: tuple[int, str] | None = None
        self.clock_offset = 0.0  # server time - local time, from the freshest frame seen
        self.latencies: list[float] = []  # seconds from a remote member's send to our receipt
        self.bytes_up = 0
        self.track_poses = True
        self.on_rtc = None  # voice signalling handler (vr_app/room/voice.py)
        self.likeness = None  # (title, head bytes, texture [H,W,3]) once asked for; memory only
        self.tracks: dict[str, bytes] = {}  # line name -> ExpressionTrack bytes, asked for when a line is scheduled
        self.photos: dict[str, object] = {}  # vault key -> RGB uint8 [h,w,3], for photos placed in the room
        self.photo_keys: list[str] | None = None  # the vault's photos this member may place, once listed
        self._acks: dict[int, asyncio.Future] = {}
        self._rid = 0
        self._pose_seq = 0
        self._changed = asyncio.Event()
        self._tasks: list[asyncio.Task] = []

    @classmethod
    async def connect(cls, url: str, member: str, *, room: str = "main", invite: str | None = None,
                      passphrase: str | None = None, device: str = "desktop", since: int = -1,
                      state: RoomState | None = None, ssl=None, heartbeat: bool = True,
                      track_poses: bool = True) -> "RoomClient":
        try:
            ws = await connect(url, compression=None, max_size=2**24, ping_interval=None, ssl=ssl, open_timeout=10)
        except ssl_module.SSLError as exc:
            raise RoomError("tls", f"the room server at {url} failed the TLS check: {exc.reason or exc}") from None
        except (OSError, InvalidHandshake, ConnectionClosed, TimeoutError) as exc:
            raise RoomError("unreachable", f"cannot reach the room server at {url}: {exc}") from None
        client = cls(ws, member)
        client.track_poses = track_poses  # False: only measure pose latency (bench), keep no buffers
        join = {"type": "join", "room": room, "member": member, "device": device, "since": since}
        if invite:
            join["invite"] = invite
        if passphrase:
            join["passphrase"] = passphrase
        await client._send(json.dumps(join))
        try:
            first = json.loads(await asyncio.wait_for(ws.recv(), 30))
        except ConnectionClosed:
            raise RoomError("closed", f"server closed the connection: {ws.close_reason or 'no reason'}") from None
        except asyncio.TimeoutError:
            await ws.close()
            raise RoomError("timeout", "the room server did not answer the join in time") from None
        if first.get("type") == "error":
            await ws.close()
            raise RoomError(first["code"], first["message"], first.get("url", ""))
        client._welcome(first, state)
        client._tasks.append(asyncio.create_task(client._reader()))
        if heartbeat:
            client._tasks.append(asyncio.create_task(client._heartbeat()))
        return client

    def _welcome(self, msg: dict, state: RoomState | None) -> None:
        self.role, self.slot = msg["role"], msg["slot"]
        self.clock_offset = msg["server_time"] - time.time()
        if "snapshot" in msg:
            self.state = RoomState.from_json(msg["snapshot"])
        else:
            self.state = state or RoomState()
            for entry in msg["ops"]:
                self._apply(entry["seq"], entry["op"])
            self.state.seq = msg["seq"]

    def _apply(self, seq: int, record: dict) -> None:
        if seq <= self.state.seq:
            return
        self.state.seq = seq - 1  # server-only ops (invite nonces) leave gaps in what clients see
        self.state.apply(seq, record)

    async def _send(self, frame: str | bytes) -> None:
        self.bytes_up += len(frame) + (6 if len(frame) < 126 else 8)  # payload + masked frame header
        await self.ws.send(frame)

    async def _heartbeat(self) -> None:
        try:
            while True:
                await asyncio.sleep(HEARTBEAT_S)
                await self._send('{"type":"heartbeat"}')
        except ConnectionClosed:
            return

    async def _reader(self) -> None:
        try:
            async for frame in self.ws:
                if isinstance(frame, bytes) and frame[:1] == b"L":
                    self.likeness = p.decode_likeness(frame)
                elif isinstance(frame, bytes) and frame[:1] == b"F":
                    key, jpeg = p.decode_photo(frame)
                    self.photos[key] = _decode_jpeg(jpeg)
                elif isinstance(frame, bytes) and frame[:1] == b"T":
                    name, data = p.decode_track(frame)
                    self.tracks[name] = data
                elif isinstance(frame, bytes):
                    self._on_batch(frame)
                else:
                    self._on_message(json.loads(frame))
                self._changed.set()
        except ConnectionClosed:
            pass
        finally:
            self.closed = (self.ws.close_code or 1006, self.ws.close_reason or "connection lost")
            for fut in self._acks.values():
                if not fut.done():
                    fut.set_exception(RoomError("closed", f"connection closed before the ack: {self.closed[1]}"))
            self._changed.set()

    def _on_batch(self, frame: bytes) -> None:
        now = time.time()
        if not self.track_poses:
            self.latencies.extend(now - sent for sent in p.batch_send_times(frame, self.slot))
            return
        server_time, entries = p.decode_batch(frame)
        self.clock_offset = max(self.clock_offset, server_time - now) if self.latencies else server_time - now
        for slot, _seq, sent, pose in entries:
            if slot == self.slot:
                continue  # the batch is the same for every member: our own pose is in it
            self.latencies.append(now - sent)
            self.poses.setdefault(slot, PoseBuffer()).add(server_time, pose)

    def _on_message(self, msg: dict) -> None:
        kind = msg.get("type")
        if kind == "op":
            self._apply(msg["seq"], msg["op"])
        elif kind == "ack":
            fut = self._acks.pop(msg["rid"], None)
            if fut and not fut.done():
                fut.set_result(msg["seq"])
        elif kind == "error":
            self.errors.append(msg)
            fut = self._acks.pop(msg.get("rid", -1), None)
            if fut and not fut.done():
                fut.set_exception(RoomError(msg["code"], msg["message"]))
        elif kind == "photos":
            self.photo_keys = list(msg["keys"])
        elif kind == "rtc":
            if self.on_rtc is not None:
                self.on_rtc(msg)
        elif kind == "presence":
            self.presence = {m["member"]: m for m in msg["members"]}
            live = {m["slot"] for m in msg["members"]}
            for slot in [s for s in self.poses if s not in live]:
                del self.poses[slot]

    # ----- the API ------------------------------------------------------------------------------

    async def op(self, type: str, **fields) -> int:
        """Send one durable op and wait for its ack; returns the op's number (RoomError if refused)."""
        self._rid += 1
        fut = asyncio.get_running_loop().create_future()
        self._acks[self._rid] = fut
        try:
            await self._send(json.dumps({"type": type, "rid": self._rid, **fields}))
        except ConnectionClosed:
            self._acks.pop(self._rid, None)
            fut.cancel()
            raise RoomError("closed", "connection closed before the op was sent") from None
        return await fut

    async def fetch_likeness(self, timeout: float = 30.0):
        """Ask the server for the likeness and wait for it: (title, head bytes, texture [H,W,3])."""
        await self._send('{"type":"likeness"}')
        await self.wait_until(lambda c: c.likeness is not None or any(e["code"] == "no_likeness" for e in c.errors),
                              timeout)
        if self.likeness is None:
            raise RoomError("no_likeness", next(e["message"] for e in self.errors if e["code"] == "no_likeness"))
        return self.likeness

    async def request_photo(self, key: str) -> None:
        await self._send(json.dumps({"type": "photo", "key": key}))

    async def request_photo_list(self) -> None:
        await self._send('{"type":"photos"}')

    async def request_track(self, name: str) -> None:
        await self._send(json.dumps({"type": "track", "name": name}))

    def server_now(self) -> float:
        """The server's clock as seen here (lines start on it, so every member hears them at once)."""
        return time.time() + self.clock_offset

    async def send_pose(self, pose: tuple[float, ...]) -> None:
        self._pose_seq += 1
        await self._send(p.encode_pose(self._pose_seq, time.time(), pose))

    async def send_raw(self, frame: str | bytes) -> None:
        await self._send(frame)

    def remote_pose(self, slot: int, delay: float = INTERP_DELAY) -> tuple[float, ...] | None:
        """Where member `slot` is drawn now: `delay` seconds in the past on the server clock."""
        buf = self.poses.get(slot)
        return buf.sample(time.time() + self.clock_offset - delay) if buf else None

    async def wait_until(self, predicate, timeout: float = 10.0) -> None:
        """Wait until `predicate(self)` holds (checked after every frame); TimeoutError otherwise."""
        deadline = time.monotonic() + timeout
        while not predicate(self):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("room client: condition not met in time")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except asyncio.TimeoutError:
                pass

    async def close(self) -> None:
        for task in self._tasks:
            if task is not asyncio.current_task():
                task.cancel()
        try:
            await self._send('{"type":"leave"}')
        except ConnectionClosed:
            pass
        await self.ws.close()
