from __future__ import annotations

import pytest

from generation.session.plan import EXAMPLE, PlanError, SessionPlan, parse_plan
from tests.conftest import OWNER_PASS
from tests.session.conftest import PLAN_TOML


def test_example_is_a_valid_plan_and_round_trips():
    plan = parse_plan(EXAMPLE, author="dr-lee")
    assert [s.likeness for s in plan.steps] == ["none", "far", "near", "near"]
    assert plan.steps[3].lines[1].track == "hello" and plan.steps[3].lines[1].approved_by == "dr-lee"
    assert plan.hard_cap_min <= 70
    assert SessionPlan.from_json(plan.to_json()) == plan


@pytest.mark.parametrize("edit, message", [
    (('likeness = "none"                  # none | far | near', 'likeness = "far"'), "step 1 must be the neutral room"),
    (('title = "Rose appears at a distance"\nlikeness = "far"', 'title = "x"\nlikeness = "near"'),
     "near before a far"),
    (('title = "Rose comes nearer"\nlikeness = "near"', 'title = "x"\nlikeness = "near"\nspeaking = true\n'
                                                        'lines = [{ text = "hi" }]'), "speaks before a near"),
    (("hard_cap_min = 60", "hard_cap_min = 75"), "between duration_min"),
    (("hard_cap_min = 60", "hard_cap_min = 30"), "between duration_min"),
    ((', approved_by = "dr-lee" }', ' }'), "without approved_by"),
    (("alert_above = 70", "alert_above = 170"), "alert_above"),
    (('room = "garden"                    # garden', 'room = "moon"  #'), "not one of"),
    (('{ text = "I am proud of you." }', '{ text = "I am proud of you.", voice = "clone" }'), "unknown field"),
    (('goodbye = "Thank you', 'goodbye = "" #'), "closing.goodbye"),
])
def test_bad_plans_are_refused_with_one_line(edit, message):
    old, new = edit
    assert old in EXAMPLE
    with pytest.raises(PlanError, match=message) as info:
        parse_plan(EXAMPLE.replace(old, new))
    assert "\n" not in str(info.value)


def test_not_toml_is_refused():
    with pytest.raises(PlanError, match="not valid TOML"):
        parse_plan("steps = [")


def test_cli_stores_plan_encrypted_and_audits(cli, make_subject, tmp_path):
    vault = make_subject("rose")
    path = tmp_path / "plan.toml"
    path.write_text(PLAN_TOML)
    result = cli("session", "plan", "rose", "--file", str(path), passphrase=OWNER_PASS)
    assert result.exit_code == 0, result.output
    assert "4 steps" in result.output
    from generation.session.store import PLAN_KEY, load_plan

    assert load_plan(vault).alias == "Client A"
    blob = next((vault.folder / "blobs").glob(vault.info(PLAN_KEY).id))
    assert b"Client A" not in blob.read_bytes()  # stored encrypted
    assert "session_plan_stored" in [e.action for e in vault.audit_entries()]


def test_cli_refuses_a_plan_playing_a_missing_track(cli, make_subject, tmp_path):
    make_subject("rose")
    path = tmp_path / "plan.toml"
    path.write_text(EXAMPLE)
    result = cli("session", "plan", "rose", "--file", str(path), passphrase=OWNER_PASS)
    assert result.exit_code == 2
    assert "track 'hello'" in result.output


def test_cli_needs_the_therapy_scope(cli, make_subject, tmp_path):
    make_subject("rose", scopes=["private_viewing"])
    path = tmp_path / "plan.toml"
    path.write_text(PLAN_TOML)
    result = cli("session", "plan", "rose", "--file", str(path), passphrase=OWNER_PASS)
    assert result.exit_code == 7 and "therapy" in result.output


def test_plan_example_command_prints_the_format(cli):
    result = cli("session", "plan-example")
    assert result.exit_code == 0
    parse_plan(result.output)


@pytest.mark.slow
def test_speak_gives_authored_lines_a_voice_once(cli, make_subject, tmp_path):
    make_subject("rose")
    path = tmp_path / "plan.toml"
    path.write_text(PLAN_TOML)
    assert cli("session", "plan", "rose", "--file", str(path), "--speak").exit_code == 0
    from generation.session.store import load_plan
    from generation.vault import open_vault
    from vr_app.inputs import load_track

    with open_vault("rose", OWNER_PASS) as vault:
        plan = load_plan(vault)
        lines = [ln for step in plan.steps for ln in step.lines]
        assert len(lines) == 2 and all(ln.track.startswith("session-") and ln.approved_by == "anna" for ln in lines)
        track = load_track(vault, lines[0].track)
        assert track.audio is not None and track.duration > 0.5  # "I am proud of you." spoken
        made = [e for e in vault.audit_entries() if e.action == "track_from_text"]
    assert len(made) == 2
    assert cli("session", "plan", "rose", "--file", str(path), "--speak").exit_code == 0  # reuses the tracks
    with open_vault("rose", OWNER_PASS) as vault:
        assert len([e for e in vault.audit_entries() if e.action == "track_from_text"]) == 2
