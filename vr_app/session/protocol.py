"""Typed messages over the session's WebSocket: every message is a JSON object with a `type`.

Decoding is strict (unknown type, missing or extra field, wrong type: ProtocolError), so a
confused or hostile peer cannot slip anything past the state machine.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields

COMMANDS = ("start", "pause", "resume", "grounding", "next", "end", "emergency_stop", "suds_prompt")
MAX_MESSAGE = 512 * 1024  # a mirror JPEG is ~20 kB; anything far larger is refused


class ProtocolError(ValueError):
    pass


_REGISTRY: dict[str, type] = {}


def message(name: str):
    def wrap(cls):
        cls = dataclass(frozen=True)(cls)
        cls.TYPE = name
        _REGISTRY[name] = cls
        return cls
    return wrap


# ----- client (viewer) -> console ------------------------------------------------------------

@message("hello")
class Hello:
    code: str  # the pairing code, or the resume token of the last welcome
    display: str  # desktop | openxr | headless


@message("state")
class State:
    ack: int  # last command seq applied
    mode: str
    room: str
    likeness: str
    step: int
    line: str
    gaze: str
    dim: float
    volume: float
    frozen: bool
    message: str
    label: str
    time_left_s: float
    suds_prompt: bool
    reason: str  # why the client is in this mode when it chose it itself (link lost, headset off…)


@message("suds")
class Suds:
    value: int
    step: int


@message("event")
class Event:
    kind: str  # left | headset_off | headset_on | link_lost | cap_warning | cap_end | line_done
    detail: str


@message("frame")
class Frame:
    jpeg: str  # base64 JPEG of the client's view, small and about once a second


# ----- console -> client ---------------------------------------------------------------------

@message("welcome")
class Welcome:
    session: str
    plan: dict  # SessionPlan.to_json()
    resume: str  # single-use token to rejoin this session after the connection drops


@message("command")
class Command:
    seq: int
    name: str
    sent: float  # console's time.time() when sent, for latency measurement


@message("heartbeat")
class Heartbeat:
    t: float


@message("refused")
class Refused:
    reason: str


# ----- browser <-> console -------------------------------------------------------------------

@message("note")
class Note:
    text: str


@message("checklist")
class ChecklistAnswers:
    answers: dict


@message("pair")
class Pair:
    pass


@message("measure")
class Measure:
    name: str  # ssq_after | adverse_event | therapist_suds
    value: str


@message("plan")
class PlanText:
    toml: str


@message("status")
class Status:
    data: dict


@message("alert")
class Alert:
    text: str


_TYPES = {"str": str, "int": int, "float": (int, float), "bool": bool, "dict": dict}


def encode(msg) -> str:
    return json.dumps({"type": msg.TYPE, **asdict(msg)}, separators=(",", ":"))


def decode(text: str | bytes):
    if len(text) > MAX_MESSAGE:
        raise ProtocolError("message too large")
    try:
        data = json.loads(text)
    except (ValueError, UnicodeDecodeError):
        raise ProtocolError("not JSON") from None
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        raise ProtocolError("a message is a JSON object with a 'type'")
    cls = _REGISTRY.get(data.pop("type"))
    if cls is None:
        raise ProtocolError("unknown message type")
    names = {f.name: f.type for f in fields(cls)}
    if set(data) != set(names):
        raise ProtocolError(f"{cls.TYPE}: fields must be exactly {sorted(names)}")
    for key, kind in names.items():
        want = _TYPES[kind if isinstance(kind, str) else kind.__name__]
        value = data[key]
        if not isinstance(value, want) or (isinstance(value, bool) and want is not bool):  # JSON true is no int
            raise ProtocolError(f"{cls.TYPE}.{key} has the wrong type")
    if cls is Command and data["name"] not in COMMANDS:
        raise ProtocolError(f"unknown command {data['name']!r}")
    return cls(**data)
