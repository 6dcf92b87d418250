"""A lean simulated member for the bench: the same frames as RoomClient on the wire, a fraction of its cost.

The bench's members share the machine with the server they measure, so each costs as little
as possible: one asyncio.Protocol per member on a plain TCP socket driving websockets'
sans-I/O client (the library does the handshake, framing and masking; no task per
connection), no room state, and pose batches only scanned for the senders' clocks. Everything
a member sends is what the real client sends: the join, binary pose frames, heartbeats and
candle ops.
"""

from __future__ import annotations

import asyncio
import json
import struct
import time
from urllib.parse import urlsplit

from websockets.client import ClientProtocol
from websockets.frames import Opcode
from websockets.http11 import Response
from websockets.uri import parse_uri

from . import protocol as p
from .client import HEARTBEAT_S, RoomError

_ENTRY = struct.Struct("<H4xd")  # a batch entry's slot and the sender's clock
_BATCH_COUNT = struct.Struct("<H")


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
        self._ws: ClientProtocol | None = None
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
        self._ws = ClientProtocol(parse_uri(url))
        self._ws.send_request(self._ws.connect())
        self._flush()
        join = {"type": "join", "room": room, "member": member, "device": "desktop", "since": -1, "invite": invite}
        try:
            await asyncio.wait_for(asyncio.shield(self._first), timeout)  # the upgrade
            self._first = loop.create_future()
            self._send(Opcode.TEXT, json.dumps(join).encode())
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

    def _flush(self) -> None:
        data = b"".join(self._ws.data_to_send())
        self.bytes_up += len(data)
        self.transport.write(data)

    def _send(self, opcode: Opcode, payload: bytes) -> None:
        if self.closed:
            return
        (self._ws.send_binary if opcode is Opcode.BINARY else self._ws.send_text)(payload)
        self._flush()

    def send_pose(self, pose: tuple[float, ...]) -> None:
        self._seq += 1
        self._send(Opcode.BINARY, p.encode_pose(self._seq, time.time(), pose))

    def heartbeat(self, now: float) -> None:
        if now >= self.next_heartbeat:
            self.next_heartbeat = now + HEARTBEAT_S
            self._send(Opcode.TEXT, b'{"type":"heartbeat"}')

    def light_candle(self, position: list[float]) -> None:
        self._rid += 1
        self._pending.add(self._rid)
        self._send(Opcode.TEXT, json.dumps({"type": "light_candle", "rid": self._rid, "position": position}).encode())

    def close(self) -> None:
        if not self.closed:
            self._ws.send_close(1000)
            self._flush()
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
        self._ws.receive_data(data)
        for event in self._ws.events_received():
            if isinstance(event, Response):
                if self._ws.handshake_exc is not None:
                    self._first.set_exception(RoomError("handshake", f"not a websocket upgrade: {self._ws.handshake_exc}"))
                    self.transport.abort()
                    return
                self._first.set_result(None)
            else:
                self._on_frame(event.opcode, event.data)
        self._flush()  # pongs and the close handshake the library answers by itself

    def _on_frame(self, opcode: Opcode, payload: bytes) -> None:
        if opcode is Opcode.BINARY and payload[:1] == b"B":
            now, slot, lat = time.time(), self.slot, self.latencies
            count = _BATCH_COUNT.unpack_from(payload, 9)[0]
            for at in range(11, 11 + count * p.BATCH_ENTRY_BYTES, p.BATCH_ENTRY_BYTES):
                sender, sent = _ENTRY.unpack_from(payload, at)
                if sender != slot:
                    lat.append(now - sent)
        elif opcode is Opcode.TEXT:
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
        elif opcode is Opcode.CLOSE:
            self._lost()
