"""The client's safety state machine, driven by a fake clock (no rendering, no network)."""

from __future__ import annotations

import pytest

from vr_app.session.controller import LABEL, PAUSE_DIM, SessionController


class Clock:
    def __init__(self):
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def ctl(plan, clock):
    c = SessionController(plan=plan.to_json(), clock=clock)
    c.link_alive()
    return c


def started(ctl):
    ctl.command("start", 1)
    return ctl


def heartbeat_for(ctl, clock, seconds, step=1.0):
    """Advance time with the console's heartbeats arriving."""
    end = clock.t + seconds
    while clock.t < end:
        clock.t += step
        ctl.link_alive()
        ctl.tick()


def test_waits_in_the_neutral_room_until_start(ctl):
    v = ctl.view()
    assert (v.mode, v.room, v.likeness) == ("waiting", "neutral", "none")
    ctl.command("next", 1)
    ctl.command("pause", 2)
    assert ctl.view().mode == "waiting"
    started(ctl)
    v = ctl.view()
    assert (v.mode, v.room, v.likeness, v.suds_prompt) == ("running", "neutral", "none", True)


def test_steps_bring_the_likeness_far_then_near_then_speaking(ctl):
    started(ctl)
    seen = []
    for seq in range(2, 9):
        ctl.command("next", seq)
        v = ctl.view()
        seen.append((v.step, v.room, v.likeness, v.line))
    assert seen[:3] == [(1, "memorial", "far", ""), (2, "memorial", "near", ""), (3, "memorial", "near", "")]
    assert seen[3][3] == "I am proud of you."
    assert seen[4][3] == "Hello, love."
    assert seen[5:] == [seen[4], seen[4]]  # nothing after the last line: the therapist ends the session
    assert ctl.ack == 8


def test_pause_freezes_dims_and_silences_and_resume_restores(ctl):
    started(ctl)
    for seq in (2, 3, 4, 5):
        ctl.command("next", seq)
    assert ctl.view().line
    ctl.command("pause", 6)
    v = ctl.view()
    assert (v.mode, v.frozen, v.volume, v.line) == ("paused", True, 0.0, "")
    assert v.dim == pytest.approx(PAUSE_DIM)
    ctl.command("resume", 7)
    v = ctl.view()
    assert (v.mode, v.frozen, v.volume, v.dim) == ("running", False, 1.0, 0.0)


def test_grounding_shows_the_safe_room_with_the_breathing_cue(ctl, plan):
    started(ctl)
    ctl.command("next", 2)
    ctl.command("grounding", 3)
    v = ctl.view()
    assert (v.room, v.likeness, v.message) == ("safe", "none", plan.breathing)
    ctl.command("next", 4)  # no step advances while grounding
    ctl.command("pause", 5)
    ctl.command("resume", 6)
    assert ctl.view().mode == "grounding"  # a pause inside grounding returns to grounding
    ctl.command("grounding", 7)  # pressed again: back to the session where it was
    v = ctl.view()
    assert (v.mode, v.step, v.likeness) == ("running", 1, "far")
    ctl.command("grounding", 8)
    ctl.command("resume", 9)
    assert ctl.view().mode == "running"


def test_end_runs_the_closing_ritual_then_the_reality_statement(ctl, clock, plan):
    started(ctl)
    ctl.command("next", 2)
    ctl.command("end", 3)
    v = ctl.view()
    assert (v.mode, v.line, v.dim) == ("closing", plan.goodbye, 0.0)
    heartbeat_for(ctl, clock, plan.fade_s / 2)
    assert ctl.view().dim == pytest.approx(0.5, abs=0.01)
    assert ctl.view().volume == pytest.approx(0.5, abs=0.01)
    heartbeat_for(ctl, clock, plan.fade_s / 2 + 1)
    v = ctl.view()
    assert (v.mode, v.room, v.likeness, v.message, v.dim) == ("ended", "neutral", "none", plan.reality, 0.0)


@pytest.mark.parametrize("mode_cmds", [[], ["next"], ["next", "pause"], ["next", "grounding"], ["next", "end"]])
def test_emergency_stop_turns_everything_off_from_any_mode(ctl, mode_cmds):
    started(ctl)
    for seq, name in enumerate(mode_cmds, 2):
        ctl.command(name, seq)
    ctl.command("emergency_stop", 20)
    v = ctl.view()
    assert (v.mode, v.room, v.likeness, v.volume, v.line, v.dim) == ("stopped", "neutral", "none", 0.0, "", 0.0)
    for seq, name in enumerate(("resume", "next", "start", "grounding"), 21):
        ctl.command(name, seq)
        assert ctl.view().mode == "stopped"


def test_the_client_can_always_leave(ctl):
    ctl.leave()  # even before the start
    assert ctl.view().mode == "left"
    ctl.command("start", 1)
    ctl.command("emergency_stop", 2)
    v = ctl.view()
    assert (v.mode, v.room, v.volume) == ("left", "neutral", 0.0)
    assert [e.kind for e in ctl.drain_events()] == ["left"]


def test_taking_the_headset_off_pauses(ctl):
    started(ctl)
    ctl.command("next", 2)
    ctl.headset(False)
    v = ctl.view()
    assert (v.mode, v.reason, v.volume) == ("paused", "headset off", 0.0)
    ctl.headset(True)
    assert ctl.view().mode == "paused"  # the therapist resumes, not the headset
    ctl.command("resume", 3)
    assert ctl.view().mode == "running"


def test_losing_the_console_pauses_into_the_neutral_room(ctl, clock):
    started(ctl)
    ctl.command("next", 2)
    clock.t += ctl.link_timeout_s - 0.1
    ctl.tick()
    assert ctl.view().mode == "running"
    clock.t += 0.2
    ctl.tick()
    v = ctl.view()
    assert (v.mode, v.room, v.likeness, v.volume, v.reason) == ("paused", "neutral", "none", 0.0, "link lost")
    assert [e.kind for e in ctl.drain_events()] == ["link_lost"]
    ctl.tick()
    assert ctl.drain_events() == []  # reported once
    ctl.link_alive()  # the console is back: still paused until the therapist resumes
    ctl.tick()
    assert ctl.view().mode == "paused"
    ctl.command("resume", 3)
    assert (ctl.view().mode, ctl.view().room) == ("running", "memorial")


def test_hard_cap_warns_then_closes_then_ends(ctl, clock, plan):
    started(ctl)
    ctl.command("next", 2)
    start, cap = clock.t, plan.hard_cap_min * 60

    def until(left_s):  # advance with heartbeats until `left_s` seconds remain
        heartbeat_for(ctl, clock, start + cap - left_s - clock.t, step=1.0)

    until(ctl.cap_warning_s + 1)
    assert ctl.drain_events() == []
    until(ctl.cap_warning_s - 1)
    assert [e.kind for e in ctl.drain_events()] == ["cap_warning"]
    assert "will end in 5 minutes" in ctl.view().message
    until(plan.fade_s + 1)
    assert ctl.view().mode == "running"
    until(plan.fade_s - 1)
    assert ctl.view().mode == "closing"
    until(0)
    assert ctl.view().mode == "ended"
    assert ctl.time_left() == 0


def test_hard_cap_ends_a_paused_session_too(ctl, clock, plan):
    started(ctl)
    ctl.command("pause", 2)
    heartbeat_for(ctl, clock, plan.hard_cap_min * 60 + 1, step=10.0)
    v = ctl.view()
    assert (v.mode, v.room, v.reason) == ("ended", "neutral", "hard cap")
    assert "cap_end" in [e.kind for e in ctl.drain_events()]


def test_suds_is_asked_at_each_step_and_every_few_minutes(ctl, clock, plan):
    started(ctl)
    assert ctl.view().suds_prompt
    assert ctl.answer_suds(30) == 0
    assert not ctl.view().suds_prompt
    ctl.command("next", 2)
    assert ctl.view().suds_prompt
    ctl.answer_suds(40)
    heartbeat_for(ctl, clock, plan.suds_every_min * 60 - 2)
    assert not ctl.view().suds_prompt
    heartbeat_for(ctl, clock, 3)
    assert ctl.view().suds_prompt
    with pytest.raises(ValueError):
        ctl.answer_suds(101)


def test_the_label_is_in_every_view(ctl, clock):
    views = [ctl.view()]
    started(ctl)
    for seq, name in enumerate(["next", "pause", "resume", "grounding", "pause", "end", "emergency_stop"], 2):
        ctl.command(name, seq)
        views.append(ctl.view())
    ctl.leave()
    views.append(ctl.view())
    assert {v.label for v in views} == {LABEL}
    assert len({v.mode for v in views}) >= 6


def test_unknown_command_is_refused(ctl):
    with pytest.raises(ValueError):
        ctl.command("reboot", 1)


def test_grounding_breathing_cue_follows_in_hold_out(ctl, clock):
    from vr_app.session.controller import BREATH

    started(ctl)
    ctl.command("grounding", 2)
    t0 = clock.t
    inhale, hold, exhale = BREATH
    expected = {0.0: 0.0, inhale / 2: 0.5, inhale: 1.0, inhale + hold / 2: 1.0, inhale + hold: 1.0,
                inhale + hold + exhale / 2: 0.5, inhale + hold + exhale: 0.0, 2 * (inhale + hold + exhale): 0.0}
    for t, fullness in expected.items():
        clock.t = t0 + t
        assert ctl.view().breath == pytest.approx(fullness, abs=1e-6), t
    ctl.command("grounding", 3)  # back to the session: no cue
    assert ctl.view().breath == 0.0


def test_a_finished_line_is_reported_with_its_words(ctl):
    started(ctl)
    for seq in (2, 3, 4, 5):
        ctl.command("next", seq)
    ctl.line_done()
    assert [(e.kind, e.detail) for e in ctl.drain_events()] == [("line_done", "I am proud of you.")]
    assert ctl.view().line == ""
