"""Controller actions: suggested bindings checked against the spec's interaction-profile
paths, pointing + trigger selects by collision ray, grip holds, pause fades, hand pinch."""

import pytest

from vr_app.xr import actions as A
from vr_app.xr.adapter import Pose
from vr_app.xr.interaction import INDEX_TIP, THUMB_TIP
from vr_app.xr.simulated import PROFILE_COMPONENTS, SimXrError, SimulatedRuntime

from .conftest import EYE, aim_at, step_until_focused

CANDLE_XR = (0.0, 0.0, -2.0)   # the TinyRoom candle in tracking space (seat at eye height)
PHOTO_XR = (0.6, 0.0, -1.0)
FLOOR_XR = (1.0, -1.2, -1.0)
TRIGGER = {A.SIMPLE: "/input/select/click", A.TOUCH: "/input/trigger/value",
           A.INDEX: "/input/trigger/value", A.VIVE: "/input/trigger/value"}


@pytest.mark.parametrize("profile", A.PROFILES)
def test_each_profile_binds_select_pause_and_poses_on_both_hands(profile):
    pairs = A.BINDINGS[profile]
    for action in (A.SELECT, A.PAUSE, A.AIM, A.GRIP):
        hands = {path.split("/")[3] for name, path in pairs if name == action}
        assert hands == {"left", "right"} or (action == A.PAUSE and hands), (profile, action, hands)
    if profile != A.SIMPLE:
        assert {p.split("/")[3] for n, p in pairs if n == A.HOLD} == {"left", "right"}
        assert any(n == A.TELEPORT for n, _ in pairs)
    for name, path in pairs:
        hand, component = path.split("/")[3], "/" + "/".join(path.split("/")[4:])
        assert component in PROFILE_COMPONENTS[profile][hand], path


def test_runtime_accepts_all_suggested_bindings():
    sim = SimulatedRuntime(eye_size=(8, 8))
    sim.attach_actions(A.ACTIONS, A.BINDINGS)
    assert set(sim.bindings) == set(A.PROFILES)


def test_runtime_refuses_a_path_the_profile_lacks():
    sim = SimulatedRuntime(eye_size=(8, 8))
    bad = {A.SIMPLE: [(A.SELECT, "/user/hand/left/input/trigger/value")]}
    with pytest.raises(SimXrError, match="PATH_UNSUPPORTED"):
        sim.attach_actions(A.ACTIONS, bad)
    with pytest.raises(SimXrError, match="pose action"):
        sim.attach_actions(A.ACTIONS, {A.VIVE: [(A.AIM, "/user/hand/left/input/trigger/value")]})


def test_edge_has_hysteresis():
    e = A.Edge()
    assert [e.update(v) for v in (0.2, 0.75, 0.6, 0.8, 0.35, 0.25, 0.9)] == \
        [None, "press", None, None, None, "release", "press"]


def events(loop, kind):
    return [e for e in loop.hub.log if e.kind == kind]


def press(sim, tm, hand, component, frames=2):
    sim.set_input(hand, component, 1.0)
    for _ in range(frames):
        tm.step()
    sim.set_input(hand, component, 0.0)
    tm.step()


@pytest.mark.parametrize("profile", A.PROFILES)
def test_trigger_while_pointing_at_candle_selects_it(make_loop, profile):
    loop, sim, scene, tm = make_loop(SimulatedRuntime(eye_size=EYE, profile=profile))
    sim.controller_pose["right"] = aim_at(CANDLE_XR)
    step_until_focused(loop, tm)
    press(sim, tm, "right", TRIGGER[profile], frames=3)
    selects = events(loop, "select")
    assert len(selects) == 1  # held for 3 frames: one select, not three
    assert selects[0].value == "candle-1" and selects[0].hand == "right"
    assert selects[0].point.y == pytest.approx(2.0, abs=1e-3)


def test_trigger_pointing_elsewhere_selects_nothing(make_loop):
    loop, sim, scene, tm = make_loop()
    sim.controller_pose["right"] = aim_at((-3.0, 1.5, -2.0))  # up and to the left: empty wall
    step_until_focused(loop, tm)
    press(sim, tm, "right", "/input/trigger/value")
    assert events(loop, "select") == []


def test_untracked_controller_selects_nothing(make_loop):
    loop, sim, scene, tm = make_loop()
    step_until_focused(loop, tm)  # controller_pose stays None: not tracked
    press(sim, tm, "right", "/input/trigger/value")
    assert events(loop, "select") == [] and loop.anchors.right_aim.is_hidden()


def test_input_is_ignored_without_focus(make_loop):
    loop, sim, scene, tm = make_loop()
    sim.controller_pose["right"] = aim_at(CANDLE_XR)
    step_until_focused(loop, tm)
    sim.show_system_menu()
    tm.step()
    press(sim, tm, "right", "/input/trigger/value")
    assert events(loop, "select") == []
    assert events(loop, "pause")[-1].value == "system"
    sim.hide_system_menu()
    tm.step()
    assert events(loop, "resume")


def test_grip_holds_the_photo_and_release_puts_it_down(make_loop):
    loop, sim, scene, tm = make_loop()
    sim.controller_pose["left"] = aim_at(PHOTO_XR)
    step_until_focused(loop, tm)
    render = loop.scene
    sim.set_input("left", "/input/squeeze/value", 1.0)
    tm.step()
    assert events(loop, "hold")[0].value == "photo-1"
    assert scene.photo.get_parent() == loop.anchors.left_hand
    start = scene.photo.get_pos(render)
    moved = aim_at(PHOTO_XR)
    x, y, z = moved.position
    sim.controller_pose["left"] = Pose((x, y + 0.3, z), moved.orientation)
    tm.step()
    assert scene.photo.get_pos(render).z == pytest.approx(start.z + 0.3, abs=1e-4)  # it follows the hand
    sim.set_input("left", "/input/squeeze/value", 0.0)
    tm.step()
    assert events(loop, "release") and scene.photo.get_parent() == render
    assert scene.photo.get_pos(render).z == pytest.approx(start.z + 0.3, abs=1e-4)


def test_pause_button_fades_and_toggles(make_loop):
    loop, sim, scene, tm = make_loop()
    step_until_focused(loop, tm)
    press(sim, tm, "right", "/input/b/click", frames=1)
    assert events(loop, "pause")[-1].value == "user" and loop.comfort.paused
    for _ in range(40):
        tm.step()
    assert loop.comfort.fader.level == pytest.approx(loop.comfort.config.fade_alpha)
    assert not loop.comfort.fader.cards[0].is_hidden()
    press(sim, tm, "left", "/input/menu/click", frames=1)
    assert events(loop, "resume") and not loop.comfort.paused
    for _ in range(40):
        tm.step()
    assert loop.comfort.fader.level == 0.0 and loop.comfort.fader.cards[0].is_hidden()


def test_paused_view_is_darker(make_loop):
    loop, sim, scene, tm = make_loop()
    step_until_focused(loop, tm)
    bright = sim.submitted[0][..., :3].astype(float).mean()
    loop.comfort.set_paused(True)
    for _ in range(40):
        tm.step()
    dim = sim.submitted[0][..., :3].astype(float).mean()
    assert dim < bright * (1 - loop.comfort.config.fade_alpha) + 2


def pinch_hand(aim: Pose, gap: float):
    joints = [aim] * 26
    joints[THUMB_TIP], joints[INDEX_TIP] = Pose((0.0, 0.0, 0.0)), Pose((gap, 0.0, 0.0))
    return joints


def test_hand_tracking_pinch_selects_when_no_controller(make_loop):
    loop, sim, scene, tm = make_loop(SimulatedRuntime(eye_size=EYE, hand_tracking=True))
    sim.joints["right"] = pinch_hand(aim_at(CANDLE_XR), gap=0.08)
    step_until_focused(loop, tm)
    assert not loop.anchors.right_hand.is_hidden()  # the palm drives the hand anchor
    assert events(loop, "select") == []
    sim.joints["right"] = pinch_hand(aim_at(CANDLE_XR), gap=0.005)
    tm.step()
    assert [e.value for e in events(loop, "select")] == ["candle-1"]
