"""The therapist's session plan: who, why, how long, and the steps in which the likeness appears.

It arrives as TOML (`memorial session plan-example`), is validated here and stored in the
subject's vault. The rules encode the clinical framing: the neutral room comes first, the
likeness appears in stages (far and silent, then nearer, then speaking), it only says lines
the therapist wrote or recordings the therapist approved, and every session ends in reality.
"""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass

from assets.errors import UsageError

PLAN_VERSION = 1
MAX_CAP_MIN = 70
LIKENESS = ("none", "far", "near")  # where the likeness stands in a step
ROOMS = ("garden", "living_room", "chapel")

EXAMPLE = """\
# A therapist-guided session plan. Store it with: memorial session plan NAME --file plan.toml
[client]
alias = "Client A"                 # an alias, never the client's real name

[session]
purpose = "Say the goodbye that could not be said at the hospital."
duration_min = 45                  # planned length
hard_cap_min = 60                  # the session ends here whatever happens (at most 70)
room = "garden"                    # garden | living_room | chapel

[suds]
alert_above = 70                   # alert the therapist when SUDS (0-100) goes above this
prompt_every_min = 5               # ask the client for SUDS this often (and at every step)

[grounding]
safe_room = "garden"               # the calm room shown by Grounding
breathing = "Breathe in for four, hold for four, out for six."
resources = ["Feet on the floor, notice five things you can see.", "Crisis line: 116 123"]

# Steps run in order. The first is the neutral room; the likeness then appears far and
# silent, comes nearer, and only then speaks.
[[steps]]
title = "Arrive in the neutral room"
likeness = "none"                  # none | far | near

[[steps]]
title = "Rose appears at a distance"
likeness = "far"

[[steps]]
title = "Rose comes nearer"
likeness = "near"

[[steps]]
title = "Rose speaks"
likeness = "near"
speaking = true
lines = [
  { text = "I am proud of you." },                    # authored by the therapist
  { track = "hello", text = "Hello, love.", approved_by = "dr-lee" },  # a stored recording, approved
]

[closing]
goodbye = "Thank you for coming. It is time to say goodbye for today."
fade_s = 8
reality = "Rose died in 2023. What you saw was an AI-generated likeness. You are in the therapy room with your therapist."
"""


@dataclass(frozen=True)
class Line:
    text: str  # the words, written by the therapist (or the transcript of an approved recording)
    track: str = ""  # a stored track (recording or synthesis) to play; empty: speak `text`
    approved_by: str = ""  # who approved the recording (required with a track)


@dataclass(frozen=True)
class Step:
    title: str
    likeness: str = "none"
    speaking: bool = False
    lines: tuple[Line, ...] = ()


@dataclass(frozen=True)
class SessionPlan:
    alias: str
    purpose: str
    duration_min: float
    hard_cap_min: float
    room: str
    steps: tuple[Step, ...]
    goodbye: str
    fade_s: float
    reality: str
    safe_room: str
    breathing: str
    resources: tuple[str, ...] = ()
    suds_alert_above: int = 70
    suds_every_min: float = 5.0
    author: str = ""
    version: int = PLAN_VERSION

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> "SessionPlan":
        data = dict(data)
        data["steps"] = tuple(Step(**{**s, "lines": tuple(Line(**ln) for ln in s["lines"])}) for s in data["steps"])
        data["resources"] = tuple(data["resources"])
        return cls(**data)


class PlanError(UsageError):
    """A plan file that cannot be used, with one line naming the problem."""


def _field(table: dict, dotted: str, kind, source: str, default=None):
    node = table
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            if default is not None:
                return default
            raise PlanError(f"{source}: missing field '{dotted}'")
        node = node[part]
    if kind is str and (not isinstance(node, str) or not node.strip()):
        raise PlanError(f"{source}: field '{dotted}' must be non-empty text")
    if kind is float and (isinstance(node, bool) or not isinstance(node, (int, float))):
        raise PlanError(f"{source}: field '{dotted}' must be a number")
    if kind is bool and not isinstance(node, bool):
        raise PlanError(f"{source}: field '{dotted}' must be true or false")
    return node.strip() if kind is str else node


def _lines(raw, where: str, source: str) -> tuple[Line, ...]:
    if not isinstance(raw, list):
        raise PlanError(f"{source}: {where}.lines must be a list of {{ text = ... }} tables")
    out = []
    for i, item in enumerate(raw, 1):
        if not isinstance(item, dict):
            raise PlanError(f"{source}: {where} line {i} must be a table like {{ text = \"...\" }}")
        unknown = set(item) - {"text", "track", "approved_by"}
        if unknown:
            raise PlanError(f"{source}: {where} line {i} has unknown field '{sorted(unknown)[0]}'")
        text = _field(item, "text", str, f"{source}: {where} line {i}")
        track = item.get("track", "")
        approved = item.get("approved_by", "")
        if not isinstance(track, str) or not isinstance(approved, str):
            raise PlanError(f"{source}: {where} line {i}: track and approved_by must be text")
        if track and not approved.strip():
            raise PlanError(f"{source}: {where} line {i} plays the recording '{track}' without approved_by: "
                            "only recordings the therapist approved may play")
        out.append(Line(text=text, track=track.strip(), approved_by=approved.strip()))
    return tuple(out)


def _steps(raw, source: str) -> tuple[Step, ...]:
    if not isinstance(raw, list) or not raw:
        raise PlanError(f"{source}: the plan needs at least one [[steps]] table")
    steps = []
    for i, item in enumerate(raw, 1):
        where = f"step {i}"
        if not isinstance(item, dict):
            raise PlanError(f"{source}: {where} must be a [[steps]] table")
        title = _field(item, "title", str, f"{source}: {where}")
        likeness = item.get("likeness", "none")
        if likeness not in LIKENESS:
            raise PlanError(f"{source}: {where} likeness {likeness!r} is not one of {', '.join(LIKENESS)}")
        speaking = item.get("speaking", False)
        if not isinstance(speaking, bool):
            raise PlanError(f"{source}: {where} field 'speaking' must be true or false")
        lines = _lines(item.get("lines", []), where, source)
        steps.append(Step(title=title, likeness=likeness, speaking=speaking, lines=lines))
    _check_staging(steps, source)
    return tuple(steps)


def _check_staging(steps: list[Step], source: str) -> None:
    """Neutral room first; far and silent before nearer, nearer before speaking."""
    if steps[0].likeness != "none" or steps[0].speaking:
        raise PlanError(f"{source}: step 1 must be the neutral room (likeness = \"none\", not speaking)")
    seen_far = seen_near = False
    for i, step in enumerate(steps, 1):
        if step.lines and not step.speaking:
            raise PlanError(f"{source}: step {i} has lines but speaking = false")
        if step.speaking and not step.lines:
            raise PlanError(f"{source}: step {i} is speaking but has no lines")
        if step.likeness == "none" and step.speaking:
            raise PlanError(f"{source}: step {i} speaks without the likeness present")
        if step.likeness == "far":
            if step.speaking:
                raise PlanError(f"{source}: step {i}: the likeness is silent while far away")
            seen_far = True
        if step.likeness == "near":
            if not seen_far:
                raise PlanError(f"{source}: step {i} brings the likeness near before a far, silent step")
            if step.speaking and not seen_near:
                raise PlanError(f"{source}: step {i} speaks before a near, silent step")
            seen_near = True


def parse_plan(text: str, source: str = "plan", author: str = "") -> SessionPlan:
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PlanError(f"{source} is not valid TOML: {exc}") from None
    duration = float(_field(table, "session.duration_min", float, source))
    cap = float(_field(table, "session.hard_cap_min", float, source))
    if duration <= 0:
        raise PlanError(f"{source}: session.duration_min must be above 0")
    if not duration <= cap <= MAX_CAP_MIN:
        raise PlanError(f"{source}: session.hard_cap_min must be between duration_min ({duration:g}) "
                        f"and {MAX_CAP_MIN} minutes, got {cap:g}")
    room = _field(table, "session.room", str, source)
    safe_room = _field(table, "grounding.safe_room", str, source)
    for name, value in (("session.room", room), ("grounding.safe_room", safe_room)):
        if value not in ROOMS:
            raise PlanError(f"{source}: {name} {value!r} is not one of {', '.join(ROOMS)}")
    alert = _field(table, "suds.alert_above", float, source)
    every = float(_field(table, "suds.prompt_every_min", float, source, default=5))
    if not 0 <= alert <= 100 or alert != int(alert):
        raise PlanError(f"{source}: suds.alert_above must be a whole number from 0 to 100")
    if not 1 <= every <= 30:
        raise PlanError(f"{source}: suds.prompt_every_min must be between 1 and 30")
    resources = _field(table, "grounding.resources", list, source, default=[])
    if not all(isinstance(r, str) and r.strip() for r in resources):
        raise PlanError(f"{source}: grounding.resources must be a list of texts")
    fade = float(_field(table, "closing.fade_s", float, source))
    if not 1 <= fade <= 60:
        raise PlanError(f"{source}: closing.fade_s must be between 1 and 60 seconds")
    return SessionPlan(
        alias=_field(table, "client.alias", str, source),
        purpose=_field(table, "session.purpose", str, source),
        duration_min=duration, hard_cap_min=cap, room=room,
        steps=_steps(table.get("steps"), source),
        goodbye=_field(table, "closing.goodbye", str, source), fade_s=fade,
        reality=_field(table, "closing.reality", str, source),
        safe_room=safe_room, breathing=_field(table, "grounding.breathing", str, source),
        resources=tuple(r.strip() for r in resources),
        suds_alert_above=int(alert), suds_every_min=every, author=author,
    )


def planned_tracks(plan: SessionPlan) -> list[str]:
    return [ln.track for step in plan.steps for ln in step.lines if ln.track]


def with_spoken_lines(vault, plan: SessionPlan) -> SessionPlan:
    """The plan with each authored line that has no recording spoken by the synthetic voice now:
    one stored track per distinct text (named after its hash, so a re-run reuses it)."""
    import dataclasses
    import hashlib

    from assets.artifacts import KEYS
    from ..speech import say_text

    def voiced(line: Line) -> Line:
        if line.track:
            return line
        name = "session-" + hashlib.sha256(line.text.encode("utf-8")).hexdigest()[:12]
        if not vault.exists(KEYS["track"].format(name=name)):
            say_text(vault, line.text, name=name)
        return dataclasses.replace(line, track=name, approved_by=plan.author)

    steps = tuple(dataclasses.replace(s, lines=tuple(voiced(ln) for ln in s.lines)) for s in plan.steps)
    return dataclasses.replace(plan, steps=steps)
