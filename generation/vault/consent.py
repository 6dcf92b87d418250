"""The consent record: who consents, on what basis, to what, and until when.

It arrives as TOML, is validated here, and is stored in the vault signed with the
owners' Ed25519 key, so a record edited outside the app fails verification.
"""

from __future__ import annotations

import datetime as dt
import json
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path

from assets.errors import ConsentError, UsageError

SCOPES = ("private_viewing", "therapy", "shared_room", "video_export")
BASES = ("next_of_kin", "executor", "prior_consent", "public_domain")
CONSENT_VERSION = 1

EXAMPLE = """\
# Consent for Memorial VR. Every field is required unless marked optional.
[subject]
name = "Rose Example"            # the person who died

[given_by]
name = "Anna Example"            # who gives this consent
relation = "daughter"
basis = "next_of_kin"            # next_of_kin | executor | prior_consent | public_domain

[permissions]
face = true                      # may the face be learned and shown?
voice = false                    # may the person's own voice be used?
scopes = ["private_viewing", "therapy"]  # private_viewing, therapy, shared_room, video_export
expires = 2031-12-31

[wishes]
text = "No jokes in her voice, please."  # optional
"""


@dataclass
class ConsentRecord:
    subject_name: str
    given_by: str
    relation: str
    basis: str
    face: bool
    voice: bool
    scopes: list[str]
    expires: dt.date
    wishes: str = ""
    revoked_at: str | None = None
    revoked_by: str | None = None
    version: int = CONSENT_VERSION
    extra: dict = field(default_factory=dict)

    def check_active(self, today: dt.date | None = None) -> None:
        today = today or dt.date.today()
        if self.revoked_at:
            raise ConsentError(f"consent was revoked on {self.revoked_at[:10]} by {self.revoked_by}; "
                               "only export-memories and delete are possible")
        if self.expires < today:
            raise ConsentError(f"consent expired on {self.expires.isoformat()}; "
                               "the owner can renew it with `memorial subject consent NAME --consent FILE`")

    def to_json(self) -> dict:
        data = asdict(self)
        data["expires"] = self.expires.isoformat()
        return data

    @classmethod
    def from_json(cls, data: dict) -> "ConsentRecord":
        data = dict(data)
        data["expires"] = dt.date.fromisoformat(data["expires"])
        return cls(**data)

    def canonical_bytes(self) -> bytes:
        return json.dumps(self.to_json(), sort_keys=True, separators=(",", ":")).encode("utf-8")


def _get(table: dict, dotted: str, kind, source: str):
    node = table
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            raise ConsentError(f"{source}: missing field '{dotted}'")
        node = node[part]
    if kind is str and (not isinstance(node, str) or not node.strip()):
        raise ConsentError(f"{source}: field '{dotted}' must be non-empty text")
    if kind is bool and not isinstance(node, bool):
        raise ConsentError(f"{source}: field '{dotted}' must be true or false")
    return node


def parse_consent(text: str, source: str = "consent", today: dt.date | None = None) -> ConsentRecord:
    """Validate a consent TOML text; raises ConsentError with one line naming the problem."""
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConsentError(f"{source} is not valid TOML: {exc}") from None
    basis = _get(table, "given_by.basis", str, source)
    if basis not in BASES:
        raise ConsentError(f"{source}: basis {basis!r} is not one of {', '.join(BASES)}")
    scopes = _get(table, "permissions.scopes", list, source)
    if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
        raise ConsentError(f"{source}: field 'permissions.scopes' must be a list of names")
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown:
        raise ConsentError(f"{source}: unknown scope {unknown[0]!r} (known: {', '.join(SCOPES)})")
    expires = _get(table, "permissions.expires", None, source)
    if isinstance(expires, dt.datetime):
        expires = expires.date()
    if not isinstance(expires, dt.date):
        raise ConsentError(f"{source}: field 'permissions.expires' must be a date like 2031-12-31")
    today = today or dt.date.today()
    if expires < today:
        raise ConsentError(f"{source}: consent expired on {expires.isoformat()}")
    wishes = table.get("wishes", {}).get("text", "") if isinstance(table.get("wishes"), dict) else ""
    return ConsentRecord(
        subject_name=_get(table, "subject.name", str, source),
        given_by=_get(table, "given_by.name", str, source),
        relation=_get(table, "given_by.relation", str, source),
        basis=basis,
        face=_get(table, "permissions.face", bool, source),
        voice=_get(table, "permissions.voice", bool, source),
        scopes=sorted(set(scopes)),
        expires=expires,
        wishes=str(wishes),
    )


def load_consent_file(path: str | Path) -> ConsentRecord:
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"consent file {path} does not exist") from None
    except OSError as exc:
        raise UsageError(f"cannot read consent file {path}: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ConsentError(f"{path.name} is not valid TOML: not UTF-8 text") from None
    return parse_consent(text, source=path.name)
