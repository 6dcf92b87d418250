"""Session lifecycle: the pure state machine, then the frame loop on the simulated runtime
(which refuses calls made in the wrong state, as a real runtime does)."""

import pytest

from vr_app.xr.adapter import SessionState as S
from vr_app.xr.session import Call, SessionLifecycle
from vr_app.xr.simulated import SimXrError, SimulatedRuntime

from .conftest import step_until_focused


def drive(states):
    life = SessionLifecycle()
    return life, [life.on_state(s) for s in states]


def test_normal_lifecycle_asks_for_begin_end_and_destroy():
    life, calls = drive([S.IDLE, S.READY, S.SYNCHRONIZED, S.VISIBLE, S.FOCUSED, S.VISIBLE,
                         S.SYNCHRONIZED, S.STOPPING, S.IDLE, S.EXITING])
    flat = [c for cs in calls for c in cs]
    assert flat == [Call.BEGIN_SESSION, Call.RESUME, Call.PAUSE, Call.END_SESSION, Call.DESTROY]
    assert life.unexpected == [] and life.finished and not life.running


def test_running_visible_focused_flags_follow_state():
    life = SessionLifecycle()
    seen = {}
    for s in [S.IDLE, S.READY, S.SYNCHRONIZED, S.VISIBLE, S.FOCUSED, S.VISIBLE, S.SYNCHRONIZED, S.STOPPING]:
        life.on_state(s)
        seen[(len(seen), s)] = (life.running, life.visible, life.focused)
    assert list(seen.values()) == [
        (False, False, False), (True, False, False), (True, False, False), (True, True, False),
        (True, True, True), (True, True, False), (True, False, False), (False, False, False)]


def test_loss_pending_from_focus_pauses_and_destroys():
    life, calls = drive([S.IDLE, S.READY, S.SYNCHRONIZED, S.VISIBLE, S.FOCUSED, S.LOSS_PENDING])
    assert calls[-1] == [Call.PAUSE, Call.DESTROY]
    assert life.finished and not life.running and life.unexpected == []


def test_off_spec_transition_is_recorded_not_refused():
    life, _ = drive([S.IDLE, S.FOCUSED])
    assert life.unexpected == [(S.IDLE, S.FOCUSED)]
    assert life.state is S.FOCUSED


def test_simulated_runtime_refuses_out_of_order_calls():
    sim = SimulatedRuntime(eye_size=(8, 8))
    sim.create_session("local")
    with pytest.raises(SimXrError, match="SESSION_NOT_READY"):
        sim.begin_session()  # still UNKNOWN: the app has not polled IDLE/READY
    with pytest.raises(SimXrError, match="NOT_RUNNING"):
        sim.wait_frame()
    with pytest.raises(SimXrError, match="REFERENCE_SPACE"):
        sim.create_session("bogus")


def test_frame_loop_reaches_focus_then_user_quit_ends_cleanly(make_loop):
    loop, sim, scene, tm = make_loop()
    step_until_focused(loop, tm)
    assert loop.lifecycle.history[:6] == [S.UNKNOWN, S.IDLE, S.READY, S.SYNCHRONIZED, S.VISIBLE, S.FOCUSED]
    assert sim.frames_submitted > 0
    sim.user_quit()
    for _ in range(10):
        tm.step()
    assert loop.finished
    assert loop.lifecycle.history[-5:] == [S.VISIBLE, S.SYNCHRONIZED, S.STOPPING, S.IDLE, S.EXITING]
    assert sim.calls.count("end_session") == 1 and sim.calls[-1] == "destroy"
    assert loop.lifecycle.unexpected == []
    frames = sum(1 for c in sim.calls if c == "wait_frame")
    assert frames == sim.calls.count("end_frame")  # every begun frame was ended


def test_frame_loop_app_exit_request(make_loop):
    loop, sim, scene, tm = make_loop()
    step_until_focused(loop, tm)
    sim.request_exit()
    for _ in range(10):
        tm.step()
    assert loop.finished and loop.lifecycle.state is S.EXITING


def test_frame_loop_instance_loss_destroys_without_ending(make_loop):
    loop, sim, scene, tm = make_loop()
    step_until_focused(loop, tm)
    sim.lose_instance()
    tm.step()
    assert loop.finished and loop.lifecycle.state is S.LOSS_PENDING
    assert "destroy" in sim.calls and "end_session" not in sim.calls
    frames_before = sim.frames_submitted
    tm.step()
    assert sim.frames_submitted == frames_before  # no frame calls after loss


def test_synchronized_frames_are_not_rendered(make_loop):
    loop, sim, scene, tm = make_loop()
    tm.step()  # READY -> begin_session, first frame while still READY/SYNCHRONIZED
    tm.step()
    assert loop.lifecycle.state is S.SYNCHRONIZED
    assert sim.empty_frames >= 1 and sim.frames_submitted == 0
