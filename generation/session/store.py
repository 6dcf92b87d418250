"""Where session material lives in the subject's vault (all of it encrypted there)."""

from __future__ import annotations

import datetime as dt
import re

from assets.errors import UsageError
from .plan import SessionPlan
from .record import SessionRecord

PLAN_KEY = "session/plan"
RECORD_PREFIX = "session/runs/"
REPORT_PREFIX = "session/reports/"
MEASURES_KEY = "session/measures"
MEASURES = {"pg13r": ("PG-13-R total", 10, 50), "ssq": ("SSQ total", 0, 236)}  # scored ranges
_SESSION_ID = re.compile(r"^[0-9]{8}-[0-9]{4}-[0-9a-f]{4}$")


def save_plan(vault, plan: SessionPlan) -> None:
    vault.put_json(PLAN_KEY, plan.to_json(), kind="session_plan", meta={"alias": plan.alias, "author": plan.author})


def _get_json(vault, key: str, default=None):
    """get() re-reads the index when a key is missing: another process may have just stored it."""
    try:
        return vault.get_json(key)
    except KeyError:
        return default


def load_plan(vault) -> SessionPlan | None:
    data = _get_json(vault, PLAN_KEY)
    return SessionPlan.from_json(data) if data is not None else None


def save_record(vault, record: SessionRecord) -> None:
    vault.put_json(RECORD_PREFIX + record.id, record.to_json(), kind="session_record")


def list_records(vault) -> list[str]:
    return [info.key[len(RECORD_PREFIX):] for info in vault.list(RECORD_PREFIX)]


def load_record(vault, session_id: str) -> SessionRecord:
    if not _SESSION_ID.match(session_id or ""):
        raise UsageError(f"{session_id!r} is not a session id (like 20261130-1845-ab12; "
                         "see `memorial session list NAME`)")
    data = _get_json(vault, RECORD_PREFIX + session_id)
    if data is None:
        known = list_records(vault)
        raise UsageError(f"no session {session_id!r}" + (f" (sessions: {', '.join(known[-5:])})" if known else
                                                           " (this subject has no sessions yet)"))
    return SessionRecord.from_json(data)


def load_measures(vault) -> list[dict]:
    return _get_json(vault, MEASURES_KEY, [])


def add_measure(vault, name: str, value: float, when: dt.date, session_id: str = "") -> dict:
    """A questionnaire total the therapist scored (the questionnaires themselves are not shipped)."""
    if name not in MEASURES:
        raise UsageError(f"unknown measure {name!r} (one of {', '.join(MEASURES)})")
    label, low, high = MEASURES[name]
    if not low <= value <= high:
        raise UsageError(f"{label} must be between {low} and {high}, got {value:g}")
    entry = {"name": name, "value": float(value), "date": when.isoformat(), "session": session_id}
    measures = load_measures(vault) + [entry]
    vault.put_json(MEASURES_KEY, measures, kind="session_measures")
    vault.log("session_measure", name=name, value=float(value), date=when.isoformat())
    return entry
