"""The durable state of one room and the only code that changes it.

`RoomState.check` turns a validated client op into an op record (or refuses it with a
typed reason: the role may not, the item is someone else's, the room is closed); the
server numbers and stores that record, and only then `apply` changes the state. Replay
after a restart runs the same `apply` over the stored records, so live and rebuilt rooms
cannot differ. Items belong to the room, not to a connection: nothing here knows who is
connected, so an item never vanishes because its creator left.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from generation.vault.roles import ROLES

from . import protocol as p

_OF = frozenset({"owner", "family"})

# Who may send which op (the room's part of the permission matrix; joining at all needs
# Action.SHARED_ROOM from generation/vault/roles.py). Viewers see and hear only.
ROOM_OPS: dict[str, frozenset[str]] = {
    "light_candle": _OF,
    "place_note": _OF,
    "place_photo": _OF,
    "candle_out": _OF,  # family: their own candles; owner: any
    "remove_item": _OF,  # family: their own items; owner: any
    "play_line": _OF | {"therapist"},
    "kick": frozenset({"owner"}),
    "mute": frozenset({"owner"}),
    "close": frozenset({"owner"}),
    "reopen": frozenset({"owner"}),
    "pause": frozenset({"therapist"}),
    "end": frozenset({"therapist"}),
}
assert all(role in ROLES for roles in ROOM_OPS.values() for role in roles)

# Ops the server itself records (never accepted from a client).
SERVER_OPS = frozenset({"invite_used"})


class OpRefused(Exception):
    """A well-formed op the state refuses; `code` is sent back in the error message."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


@dataclass
class Item:
    id: str
    kind: str  # candle | note | photo
    owner: str  # the member who placed it (for "remove their own"); the room keeps it
    position: list[float]
    lit: bool = False
    text: str = ""
    photo: str = ""


@dataclass
class Line:
    track: str
    start_at: float  # server clock (seconds since the epoch) when playback starts for everyone
    by: str
    paused_at: float | None = None


@dataclass
class RoomState:
    room: str = "main"
    seq: int = 0  # number of the last applied op; ops are numbered 1, 2, ...
    items: dict[str, Item] = field(default_factory=dict)
    line: Line | None = None
    muted: set[str] = field(default_factory=set)
    kicked: set[str] = field(default_factory=set)
    closed: bool = False
    paused: bool = False
    used_invites: set[str] = field(default_factory=set)

    # ----- checks: pure, no change ---------------------------------------------------------------

    def check(self, msg: p.Msg, member: str, role: str, now: float) -> dict:
        """The op record for `msg` sent by `member` (role `role`) at server time `now`, or OpRefused."""
        kind = msg.type
        allowed = ROOM_OPS.get(kind)
        if allowed is None:
            raise OpRefused("unknown_type", f"'{kind}' is not an op")
        if role not in allowed:
            raise OpRefused("forbidden", f"role '{role}' may not {kind.replace('_', ' ')}")
        if self.closed and kind != "reopen":
            raise OpRefused("closed", "the room is closed")
        record = {"type": kind, "by": member, "role": role, "time": now}
        if kind in ("light_candle", "place_note", "place_photo"):
            if len(self.items) >= p.MAX_ITEMS:
                raise OpRefused("full", f"the room already holds {p.MAX_ITEMS} items")
            record["position"] = list(msg.position)
            if kind == "place_note":
                record["text"] = msg.text
            if kind == "place_photo":
                record["photo"] = msg.photo
        elif kind in ("candle_out", "remove_item"):
            item = self.items.get(msg.item)
            if item is None:
                raise OpRefused("no_item", f"no item '{msg.item}' in the room")
            if kind == "candle_out" and (item.kind != "candle" or not item.lit):
                raise OpRefused("no_item", f"'{msg.item}' is not a lit candle")
            if item.owner != member and role != "owner":
                raise OpRefused("forbidden", f"'{msg.item}' was placed by {item.owner}; only they or an owner may change it")
            record["item"] = msg.item
        elif kind == "play_line":
            if self.paused:
                raise OpRefused("paused", "the session is paused")
            record.update(track=msg.track, start_at=now + msg.delay)
        elif kind in ("kick", "mute"):
            if msg.member == member:
                raise OpRefused("invalid", f"you cannot {kind} yourself")
            record["member"] = msg.member
            if kind == "mute":
                record["muted"] = msg.muted
        elif kind == "reopen" and not self.closed:
            raise OpRefused("invalid", "the room is open")
        elif kind == "pause":
            if msg.paused == self.paused:
                raise OpRefused("invalid", "the session is already " + ("paused" if msg.paused else "running"))
            record["paused"] = msg.paused
        return record

    # ----- apply: the only mutation, deterministic over stored records ---------------------------

    def apply(self, seq: int, record: dict) -> None:
        if seq != self.seq + 1:
            raise ValueError(f"op {seq} applied after op {self.seq}: the log has a gap")
        kind = record["type"]
        if kind == "light_candle":
            self._add(seq, "candle", record, lit=True)
        elif kind == "place_note":
            self._add(seq, "note", record, text=record["text"])
        elif kind == "place_photo":
            self._add(seq, "photo", record, photo=record["photo"])
        elif kind == "candle_out":
            self.items[record["item"]].lit = False
        elif kind == "remove_item":
            del self.items[record["item"]]
        elif kind == "play_line":
            self.line = Line(record["track"], record["start_at"], record["by"])
        elif kind == "kick":
            self.kicked.add(record["member"])
        elif kind == "mute":
            (self.muted.add if record["muted"] else self.muted.discard)(record["member"])
        elif kind in ("close", "end"):
            self.closed = True
        elif kind == "reopen":
            self.closed = False
            self.paused = False
            self.kicked.clear()
        elif kind == "pause":
            self._pause(record["paused"], record["time"])
        elif kind == "invite_used":
            self.used_invites.add(record["nonce"])
        else:
            raise ValueError(f"unknown op type {kind!r} in the log")
        self.seq = seq

    def _add(self, seq: int, kind: str, record: dict, **extra) -> None:
        item_id = f"i{seq}"  # derived from the op number, so replay yields the same ids
        self.items[item_id] = Item(item_id, kind, record["by"], list(record["position"]), **extra)

    def _pause(self, paused: bool, now: float) -> None:
        self.paused = paused
        if self.line is None:
            return
        if paused:
            self.line.paused_at = now
        elif self.line.paused_at is not None:
            self.line.start_at += now - self.line.paused_at  # resume where it stopped
            self.line.paused_at = None

    # ----- snapshots -----------------------------------------------------------------------------

    def snapshot(self) -> dict:
        """Everything a joining client needs (invite nonces stay on the server)."""
        return {
            "room": self.room, "seq": self.seq, "closed": self.closed, "paused": self.paused,
            "items": [vars(item) for item in self.items.values()],
            "line": vars(self.line) if self.line else None,
            "muted": sorted(self.muted),
        }

    def to_json(self) -> dict:
        return copy.deepcopy({**self.snapshot(), "kicked": sorted(self.kicked), "used_invites": sorted(self.used_invites)})

    @classmethod
    def from_json(cls, data: dict) -> "RoomState":
        return cls(
            room=data["room"], seq=data["seq"], closed=data["closed"], paused=data["paused"],
            items={i["id"]: Item(**i) for i in data["items"]},
            line=Line(**data["line"]) if data["line"] else None,
            muted=set(data["muted"]), kicked=set(data.get("kicked", ())), used_invites=set(data.get("used_invites", ())),
        )
