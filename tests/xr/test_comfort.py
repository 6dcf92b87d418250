"""Comfort: nothing moves the view but the user's head (no smooth locomotion, thumbsticks do
not slide the seat), teleport only when standing, and the frame-time governor."""

import numpy as np
import pytest

from vr_app.xr import tasks as T
from vr_app.xr.comfort import FrameGovernor
from vr_app.xr.events import EventHub
from vr_app.xr.simulated import SimulatedRuntime

from .conftest import EYE, aim_at, step_until_focused

FLOOR_XR = (1.0, -1.2, -1.0)


def camera_mats(loop):
    return [np.array(cam.get_mat(loop.scene)) for cam in loop.cameras]


@pytest.mark.parametrize("standing", [False, True])
def test_no_camera_motion_without_user_input(make_loop, standing):
    loop, sim, scene, tm = make_loop(standing=standing)
    step_until_focused(loop, tm)
    first = camera_mats(loop)
    # Thumbsticks pushed (no locomotion is bound to them), a slow frame for the governor,
    # a pause fade: none of these may move the camera.
    sim.set_input("right", "/input/thumbstick/y", 1.0)
    sim.set_input("left", "/input/thumbstick/x", -1.0)
    loop.stats.cpu_ms.extend([50.0] * 10)
    for i in range(120):
        tm.step()
        for a, b in zip(first, camera_mats(loop)):
            assert np.array_equal(a, b), f"camera moved on frame {i}"
    assert loop.stats.frames >= 120 and len(scene.updates) == 0  # TinyRoom is not driven here


def click_teleport_at_floor(make_loop, standing):
    """Point the right controller at the floor and click the thumbstick for one frame.
    Returns (loop, task manager, head position before the click, the teleport events)."""
    loop, sim, scene, tm = make_loop(standing=standing)
    sim.controller_pose["right"] = aim_at(FLOOR_XR)
    step_until_focused(loop, tm)
    before = loop.anchors.head.get_pos(loop.scene)
    sim.set_input("right", "/input/thumbstick/click", 1.0)
    tm.step()
    return loop, tm, before, [e for e in loop.hub.log if e.kind == "teleport"]


def test_teleport_refused_when_seated(make_loop):
    loop, tm, before, teleports = click_teleport_at_floor(make_loop, standing=False)
    assert len(teleports) == 1  # the floor was hit and asked for...
    assert loop.anchors.head.get_pos(loop.scene) == before  # ...but a seated user does not move


def test_teleport_moves_a_standing_user_to_the_floor_point(make_loop):
    loop, tm, before, teleports = click_teleport_at_floor(make_loop, standing=True)
    target = teleports[0].point
    tm.step()
    head = loop.anchors.head.get_pos(loop.scene)
    assert (head.x, head.y) == pytest.approx((target.x, target.y), abs=1e-4)
    assert head.z == pytest.approx(before.z, abs=1e-6)  # no vertical move
    assert loop.comfort.teleport(target + (10, 0, 0)) is False  # outside the room


def test_governor_drops_detail_fast_and_recovers_slowly():
    hub = EventHub()
    gov = FrameGovernor(hub, max_level=3, down_frames=5, up_frames=90)
    levels = [gov.update(13.0, 13.9) for _ in range(10)]
    assert levels[3] == 0 and levels[4] == 1 and levels[9] == 2  # each level after 5 slow frames
    levels = [gov.update(5.0, 13.9) for _ in range(89)]
    assert set(levels) == {2}
    assert gov.update(5.0, 13.9) == 1
    assert [e.value for e in hub.log] == [1, 2, 1]
    mid = [gov.update(10.0, 13.9) for _ in range(200)]  # between thresholds: stays put
    assert set(mid) == {1}


def test_missed_frames_are_counted(make_loop):
    loop, sim, scene, tm = make_loop()
    step_until_focused(loop, tm)
    sim.skip_frames = 2
    tm.step()
    assert loop.stats.missed == 2
    s = loop.stats.summary()
    assert s["missed_frames"] == 2 and s["budget_ms"] == pytest.approx(1000 / 72, abs=0.01)
    assert "missed 2" in loop.stats.line()


def test_refresh_rate_and_eye_size_requests(host):
    from direct.task.Task import TaskManager
    from panda3d.core import NodePath

    from vr_app.xr.frame_loop import XrConfig, XrFrameLoop
    from vr_app.xr.simulated import SimXrError
    engine, buf = host
    sim = SimulatedRuntime(eye_size=EYE)
    loop = XrFrameLoop(sim, NodePath("r"), engine, buf, TaskManager(),
                       config=XrConfig(refresh_rate=120.0, eye_size=EYE))
    assert sim.refresh_rate == 120.0 and sim.swapchains["size"] == EYE
    loop.stop()
    with pytest.raises(SimXrError, match="REFRESH_RATE"):
        XrFrameLoop(SimulatedRuntime(eye_size=EYE), NodePath("r"), engine, buf, TaskManager(),
                    config=XrConfig(refresh_rate=100.0, eye_size=EYE))


def test_task_sorts_wrap_the_scene_tasks():
    scene = T.scene_sorts()
    xr_before = [T.XR_POLL_EVENTS, T.XR_WAIT_FRAME, T.XR_SYNC_ACTIONS, T.XR_LOCATE, T.XR_INTERACT, T.COMFORT]
    assert xr_before == sorted(xr_before) and max(xr_before) < min(scene.values())
    assert max(scene.values()) < T.RENDER < T.XR_SUBMIT
    assert [s for _, s in T.ORDER] == sorted(s for _, s in T.ORDER)
