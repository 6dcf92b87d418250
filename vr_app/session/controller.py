"""The client's session state machine: pure, clock-injected, no rendering.

It decides what the viewer shows (room, where the likeness stands, dimming, volume, the
centred message) from the therapist's commands and from safety rules that hold without the
console: the client can leave at any time, taking the headset off pauses, losing the console
for more than `link_timeout_s` pauses into the neutral room, and the hard cap closes the
session (with a warning before). The 'AI-generated likeness' label is part of every view.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

LABEL = "AI-generated likeness"
LINK_TIMEOUT_S = 3.0
CAP_WARNING_S = 300.0  # warn five minutes before the hard cap
PAUSE_DIM = 0.6
BREATH = (4.0, 4.0, 6.0)  # seconds in, hold, out: the grounding breathing cue
NEUTRAL_MESSAGES = {
    "waiting": "Your session will begin soon. Your therapist is with you.",
    "stopped": "The session has stopped. You are safe, in the therapy room, with your therapist.",
    "left": "You have left the session. Take the headset off when you are ready; your therapist is here.",
    "link_lost": "Paused: the connection to your therapist was lost. Your therapist is nearby.",
}
ACTIVE = ("running", "paused", "grounding", "closing")


@dataclass(frozen=True)
class ClientView:
    """Everything the renderer needs for one frame."""

    mode: str  # waiting | running | paused | grounding | closing | ended | stopped | left
    room: str  # neutral | memorial | safe
    likeness: str  # none | far | near
    step: int
    line: str  # the words playing now, "" when silent
    track: str  # the stored track for that line, "" for text
    dim: float  # 0 bright .. 1 black
    volume: float  # 0 silent .. 1
    frozen: bool
    message: str
    time_left_s: float
    suds_prompt: bool
    reason: str
    breath: float = 0.0  # grounding's breathing cue, 0 (empty) .. 1 (full); 0 outside grounding
    label: str = LABEL


@dataclass
class _Pending:
    kind: str
    detail: str


@dataclass
class SessionController:
    """`plan` is SessionPlan.to_json(); `clock()` returns seconds (monotonic)."""

    plan: dict
    clock: object
    link_timeout_s: float = LINK_TIMEOUT_S
    cap_warning_s: float = CAP_WARNING_S
    mode: str = "waiting"
    step: int = 0
    line_index: int = -1  # index into the current step's lines of the line playing or last played
    playing: bool = False
    resume_to: str = "running"
    reason: str = ""
    ack: int = 0
    suds_prompt: bool = False
    gaze: str = "unknown"
    started_at: float | None = None
    grounding_at: float | None = None
    closing_at: float | None = None
    last_link: float | None = None
    last_suds_prompt: float | None = None
    warned: bool = False
    events: list[_Pending] = field(default_factory=list)

    @property
    def cap_s(self) -> float:
        return float(self.plan["hard_cap_min"]) * 60

    @property
    def steps(self) -> list[dict]:
        return self.plan["steps"]

    def _event(self, kind: str, detail: str = "") -> None:
        self.events.append(_Pending(kind, detail))

    def drain_events(self) -> list[_Pending]:
        out, self.events = self.events, []
        return out

    # ----- inputs from the console -----------------------------------------------------------

    def link_alive(self) -> None:
        """Any message from the console proves the link."""
        self.last_link = self.clock()

    def command(self, name: str, seq: int = 0) -> None:
        handler = getattr(self, f"_cmd_{name}", None)
        if handler is None:
            raise ValueError(f"unknown command {name!r}")
        now = self.clock()
        self.last_link = now
        self.ack = max(self.ack, seq)
        handler(now)

    def _cmd_start(self, now: float) -> None:
        if self.mode == "waiting":
            self.mode, self.step, self.line_index, self.started_at = "running", 0, -1, now
            self._prompt_suds(now)

    def _cmd_pause(self, now: float) -> None:
        if self.mode in ("running", "grounding", "closing"):
            self.resume_to, self.mode, self.reason, self.playing = self.mode, "paused", "therapist", False

    def _cmd_resume(self, now: float) -> None:
        if self.mode == "grounding":
            self.mode = "running"
        elif self.mode == "paused":
            self.mode, self.reason = self.resume_to, ""
            if self.mode == "closing":
                self.closing_at = now  # the fade starts again rather than jumping

    def _cmd_grounding(self, now: float) -> None:
        """Grounding toggles: pressed again, the session goes back to where it was."""
        if self.mode == "grounding":
            self.mode = "running"
        elif self.mode in ("running", "paused"):
            self.mode, self.playing, self.reason, self.resume_to = "grounding", False, "", "running"
            self.grounding_at = now

    def _cmd_next(self, now: float) -> None:
        if self.mode != "running":
            return
        lines = self.steps[self.step]["lines"]
        if self.line_index + 1 < len(lines):
            self.line_index += 1
            self.playing = True
        elif self.step + 1 < len(self.steps):
            self.step, self.line_index, self.playing = self.step + 1, -1, False
            self._prompt_suds(now)

    def _cmd_end(self, now: float) -> None:
        if self.mode in ("running", "paused", "grounding"):
            self.mode, self.closing_at, self.playing, self.reason = "closing", now, False, ""

    def _cmd_emergency_stop(self, now: float) -> None:
        if self.mode != "left":
            self.mode, self.playing, self.reason = "stopped", False, "emergency stop"

    def _cmd_suds_prompt(self, now: float) -> None:
        if self.mode in ACTIVE:
            self._prompt_suds(now)

    def _prompt_suds(self, now: float) -> None:
        self.suds_prompt, self.last_suds_prompt = True, now

    # ----- inputs from the client ------------------------------------------------------------

    def leave(self) -> None:
        """The client's own 'leave' key or gesture: always honoured, whatever the console says."""
        if self.mode != "left":
            self.mode, self.playing, self.reason = "left", False, "client left"
            self._event("left", "the client left the session")

    def headset(self, worn: bool) -> None:
        if not worn and self.mode in ("running", "grounding", "closing"):
            self.resume_to, self.mode, self.reason, self.playing = self.mode, "paused", "headset off", False
        self._event("headset_on" if worn else "headset_off", "")

    def answer_suds(self, value: int) -> int:
        if not 0 <= value <= 100:
            raise ValueError("SUDS is a number from 0 to 100")
        self.suds_prompt = False
        return self.step

    def line_done(self) -> None:
        if self.playing:
            text = self.current_line()[0]
            self.playing = False
            self._event("line_done", text)

    def current_line(self) -> tuple[str, str]:
        if self.mode == "closing":
            return self.plan["goodbye"], ""
        if not self.playing or self.line_index < 0:
            return "", ""
        line = self.steps[self.step]["lines"][self.line_index]
        return line["text"], line["track"]

    # ----- time ------------------------------------------------------------------------------

    def tick(self) -> None:
        """Apply the time-based rules; call once per frame."""
        now = self.clock()
        if self.mode in ACTIVE and self.last_link is not None and now - self.last_link > self.link_timeout_s \
                and self.reason != "link lost":
            if self.mode != "paused":
                self.resume_to = self.mode
            self.mode, self.reason, self.playing = "paused", "link lost", False
            self._event("link_lost", f"no word from the console for {now - self.last_link:.1f} s")
        if self.started_at is None or self.mode not in ACTIVE:
            return
        left = self.cap_s - (now - self.started_at)
        if left <= 0:
            self.mode, self.playing, self.reason = "ended", False, "hard cap"
            self._event("cap_end", "the hard cap ended the session")
            return
        if not self.warned and left <= self.cap_warning_s:
            self.warned = True
            self._event("cap_warning", f"{left / 60:.0f} min left")
        fade = float(self.plan["fade_s"])
        if self.mode == "running" and left <= fade:
            self.mode, self.closing_at, self.playing = "closing", now, False
        if self.mode == "closing" and now - self.closing_at >= fade:
            self.mode, self.reason = "ended", ""
        every = float(self.plan["suds_every_min"]) * 60
        if self.mode in ("running", "grounding") and self.last_suds_prompt is not None \
                and now - self.last_suds_prompt >= every:
            self._prompt_suds(now)

    def time_left(self) -> float:
        if self.started_at is None:
            return self.cap_s
        return max(0.0, self.cap_s - (self.clock() - self.started_at))

    def view(self) -> ClientView:
        now = self.clock()
        mode = self.mode
        step = self.steps[self.step] if self.steps else {"likeness": "none"}
        room, likeness, dim, volume, frozen, message = "memorial", step["likeness"], 0.0, 1.0, False, ""
        if self.step == 0:
            room = "neutral"  # the plan's first step is always the neutral room
        if mode in ("waiting", "stopped", "left", "ended"):
            room, likeness = "neutral", "none"
            volume = 0.0 if mode in ("stopped", "left") else 1.0
            message = self.plan["reality"] if mode == "ended" else NEUTRAL_MESSAGES[mode]
        elif mode == "paused":
            dim, volume, frozen = PAUSE_DIM, 0.0, True
            if self.reason == "link lost":
                room, likeness, message = "neutral", "none", NEUTRAL_MESSAGES["link_lost"]
            else:
                message = "Paused."
        elif mode == "grounding":
            room, likeness, message = "safe", "none", self.plan["breathing"]
        elif mode == "closing":
            progress = min(1.0, (now - self.closing_at) / float(self.plan["fade_s"]))
            dim, volume, message = progress, 1.0 - progress, self.plan["goodbye"]
        if mode == "running" and self.warned:
            message = f"The session will end in {self.time_left() / 60:.0f} minutes."
        line, track = self.current_line() if mode in ("running", "closing") else ("", "")
        breath = breath_at(now - self.grounding_at) if mode == "grounding" else 0.0
        return ClientView(mode=mode, room=room, likeness=likeness, step=self.step, line=line, track=track,
                          dim=dim, volume=volume, frozen=frozen, message=message, time_left_s=self.time_left(),
                          suds_prompt=self.suds_prompt and mode in ACTIVE, reason=self.reason, breath=breath)


def breath_at(t: float) -> float:
    """The breathing cue's fullness t seconds into grounding: in, hold, out, repeat (eased)."""
    inhale, hold, exhale = BREATH
    t %= inhale + hold + exhale
    if t < inhale:
        x = t / inhale
    elif t < inhale + hold:
        return 1.0
    else:
        x = 1 - (t - inhale - hold) / exhale
    return 0.5 - 0.5 * math.cos(math.pi * x)
