"""The console's state and rules, apart from the web plumbing: pairing, the checklist gate,
commands (each one in the subject's audit log), SUDS alerts and the session record."""

from __future__ import annotations

import functools
import hashlib
import math
import queue
import secrets
import threading
import time

from vr_app.session import protocol as p

from assets.errors import MemorialError
from generation.session.checklist import Checklist
from generation.session.pairing import PairingBook, PairingError
from generation.session.plan import SessionPlan, parse_plan
from generation.session.record import SessionRecord
from generation.session.store import load_plan, save_plan, save_record

MAX_NOTE = 4000
DISPLAYS = ("desktop", "openxr", "headless")


class Refusal(MemorialError):
    """A console request that the rules refuse; the page shows the message."""


class VaultWriter:
    """One thread makes every vault write, in order, so a write's fsyncs never delay a command
    on its way to the client. Callers hand over finished values (snapshots), never live state."""

    def __init__(self):
        self.jobs: queue.Queue = queue.Queue()
        self.errors: list[str] = []
        self._thread = threading.Thread(target=self._run, name="session-vault-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            job = self.jobs.get()
            try:
                if job is None:
                    return
                job()
            except MemorialError as exc:  # e.g. VaultBusy: keep going, the console shows it
                self.errors.append(str(exc))
            finally:
                self.jobs.task_done()

    def submit(self, job) -> None:
        self.jobs.put(job)

    def flush(self) -> None:
        self.jobs.join()

    @property
    def closed(self) -> bool:
        return not self._thread.is_alive()

    def close(self) -> None:
        if not self.closed:
            self.jobs.put(None)
            self._thread.join(timeout=30)


class ConsoleService:
    def __init__(self, vault, clock=time.monotonic, wall=time.time):
        self.vault, self.clock, self.wall = vault, clock, wall
        self.writer = VaultWriter()
        self.token = secrets.token_urlsafe(16)  # the page's URL carries it; other local users lack it
        self.plan: SessionPlan | None = load_plan(vault)
        self.checklist = Checklist(family_consent_therapy="therapy" in vault.consent.scopes)
        self.pairing = PairingBook(clock)
        self.record = SessionRecord.new(vault.name, vault.member)
        self.record.plan = self.plan.to_json() if self.plan else None
        self.t0 = clock()
        self.seq = 0
        self.code: str | None = None
        self._resume: bytes | None = None  # hash of the connected client's resume token
        self.client_connected = False
        self.client_display = ""
        self.client_state: dict | None = None
        self.alerts: list[dict] = []
        self.audit("console_open", plan=bool(self.plan))

    def t(self) -> float:
        return round(self.clock() - self.t0, 3)

    def audit(self, action: str, **detail) -> None:
        self.writer.submit(functools.partial(self.vault.log, f"session_{action}", session=self.record.id, **detail))

    def save(self) -> None:
        self.record.checklist = self.checklist.to_json()
        self.record.ssq_before = self.checklist.ssq_before
        snapshot = SessionRecord.from_json(self.record.to_json())  # asdict copies: the writer gets its own
        self.writer.submit(functools.partial(save_record, self.vault, snapshot))

    def close(self) -> None:
        """Write the record and the closing audit line, and wait until both are on disk."""
        if self.writer.closed:
            return
        self.save()
        self.audit("console_closed")
        self.writer.close()

    def alert(self, text: str) -> str:
        self.alerts.append({"t": self.t(), "text": text})
        self.record.event(self.t(), "alert", text)
        return text

    # ----- pairing ---------------------------------------------------------------------------

    def issue_code(self) -> str:
        self.code = self.pairing.issue()
        self.audit("pair_code_issued")
        return self.code

    def pair(self, hello: p.Hello) -> p.Welcome:
        """Redeem a client's code (or the resume token of a client whose connection dropped);
        raises Refusal (logged) when it cannot join."""
        if hello.display not in DISPLAYS:
            self.audit("pair_refused", reason="unknown display")
            raise Refusal(f"unknown display (one of {', '.join(DISPLAYS)})")
        if self.client_connected:
            self.audit("pair_refused", reason="a client is already connected")
            raise Refusal("a client is already connected")
        rejoin = self._resume is not None and secrets.compare_digest(
            hashlib.sha256(hello.code.encode("utf-8", "replace")).digest(), self._resume)
        if not rejoin:
            try:
                self.pairing.redeem(hello.code)
            except PairingError as exc:
                self.audit("pair_refused", reason=str(exc))
                raise Refusal(str(exc)) from None
        if self.plan is None:
            self.audit("pair_refused", reason="no plan")
            raise Refusal("the therapist has not stored a session plan yet")
        self.code = None if not rejoin else self.code
        self.client_connected, self.client_display = True, hello.display
        kind = "client_rejoined" if rejoin else "client_joined"
        self.record.event(self.t(), kind, hello.display)
        self.audit(kind, display=hello.display)
        token = secrets.token_urlsafe(24)
        self._resume = hashlib.sha256(token.encode()).digest()  # single use: rotated on every join
        return p.Welcome(session=self.record.id, plan=self.record.plan, resume=token)

    def client_gone(self) -> list[str]:
        if not self.client_connected:
            return []
        self.client_connected = False
        self.record.event(self.t(), "client_disconnected")
        self.audit("client_disconnected")
        self.save()
        return [self.alert("The client's viewer disconnected; it pauses into the neutral room on its own.")]

    # ----- from the browser -------------------------------------------------------------------

    def command(self, name: str) -> p.Command:
        if name not in p.COMMANDS:
            raise Refusal(f"unknown command {name!r}")
        if not self.client_connected:
            self.audit("command_refused", command=name, reason="no client")
            raise Refusal("no client is connected: give the client the pairing code first")
        if name == "start":
            problems = self.checklist.problems()
            if problems:
                self.audit("command_refused", command=name, reason="checklist incomplete")
                raise Refusal("Start is blocked: " + "; ".join(problems))
            if self.record.started_t is None:
                self.record.started_t = self.t()
        self.seq += 1
        self.record.event(self.t(), "command", name)
        return p.Command(seq=self.seq, name=name, sent=self.wall())

    def after_command(self, cmd: p.Command) -> None:
        """Audit after the command went out, so the log write is not on the reaction path."""
        self.audit("command", command=cmd.name, seq=cmd.seq)
        self.save()

    def update_checklist(self, answers: dict) -> None:
        try:
            self.checklist.update(answers)
        except ValueError as exc:
            raise Refusal(str(exc)) from None
        self.audit("checklist", items=sorted(answers), complete=self.checklist.complete)
        self.save()

    def note(self, text: str) -> None:
        text = text.strip()
        if not text or len(text) > MAX_NOTE:
            raise Refusal(f"a note is 1 to {MAX_NOTE} characters")
        self.record.notes.append({"t": self.t(), "text": text})
        self.audit("note", chars=len(text))
        self.save()

    def measure(self, name: str, value: str) -> list[str]:
        alerts = []
        if name == "adverse_event":
            if not value.strip():
                raise Refusal("describe the adverse event")
            self.record.adverse_events.append({"t": self.t(), "text": value.strip()[:MAX_NOTE]})
            alerts.append(self.alert("Adverse event recorded."))
        elif name in ("ssq_after", "therapist_suds"):
            try:
                number = float(value)
            except ValueError:
                number = math.nan
            if not math.isfinite(number):
                raise Refusal(f"{name} must be a number")
            if name == "ssq_after":
                if not 0 <= number <= 236:
                    raise Refusal("an SSQ total is from 0 to 236")
                self.record.ssq_after = number
            else:
                alerts += self._suds(int(number), self._step(), "therapist")
        else:
            raise Refusal(f"unknown measure {name!r}")
        self.audit("measure", name=name)
        self.save()
        return alerts

    def store_plan(self, text: str) -> None:
        try:
            plan = parse_plan(text, source="plan", author=self.vault.member)
        except MemorialError as exc:
            raise Refusal(str(exc)) from None
        if self.record.started_t is not None:
            raise Refusal("the session has started: the plan cannot change now")
        self.writer.submit(functools.partial(save_plan, self.vault, plan))
        self.plan = plan
        self.record.plan = plan.to_json()
        self.audit("plan_stored", steps=len(plan.steps))

    # ----- from the client --------------------------------------------------------------------

    def _step(self) -> int:
        return int(self.client_state["step"]) if self.client_state else 0

    def _suds(self, value: int, step: int, source: str) -> list[str]:
        if not 0 <= value <= 100:
            raise Refusal("SUDS is from 0 to 100")
        entry = {"t": self.t(), "value": value, "step": step, "source": source}
        self.record.suds.append(entry)
        threshold = self.plan.suds_alert_above if self.plan else 100
        if value > threshold:
            return [self.alert(f"SUDS {value} is above the plan's threshold {threshold} (step {step + 1}).")]
        return []

    def on_client(self, msg) -> list[str]:
        """Apply a client message; returns alerts for the therapist."""
        if isinstance(msg, p.State):
            previous = self.client_state
            self.client_state = {k: getattr(msg, k) for k in msg.__dataclass_fields__}
            if previous is None or (previous["mode"], previous["step"], previous["line"]) != \
                    (msg.mode, msg.step, msg.line):
                self.record.event(self.t(), "client_state", f"{msg.mode} step {msg.step + 1} {msg.reason}".strip())
                if msg.line and (previous is None or previous["line"] != msg.line):
                    self.record.lines.append({"t": self.t(), "step": msg.step, "text": msg.line})
                if msg.mode in ("ended", "stopped", "left") and self.record.ended_t is None:
                    self.record.ended_t = self.t()
                self.save()
            return []
        if isinstance(msg, p.Suds):
            alerts = self._suds(msg.value, msg.step, "client")
            self.audit("suds", value=msg.value)
            self.save()
            return alerts
        if isinstance(msg, p.Event):
            self.record.event(self.t(), msg.kind[:40], msg.detail[:500])
            self.audit("client_event", kind=msg.kind[:40])
            self.save()
            texts = {"left": "The client left the session.", "headset_off": "The client took the headset off: paused.",
                     "link_lost": "The client lost the console connection and paused.",
                     "cap_warning": "The hard cap is near: " + msg.detail,
                     "cap_end": "The hard cap ended the session."}
            return [self.alert(texts[msg.kind])] if msg.kind in texts else []
        return []

    def status(self) -> dict:
        return {
            "subject": self.vault.name, "session": self.record.id, "member": self.vault.member,
            "plan": self.record.plan,
            "checklist": self.checklist.to_json(), "code": self.code,
            "client": {"connected": self.client_connected, "display": self.client_display,
                       "state": self.client_state},
            "seq": self.seq, "alerts": self.alerts[-20:], "notes": self.record.notes[-50:],
            "suds": self.record.suds[-200:], "t": self.t(), "started": self.record.started_t is not None,
            "storage_errors": self.writer.errors[-5:],
        }
