"""The one permission matrix: which role may do what, and which consent it needs.

Every command asks `authorize(member_role, consent, action)` before it touches data, so
this table is the whole policy. README.md prints the same table.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from assets.errors import ConsentError, PermissionDenied

ROLES = ("owner", "family", "therapist", "viewer")


@dataclass(frozen=True)
class Rule:
    roles: frozenset[str]
    scope: str | None = None  # consent scope the action needs, if any
    face: bool = False  # needs consent to use the face
    voice: bool = False  # needs consent to use the voice
    when_revoked: bool = False  # still allowed after consent is revoked or expired


class Action(str, Enum):
    VIEW = "view"
    INGEST = "ingest"
    INGEST_VOICE = "ingest_voice"
    TRAIN = "train"
    AUTHOR = "author"  # write the lines the likeness speaks
    USE_VOICE = "use_voice"  # speak with the person's own recorded voice
    EXPORT_VIDEO = "export_video"
    THERAPY = "therapy"
    SHARED_ROOM = "shared_room"
    MANAGE_MEMBERS = "manage_members"
    MANAGE_CONSENT = "manage_consent"
    READ_AUDIT = "read_audit"
    EXPORT_MEMORIES = "export_memories"
    DELETE = "delete"
    SHOW = "show"


_ALL = frozenset(ROLES)
_O = frozenset({"owner"})
_OF = frozenset({"owner", "family"})

MATRIX: dict[Action, Rule] = {
    Action.SHOW: Rule(_ALL),
    Action.VIEW: Rule(_ALL, scope="private_viewing", face=True),
    Action.INGEST: Rule(_OF, face=True),
    Action.INGEST_VOICE: Rule(_OF, voice=True),
    Action.TRAIN: Rule(_OF, face=True),
    Action.AUTHOR: Rule(frozenset({"owner", "family", "therapist"}), scope="private_viewing"),
    Action.USE_VOICE: Rule(_OF | {"therapist"}, voice=True),
    Action.EXPORT_VIDEO: Rule(_OF, scope="video_export", face=True),
    Action.THERAPY: Rule(frozenset({"owner", "therapist"}), scope="therapy", face=True),
    Action.SHARED_ROOM: Rule(_ALL, scope="shared_room", face=True),
    Action.MANAGE_MEMBERS: Rule(_O),
    Action.MANAGE_CONSENT: Rule(_O),
    Action.READ_AUDIT: Rule(frozenset({"owner", "therapist"}), when_revoked=True),
    Action.EXPORT_MEMORIES: Rule(_O, when_revoked=True),
    Action.DELETE: Rule(_O, when_revoked=True),
}


def authorize(role: str, consent, action: Action) -> None:
    """Raise PermissionDenied or ConsentError naming what is missing; return None when allowed.

    `consent` is a ConsentRecord (or None when the vault has none, which never happens
    after `subject create`).
    """
    rule = MATRIX[action]
    if role not in rule.roles:
        allowed = ", ".join(r for r in ROLES if r in rule.roles)
        raise PermissionDenied(f"role '{role}' may not {action.value.replace('_', ' ')} (allowed: {allowed})")
    if rule.when_revoked:
        return
    if consent is None:
        raise ConsentError("this subject has no consent record")
    consent.check_active()
    if rule.face and not consent.face:
        raise ConsentError(f"consent does not allow use of the face (needed to {action.value.replace('_', ' ')})")
    if rule.voice and not consent.voice:
        raise ConsentError(f"consent does not allow use of the voice (needed to {action.value.replace('_', ' ')})")
    if rule.scope and rule.scope not in consent.scopes:
        raise ConsentError(f"consent lacks the scope '{rule.scope}' (needed to {action.value.replace('_', ' ')})")


def matrix_markdown() -> str:
    """The matrix as a Markdown table, for the README and `memorial subject roles`."""
    head = "| action | " + " | ".join(ROLES) + " | consent needed |"
    sep = "|" + "---|" * (len(ROLES) + 2)
    rows = [head, sep]
    for action, rule in MATRIX.items():
        needs = []
        if rule.scope:
            needs.append(f"scope `{rule.scope}`")
        if rule.face:
            needs.append("face")
        if rule.voice:
            needs.append("voice")
        if rule.when_revoked:
            needs = ["none (works after revocation)"]
        cells = " | ".join("yes" if r in rule.roles else "—" for r in ROLES)
        rows.append(f"| {action.value} | {cells} | {', '.join(needs) or 'active consent'} |")
    return "\n".join(rows)
