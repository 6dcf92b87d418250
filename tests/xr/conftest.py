"""Shared pieces for the XR tests: a software-rendered host (p3tinydisplay, no window), a tiny
scene with a selectable candle, a holdable photo and a floor, and a frame loop on the
simulated runtime."""

from __future__ import annotations

import math

import numpy as np
import pytest
from panda3d.core import CardMaker, NodePath

from vr_app.xr.adapter import Pose
from vr_app.xr.interaction import FLOOR, HOLDABLE, SELECTABLE
from vr_app.xr.scene_api import XrSceneDefaults
from vr_app.xr.simulated import SimulatedRuntime

EYE = (64, 64)


@pytest.fixture(scope="session")
def host():
    from vr_app.xr.display import offscreen_host
    engine, buf = offscreen_host((32, 32))
    yield engine, buf


def card(parent: NodePath, name: str, size: float, pos, color) -> NodePath:
    maker = CardMaker(name)
    maker.set_frame(-size, size, -size, size)
    node = parent.attach_new_node(maker.generate())
    node.set_pos(*pos)
    node.set_color(*color)
    node.set_two_sided(True)
    return node


class TinyRoom(XrSceneDefaults):
    """Candle 2 m ahead at eye height, a photo 1 m ahead to the right, a floor 1.2 m below."""

    def __init__(self, render: NodePath):
        self.viewpoint = render.attach_new_node("seat")
        self.viewpoint.set_pos(0, 0, 1.2)
        self.candle = card(render, "candle", 0.25, (0, 2, 1.2), (1, 0, 0, 1))
        self.candle.set_tag(SELECTABLE, "candle-1")
        self.photo = card(render, "photo", 0.1, (0.6, 1.0, 1.2), (0, 0, 1, 1))
        self.photo.set_tag(HOLDABLE, "photo-1")
        self.floor = card(render, "floor", 3.0, (0, 0, 0), (0.3, 0.3, 0.3, 1))
        self.floor.set_p(-90)
        self.floor.set_tag(FLOOR, "1")
        self.updates = []

    def update(self, t: float) -> None:
        self.updates.append(t)


def aim_at(target_xyz_xr) -> Pose:
    """A controller at the right hip, in OpenXR space, aiming (-Z) at a point in OpenXR space."""
    origin = (0.2, -0.3, -0.1)
    d = [t - o for t, o in zip(target_xyz_xr, origin)]
    yaw = math.atan2(-d[0], -d[2])
    pitch = math.atan2(d[1], math.hypot(d[0], d[2]))
    cy, sy, cp, sp = math.cos(yaw / 2), math.sin(yaw / 2), math.cos(pitch / 2), math.sin(pitch / 2)
    # q = q_yaw(about Y) * q_pitch(about X)
    q = (cy * sp, sy * cp, -sy * sp, cy * cp)
    return Pose(origin, q)


@pytest.fixture
def make_loop(host):
    """make_loop(sim=None, standing=False, scene_cls=TinyRoom) -> (loop, sim, scene, task_mgr)."""
    from direct.task.Task import TaskManager

    from vr_app.xr.frame_loop import XrConfig, XrFrameLoop
    engine, buf = host
    made = []

    def make(sim=None, standing=False, scene_cls=TinyRoom):
        sim = sim or SimulatedRuntime(eye_size=EYE)
        render = NodePath("render")
        scene = scene_cls(render)
        tm = TaskManager()
        loop = XrFrameLoop(sim, render, engine, buf, tm, scene.viewpoint,
                           XrConfig(standing=standing, eye_size=EYE))
        loop.start()
        made.append(loop)
        return loop, sim, scene, tm

    yield make
    for loop in made:
        loop.stop()


def step_until_focused(loop, tm, limit=20):
    from vr_app.xr.adapter import SessionState
    for _ in range(limit):
        tm.step()
        if loop.lifecycle.state is SessionState.FOCUSED:
            tm.step()  # one frame with focus, so poses and input are live
            return
    raise AssertionError(f"never focused: {loop.lifecycle.history}")


RED = lambda im: (im[..., 0] > 150) & (im[..., 1] < 80) & (im[..., 2] < 80)  # noqa: E731  [H,W,3+] -> [H,W]


def centroid_x(img, rgb_test=RED) -> float:
    """Mean pixel column of the pixels `rgb_test` picks (the red candle by default)."""
    mask = rgb_test(img)
    assert mask.sum() > 20, "the candle is not in this eye's image"
    return float(np.nonzero(mask)[1].mean())


def expected_x(fov, eye_x: float, width: int, distance: float = 2.0) -> float:
    """Pixel column of a point straight ahead of the head at `distance`, for an eye `eye_x`
    metres to the right, through that eye's asymmetric frustum."""
    lo, hi = math.tan(fov.angle_left), math.tan(fov.angle_right)
    return (-eye_x / distance - lo) / (hi - lo) * width - 0.5
