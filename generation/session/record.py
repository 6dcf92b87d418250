"""What happened in one session: the timeline the report is made from.

Times are seconds since the session record was opened (`t`), plus the wall-clock start.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import asdict, dataclass, field

RECORD_VERSION = 1


@dataclass
class SessionRecord:
    id: str
    subject: str
    therapist: str
    opened: str  # ISO time, UTC
    plan: dict | None = None
    checklist: dict = field(default_factory=dict)
    started_t: float | None = None
    ended_t: float | None = None
    events: list[dict] = field(default_factory=list)  # {t, kind, detail}
    suds: list[dict] = field(default_factory=list)  # {t, value, step, source}
    notes: list[dict] = field(default_factory=list)  # {t, text}
    lines: list[dict] = field(default_factory=list)  # {t, step, text}
    adverse_events: list[dict] = field(default_factory=list)  # {t, text}
    ssq_before: float | None = None
    ssq_after: float | None = None
    version: int = RECORD_VERSION

    @classmethod
    def new(cls, subject: str, therapist: str) -> "SessionRecord":
        now = dt.datetime.now(dt.timezone.utc)
        sid = now.strftime("%Y%m%d-%H%M") + "-" + uuid.uuid4().hex[:4]
        return cls(id=sid, subject=subject, therapist=therapist, opened=now.isoformat(timespec="seconds"))

    def event(self, t: float, kind: str, detail: str = "") -> None:
        self.events.append({"t": round(t, 3), "kind": kind, "detail": detail})

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> "SessionRecord":
        return cls(**data)
