"""The permission matrix row by row, and consent scopes, expiry and revocation."""

from __future__ import annotations

import datetime as dt

import pytest

from assets.errors import ConsentError, PermissionDenied
from generation.vault.consent import parse_consent
from generation.vault.roles import MATRIX, ROLES, Action, authorize
from tests.conftest import consent_toml

pytestmark = pytest.mark.production_kdf  # the vault is tested with the cost it ships with

# The documented matrix (README "Roles and permissions"), written out independently of the code.
#            owner family therapist viewer
EXPECTED = {
    "show":            "YYYY",
    "view":            "YYYY",
    "ingest":          "YY..",
    "ingest_voice":    "YY..",
    "train":           "YY..",
    "author":          "YYY.",
    "use_voice":       "YYY.",
    "export_video":    "YY..",
    "therapy":         "Y.Y.",
    "shared_room":     "YYYY",
    "manage_members":  "Y...",
    "manage_consent":  "Y...",
    "read_audit":      "Y.Y.",
    "export_memories": "Y...",
    "delete":          "Y...",
}
ROWS = [(action, role, flags[i] == "Y") for action, flags in EXPECTED.items() for i, role in enumerate(ROLES)]


def full_consent():
    return parse_consent(consent_toml())


def test_matrix_covers_every_action():
    assert set(EXPECTED) == {a.value for a in Action} == {a.value for a in MATRIX}


@pytest.mark.parametrize("action,role,allowed", ROWS, ids=[f"{a}-{r}" for a, r, _ in ROWS])
def test_matrix_row(action, role, allowed):
    if allowed:
        authorize(role, full_consent(), Action(action))
    else:
        with pytest.raises(PermissionDenied, match=f"role '{role}'"):
            authorize(role, full_consent(), Action(action))


@pytest.mark.parametrize("action,scope", [(Action.VIEW, "private_viewing"), (Action.EXPORT_VIDEO, "video_export"),
                                          (Action.THERAPY, "therapy"), (Action.SHARED_ROOM, "shared_room")])
def test_missing_scope_is_named(action, scope):
    others = [s for s in ("private_viewing", "therapy", "shared_room", "video_export") if s != scope]
    consent = parse_consent(consent_toml(scopes=others))
    with pytest.raises(ConsentError, match=f"scope '{scope}'"):
        authorize("owner", consent, action)


def test_face_and_voice_are_separate():
    no_voice = parse_consent(consent_toml(voice=False))
    authorize("owner", no_voice, Action.INGEST)
    with pytest.raises(ConsentError, match="voice"):
        authorize("owner", no_voice, Action.USE_VOICE)
    no_face = parse_consent(consent_toml(face=False))
    with pytest.raises(ConsentError, match="face"):
        authorize("owner", no_face, Action.TRAIN)


def test_revoked_consent_allows_only_memories_delete_and_audit():
    consent = full_consent()
    consent.revoked_at, consent.revoked_by = "2026-01-01T00:00:00+00:00", "anna"
    still = {Action.EXPORT_MEMORIES, Action.DELETE, Action.READ_AUDIT}
    for action in Action:
        if action in still:
            authorize("owner", consent, action)
        else:
            with pytest.raises(ConsentError, match="revoked"):
                authorize("owner", consent, action)


def test_consent_that_expired_after_creation_blocks_use():
    consent = full_consent()
    consent.expires = dt.date.today() - dt.timedelta(days=1)
    with pytest.raises(ConsentError, match="expired"):
        authorize("owner", consent, Action.VIEW)


@pytest.mark.parametrize("field", ["name", "relation", "basis", "face", "voice", "scopes", "expires"])
def test_consent_missing_field_is_named(field):
    with pytest.raises(ConsentError, match=f"missing field '.*{field}'"):
        parse_consent(consent_toml(drop=field))


@pytest.mark.parametrize("text,message", [
    ("this is = not [ toml", "not valid TOML"),
    (consent_toml(expires="2001-01-01"), "expired on 2001-01-01"),
    (consent_toml(scopes=["private_viewing", "telepathy"]), "unknown scope 'telepathy'"),
    (consent_toml().replace("next_of_kin", "neighbour"), "basis 'neighbour'"),
    (consent_toml().replace("face = true", 'face = "yes"'), "must be true or false"),
])
def test_consent_bad_values(text, message):
    with pytest.raises(ConsentError, match=message):
        parse_consent(text)


def test_readme_shows_the_matrix_the_code_enforces():
    from pathlib import Path

    from generation.vault.roles import matrix_markdown

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text("utf-8")
    assert matrix_markdown() in readme
