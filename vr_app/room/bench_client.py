"""A lean simulated member for the bench: the same frames as RoomClient on the wire, a fraction of its cost.

The bench's members share the machine with the server they measure, so each costs as little
as possible: one asyncio.Protocol per member on a plain TCP socket (websocket handshake and
framing done here, client frames masked as RFC 6455 requires), no task per connection, no
room state, and pose batches only scanned for the senders' clocks. Everything a member sends
is what the real client sends: the join, binary pose frames, heartbeats and candle ops.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import random
import struct
import time
from urllib.parse import urlsplit

from . import protocol as p
from .client import HEARTBEAT_S, RoomError

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455, section 1.3
_ENTRY = struct.Struct("<H4xd")  # a batch entry's slot and the sender's clock
_BATCH_COUNT = struct.Struct("<H")
_U16 = struct.Struct(">H")
_U64 = struct.Struct(">Q")
OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 1, 2, 8, 9, 10


def _mask(payload: bytes) -> bytes:
    """Mask key + masked payload. The key comes from `random` (no syscall): the bench only talks to
    its own server on loopback, where the proxy-cache attack the mask guards against does not exist."""
    key = random.randbytes(4)
    n = len(payload)
    repeated = (key * (n // 4 + 1))[:n]
    return key + (int.from_bytes(payload, "little") ^ int.from_bytes(repeated, "little")).to_bytes(n, "little")


def frame(opcode: int, payload: bytes) -> bytes:
    n = len(payload)
    if n < 126:
        head = bytes((0x80 | opcode, 0x80 | n))
    elif n < 65536:
        head = bytes((0x80 | opcode, 0x80 | 126)) + _U16.pack(n)
    else:
        head = bytes((0x80 | opcode, 0x80 | 127)) + _U64.pack(n)
    return head + _mask(payload)


class LeanMember(asyncio.Protocol):
    """One member's connection. `await LeanMember.connect(...)`, then `send_pose`, `light_candle`,
    `heartbeat`; `latencies` (seconds) and `acked` (op numbers) fill in as frames arrive."""

    def __init__(self, member: str):
        self.member = member
        self.slot = -1
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.latencies: list[float] = []
        self.acked: list[int] = []
        self.unacked = 0
        self.bytes_up = 0
        self._buf = bytearray()
        self._upgraded = False
        self._key = base64.b64encode(random.randbytes(16))
        self._first: asyncio.Future = asyncio.get_running_loop().create_future()
        self._pending: set[int] = set()
        self._rid = 0
        self._seq = 0
        self.next_heartbeat = time.time() + HEARTBEAT_S

    @classmethod
    async def connect(cls, url: str, member: str, room: str, invite: str, timeout: float = 30.0) -> LeanMember:
        """Join like RoomClient.connect; RoomError (with the holder's `url` for RoomBusy) when refused."""
        parts = urlsplit(url)
        if parts.scheme != "ws":
            raise RoomError("usage", "the bench's lean members speak plain ws:// on loopback only")
        loop = asyncio.get_running_loop()
        try:
            _, self = await loop.create_connection(lambda: cls(member), parts.hostname, parts.port)
        except OSError as exc:
            raise RoomError("unreachable", f"cannot reach the room server at {url}: {exc}") from None
        self.transport.write(
            f"GET / HTTP/1.1\r\nHost: {parts.netloc}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {self._key.decode()}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode())
        join = {"type": "join", "room": room, "member": member, "device": "desktop", "since": -1, "invite": invite}
        try:
            await asyncio.wait_for(asyncio.shield(self._first), timeout)  # the upgrade
            self._first = loop.create_future()
            self._send(OP_TEXT, json.dumps(join).encode())
            welcome = await asyncio.wait_for(self._first, timeout)
        except TimeoutError:
            self.transport.abort()
            raise RoomError("timeout", "the room server did not answer the join in time") from None
        if welcome.get("type") == "error":
            self.transport.abort()
            raise RoomError(welcome["code"], welcome["message"], welcome.get("url", ""))
        self.slot = welcome["slot"]
        return self

    # ----- sending -------------------------------------------------------------------------------

    def _send(self, opcode: int, payload: bytes) -> None:
        if self.closed:
            return
        data = frame(opcode, payload)
        self.bytes_up += len(data)
        self.transport.write(data)

    def send_pose(self, pose: tuple[float, ...]) -> None:
        self._seq += 1
        self._send(OP_BINARY, p.encode_pose(self._seq, time.time(), pose))

    def heartbeat(self, now: float) -> None:
        if now >= self.next_heartbeat:
            self.next_heartbeat = now + HEARTBEAT_S
            self._send(OP_TEXT, b'{"type":"heartbeat"}')

    def light_candle(self, position: list[float]) -> None:
        self._rid += 1
        self._pending.add(self._rid)
        self._send(OP_TEXT, json.dumps({"type": "light_candle", "rid": self._rid, "position": position}).encode())

    def close(self) -> None:
        if not self.closed:
            self._send(OP_CLOSE, _U16.pack(1000))
            self.transport.close()
            self._lost()

    # ----- receiving -----------------------------------------------------------------------------

    def connection_made(self, transport) -> None:
        self.transport = transport

    def connection_lost(self, exc) -> None:
        self._lost()
        if not self._first.done():
            self._first.set_exception(RoomError("closed", "the room server closed the connection"))

    def _lost(self) -> None:
        self.closed = True
        self.unacked += len(self._pending)  # cut off before the ack: not acknowledged, so not counted as lost
        self._pending.clear()

    def data_received(self, data: bytes) -> None:
        buf = self._buf
        buf += data
        if not self._upgraded:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(buf[:end]).decode("latin-1")
            del buf[:end + 4]
            accept = base64.b64encode(hashlib.sha1(self._key + _GUID).digest()).decode()
            if not head.startswith("HTTP/1.1 101") or accept not in head:
                self._first.set_exception(RoomError("handshake", f"not a websocket upgrade: {head.splitlines()[0]}"))
                self.transport.abort()
                return
            self._upgraded = True
            self._first.set_result(None)
        while len(buf) >= 2:
            opcode, n, at = buf[0] & 0x0F, buf[1] & 0x7F, 2
            if n == 126:
                if len(buf) < 4:
                    return
                n, at = _U16.unpack_from(buf, 2)[0], 4
            elif n == 127:
                if len(buf) < 10:
                    return
                n, at = _U64.unpack_from(buf, 2)[0], 10
            if len(buf) < at + n:
                return
            payload = bytes(buf[at:at + n])
            del buf[:at + n]
            self._on_frame(opcode, payload)

    def _on_frame(self, opcode: int, payload: bytes) -> None:
        if opcode == OP_BINARY and payload[:1] == b"B":
            now, slot, lat = time.time(), self.slot, self.latencies
            count = _BATCH_COUNT.unpack_from(payload, 9)[0]
            for at in range(11, 11 + count * p.BATCH_ENTRY_BYTES, p.BATCH_ENTRY_BYTES):
                sender, sent = _ENTRY.unpack_from(payload, at)
                if sender != slot:
                    lat.append(now - sent)
        elif opcode == OP_TEXT:
            if payload.startswith((b'{"type":"op"', b'{"type":"presence"')):
                return  # others' ops and presence: the bench keeps no room state
            msg = json.loads(payload)
            kind, rid = msg.get("type"), msg.get("rid")
            if not self._first.done():
                self._first.set_result(msg)
            elif kind == "ack" and rid in self._pending:
                self._pending.discard(rid)
                self.acked.append(msg["seq"])
            elif kind == "error" and rid in self._pending:
                self._pending.discard(rid)
                self.unacked += 1
        elif opcode == OP_CLOSE:
            self.close()
        elif opcode == OP_PING:
            self._send(OP_PONG, payload)
