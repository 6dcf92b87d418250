"""Wire format of the room: JSON control/op messages with a `type` field, binary pose frames.

Every inbound JSON message is validated here, at the boundary, by one pydantic
discriminated union: unknown types, extra fields, wrong types and oversized fields are
refused before any state is touched. Poses travel as fixed-size binary frames because
at 20 Hz JSON would cost more than the 3 KB/s upload budget.
"""

from __future__ import annotations

import json
import math
import struct
from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

PROTOCOL = 2  # 2: one pose batch per room and tick, the same bytes for every member
MAX_TEXT_MESSAGE = 8 * 1024  # bytes of one JSON message from a client
MAX_NOTE = 500  # characters of a written note
MAX_ITEMS = 500  # durable items in one room
ROOM_BOUNDS = 20.0  # metres from the room centre an item may be placed

Vec3 = Annotated[list[float], Field(min_length=3, max_length=3)]
Name = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f]+$")]
ItemId = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_-]+$")]
RoomId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]


class Msg(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_position(value: list[float]) -> list[float]:
    if not all(math.isfinite(v) and abs(v) <= ROOM_BOUNDS for v in value):
        raise ValueError(f"position must be finite and within {ROOM_BOUNDS} m of the room centre")
    return value


class Placed(Msg):
    position: Vec3

    _position = field_validator("position")(_check_position)


# ----- client -> server: joining and presence -------------------------------------------------

class Join(Msg):
    type: Literal["join"]
    protocol: int = PROTOCOL
    room: RoomId = "main"
    member: Name
    device: Literal["headset", "desktop", "viewer"] = "desktop"
    passphrase: Annotated[str, Field(max_length=1024)] | None = None
    invite: Annotated[str, Field(max_length=2048)] | None = None
    since: int = Field(default=-1, ge=-1)  # last op seq the client holds (reconnect)


class Heartbeat(Msg):
    type: Literal["heartbeat"]


class Leave(Msg):
    type: Literal["leave"]


class GetTrack(Msg):
    """Ask for a line's track (expression codes + recorded or spoken audio); it arrives as one binary 'T' frame."""

    type: Literal["track"]
    name: Name


class Rtc(Msg):
    """Voice signalling: an SDP offer or answer for one other member, relayed by the server."""

    type: Literal["rtc"]
    to: Name
    kind: Literal["offer", "answer"]
    sdp: Annotated[str, Field(min_length=1, max_length=7000)]


class GetPhoto(Msg):
    """Ask for a placed photo (a thumbnail of the vault original); it arrives as one binary 'F' frame."""

    type: Literal["photo"]
    key: Annotated[str, Field(min_length=1, max_length=512)]


class ListPhotos(Msg):
    """Ask which of the vault's photos may be placed (owner and family); answered with {type: photos, keys}."""

    type: Literal["photos"]


class GetLikeness(Msg):
    """Ask for the likeness (head mesh + face texture); it arrives as one binary 'L' frame and stays in memory."""

    type: Literal["likeness"]


# ----- client -> server: durable ops (each carries a client-chosen request id for its ack) ------

class Op(Msg):
    rid: int = Field(ge=0, lt=2**53)


class LightCandle(Op, Placed):
    type: Literal["light_candle"]


class CandleOut(Op):
    type: Literal["candle_out"]
    item: ItemId


class PlaceNote(Op, Placed):
    type: Literal["place_note"]
    text: Annotated[str, Field(min_length=1, max_length=MAX_NOTE)]


class PlacePhoto(Op, Placed):
    type: Literal["place_photo"]
    photo: Annotated[str, Field(min_length=1, max_length=512)]  # a key in the subject's vault


class RemoveItem(Op):
    type: Literal["remove_item"]
    item: ItemId


class PlayLine(Op):
    type: Literal["play_line"]
    track: Name
    delay: float = Field(default=1.0, ge=0.2, le=30.0)  # seconds after the server receives it


class Kick(Op):
    type: Literal["kick"]
    member: Name


class Mute(Op):
    type: Literal["mute"]
    member: Name
    muted: bool = True


class CloseRoom(Op):
    type: Literal["close"]


class ReopenRoom(Op):
    type: Literal["reopen"]


class Pause(Op):
    type: Literal["pause"]
    paused: bool = True


class EndSession(Op):
    type: Literal["end"]


OP_TYPES = (LightCandle, CandleOut, PlaceNote, PlacePhoto, RemoveItem, PlayLine, Kick, Mute, CloseRoom,
            ReopenRoom, Pause, EndSession)

ClientMessage = Annotated[
    Union[Join, Heartbeat, Leave, GetLikeness, GetTrack, GetPhoto, ListPhotos, Rtc, LightCandle, CandleOut, PlaceNote, PlacePhoto, RemoveItem, PlayLine, Kick, Mute,
          CloseRoom, ReopenRoom, Pause, EndSession],
    Field(discriminator="type"),
]
_CLIENT = TypeAdapter(ClientMessage)


class ProtocolError(Exception):
    """A message from a client that the server refuses; `code` goes back in the error message."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def parse_client(raw: str | bytes) -> Msg:
    """Validate one JSON message from a client; raise ProtocolError naming what was wrong."""
    if len(raw) > MAX_TEXT_MESSAGE:
        raise ProtocolError("too_large", f"message of {len(raw)} bytes exceeds {MAX_TEXT_MESSAGE}")
    try:
        return _CLIENT.validate_json(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        if first["type"] in ("union_tag_invalid", "union_tag_not_found"):
            raise ProtocolError("unknown_type", "unknown or missing message type") from None
        where = ".".join(str(p) for p in first["loc"][1:]) or "message"
        raise ProtocolError("invalid", f"{where}: {first['msg']}") from None


def encode(obj: dict) -> str:
    """Server -> client JSON (the server's own messages are dicts built in one place each)."""
    return json.dumps(obj, separators=(",", ":"))


# ----- poses: binary ------------------------------------------------------------------------
# Client -> server:  b"P" | seq u32 | client time f64 | 21 x f32 (head, left hand, right hand: xyz + quat xyzw)
# Server -> client:  b"B" | server time f64 | count u16 | count x (slot u16 | seq u32 | sent f64 | 21 x f32)
# A batch holds every fresh member of the room, the receiver included: it is encoded once per
# tick and the same bytes go to every member, who skips its own slot. An entry is the up frame
# with its b"P" replaced by the sender's slot, so the server never re-encodes a pose.

POSE_FLOATS = 21
_POSE_UP = struct.Struct("<cId21f")
_BATCH_HEAD = struct.Struct("<cdH")
_BATCH_ENTRY = struct.Struct("<HId21f")
_SENT = struct.Struct("<d")  # an entry's send time sits after slot u16 and seq u32
_SLOT = struct.Struct("<H")
_VALUES = struct.Struct("<21f")
_VALUES_AT = 1 + 4 + 8
POSE_LIMIT = 100.0  # metres (positions) and quaternion components: anything beyond is not a pose
POSE_UP_BYTES = _POSE_UP.size
BATCH_ENTRY_BYTES = _BATCH_ENTRY.size


def encode_pose(seq: int, sent: float, pose: tuple[float, ...]) -> bytes:
    return _POSE_UP.pack(b"P", seq & 0xFFFFFFFF, sent, *pose)


def decode_pose(data: bytes) -> tuple[int, float, tuple[float, ...]]:
    """(seq, client time, 21 floats); ProtocolError for a frame of the wrong size or non-finite values."""
    if len(data) != _POSE_UP.size or data[:1] != b"P":
        raise ProtocolError("invalid", f"pose frame must be {_POSE_UP.size} bytes starting with 'P'")
    _, seq, sent, *values = _POSE_UP.unpack(data)
    _check_values(values)
    return seq, sent, tuple(values)


def _check_values(values) -> None:
    # three C-level passes instead of a Python loop per value: this runs for every pose received.
    # A NaN or an infinity makes the sum non-finite; once all are finite, min and max are exact.
    if not (math.isfinite(sum(values)) and -POSE_LIMIT <= min(values) and max(values) <= POSE_LIMIT):
        raise ProtocolError("invalid", "pose values must be finite and within 100 m")


def pose_entry(slot: int, data: bytes) -> bytes:
    """A client's pose frame, checked, as its batch entry (ProtocolError for a bad frame)."""
    if len(data) != _POSE_UP.size or data[:1] != b"P":
        raise ProtocolError("invalid", f"pose frame must be {_POSE_UP.size} bytes starting with 'P'")
    _check_values(_VALUES.unpack_from(data, _VALUES_AT))
    return _SLOT.pack(slot) + data[1:]


def encode_batch_entry(slot: int, seq: int, sent: float, pose: tuple[float, ...]) -> bytes:
    return _BATCH_ENTRY.pack(slot, seq, sent, *pose)


def encode_batch(server_time: float, packed_entries: list[bytes]) -> bytes:
    """One frame from entries packed once per tick by encode_batch_entry (shared by every receiver)."""
    return _BATCH_HEAD.pack(b"B", server_time, len(packed_entries)) + b"".join(packed_entries)


def batch_send_times(data: bytes, skip_slot: int = -1) -> list[float]:
    """Only the senders' clocks of a batch, without `skip_slot`'s (the bench's receivers need nothing else)."""
    if len(data) < _BATCH_HEAD.size or data[:1] != b"B":
        raise ProtocolError("invalid", "not a pose batch")
    count = _BATCH_HEAD.unpack_from(data)[2]
    offsets = range(_BATCH_HEAD.size, _BATCH_HEAD.size + count * _BATCH_ENTRY.size, _BATCH_ENTRY.size)
    return [_SENT.unpack_from(data, at + 6)[0] for at in offsets if _SLOT.unpack_from(data, at)[0] != skip_slot]


def decode_batch(data: bytes) -> tuple[float, list[tuple[int, int, float, tuple[float, ...]]]]:
    if len(data) < _BATCH_HEAD.size or data[:1] != b"B":
        raise ProtocolError("invalid", "not a pose batch")
    _, server_time, count = _BATCH_HEAD.unpack_from(data)
    if len(data) != _BATCH_HEAD.size + count * _BATCH_ENTRY.size:
        raise ProtocolError("invalid", "pose batch has the wrong length")
    entries = []
    for i in range(count):
        slot, seq, sent, *pose = _BATCH_ENTRY.unpack_from(data, _BATCH_HEAD.size + i * _BATCH_ENTRY.size)
        entries.append((slot, seq, sent, tuple(pose)))
    return server_time, entries


# ----- the likeness: sent once to a joined member who asks, kept in memory on their side ------
# Server -> client:  b"L" | header length u32 | JSON {title, head, texture: [h, w]} | head bytes | RGB texture bytes

_LIKENESS_HEAD = struct.Struct("<cI")


def encode_likeness(title: str, head: bytes, texture) -> bytes:
    """`texture` is uint8 [H,W,3]."""
    header = json.dumps({"title": title, "head": len(head), "texture": list(texture.shape[:2])}).encode()
    return _LIKENESS_HEAD.pack(b"L", len(header)) + header + head + texture.tobytes()


def decode_likeness(data: bytes):
    """(title, head bytes, texture uint8 [H,W,3])."""
    import numpy as np

    if data[:1] != b"L" or len(data) < _LIKENESS_HEAD.size:
        raise ProtocolError("invalid", "not a likeness frame")
    _, n = _LIKENESS_HEAD.unpack_from(data)
    start = _LIKENESS_HEAD.size + n
    header = json.loads(data[_LIKENESS_HEAD.size:start])
    head = data[start:start + header["head"]]
    h, w = header["texture"]
    texture = np.frombuffer(data, np.uint8, h * w * 3, start + header["head"]).reshape(h, w, 3)
    return header["title"], head, texture


def _encode_named(tag: bytes, name: str, data: bytes) -> bytes:
    """tag (1 byte) | name length u16 | name (UTF-8) | data."""
    raw = name.encode()
    return tag + struct.pack("<H", len(raw)) + raw + data


def _decode_named(tag: bytes, frame: bytes, what: str) -> tuple[str, bytes]:
    if frame[:1] != tag or len(frame) < 3:
        raise ProtocolError("invalid", f"not a {what} frame")
    (n,) = struct.unpack_from("<H", frame, 1)
    return frame[3:3 + n].decode(), frame[3 + n:]


def encode_photo(key: str, jpeg: bytes) -> bytes:
    """Server -> client: b"F" | key length u16 | key (UTF-8) | JPEG thumbnail."""
    return _encode_named(b"F", key, jpeg)


def decode_photo(frame: bytes) -> tuple[str, bytes]:
    return _decode_named(b"F", frame, "photo")


def encode_track(name: str, data: bytes) -> bytes:
    """Server -> client: b"T" | name length u16 | name (UTF-8) | ExpressionTrack bytes."""
    return _encode_named(b"T", name, data)


def decode_track(frame: bytes) -> tuple[str, bytes]:
    return _decode_named(b"T", frame, "track")
