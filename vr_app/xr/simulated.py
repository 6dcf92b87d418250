"""An in-process simulated OpenXR runtime behind the same adapter as the real one.

It plays the runtime's part honestly enough to catch app mistakes: it drives the session
through the spec's states (and refuses calls made in the wrong state, as a runtime does),
reports asymmetric per-eye views from a scripted head path and interpupillary distance,
checks suggested bindings against the interaction-profile paths the OpenXR spec defines,
turns scripted controller inputs into action states (only while focused), offers refresh
rates and optional hand tracking, and keeps the eye images the app submits.

What it cannot show: GL interop with a real compositor, real timing, real tracking.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Callable

import numpy as np

from .adapter import (ActionSpec, Event, FrameState, Fov, Layer, Pose, SessionState as S, SystemInfo,
                      View, ViewConfig, XrRuntime)

# Component paths per interaction profile, from the OpenXR 1.0 spec (section 6.4).
_POSES = ["/input/grip/pose", "/input/aim/pose", "/output/haptic"]
PROFILE_COMPONENTS: dict[str, dict[str, list[str]]] = {
    "/interaction_profiles/khr/simple_controller": {
        h: ["/input/select/click", "/input/menu/click"] + _POSES for h in ("left", "right")},
    "/interaction_profiles/oculus/touch_controller": {
        "left": ["/input/x/click", "/input/x/touch", "/input/y/click", "/input/y/touch", "/input/menu/click"],
        "right": ["/input/a/click", "/input/a/touch", "/input/b/click", "/input/b/touch", "/input/system/click"]},
    "/interaction_profiles/valve/index_controller": {
        h: ["/input/system/click", "/input/system/touch", "/input/a/click", "/input/a/touch", "/input/b/click",
            "/input/b/touch", "/input/squeeze/value", "/input/squeeze/force", "/input/trigger/click",
            "/input/trigger/value", "/input/trigger/touch", "/input/thumbstick/x", "/input/thumbstick/y",
            "/input/thumbstick/click", "/input/thumbstick/touch", "/input/trackpad/x", "/input/trackpad/y",
            "/input/trackpad/force", "/input/trackpad/touch"] + _POSES for h in ("left", "right")},
    "/interaction_profiles/htc/vive_controller": {
        h: ["/input/system/click", "/input/squeeze/click", "/input/menu/click", "/input/trigger/click",
            "/input/trigger/value", "/input/trackpad/x", "/input/trackpad/y", "/input/trackpad/click",
            "/input/trackpad/touch"] + _POSES for h in ("left", "right")},
}
for _hand in ("left", "right"):
    PROFILE_COMPONENTS["/interaction_profiles/oculus/touch_controller"][_hand] += [
        "/input/squeeze/value", "/input/trigger/value", "/input/trigger/touch", "/input/thumbstick/x",
        "/input/thumbstick/y", "/input/thumbstick/click", "/input/thumbstick/touch", "/input/thumbrest/touch",
    ] + _POSES

# A typical consumer headset's per-eye FOV (radians): wider toward the temple than the nose.
LEFT_FOV = Fov(angle_left=-0.942, angle_right=0.698, angle_up=0.768, angle_down=-0.873)
RIGHT_FOV = Fov(angle_left=-0.698, angle_right=0.942, angle_up=0.768, angle_down=-0.873)


class SimXrError(RuntimeError):
    """An XrResult error the simulated runtime returns, e.g. XR_ERROR_SESSION_NOT_RUNNING."""


def quat_yaw(radians: float) -> tuple[float, float, float, float]:
    """Turn about +Y (OpenXR up); positive turns the view to the left."""
    return (0.0, math.sin(radians / 2), 0.0, math.cos(radians / 2))


def _cross(a, b) -> tuple[float, float, float]:
    return (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])


def rotate(q, v) -> tuple[float, float, float]:
    """v turned by the unit quaternion q (x, y, z, w). Plain floats: numpy on 3-vectors costs
    more than the whole frame loop, and this runs twice a frame in the benchmark."""
    u, w = q[:3], q[3]
    c = _cross(u, v)
    t = _cross(u, (c[0] + w * v[0], c[1] + w * v[1], c[2] + w * v[2]))
    return (v[0] + 2.0 * t[0], v[1] + 2.0 * t[1], v[2] + 2.0 * t[2])


def still_head(height: float = 0.0) -> Callable[[float], Pose]:
    return lambda t: Pose((0.0, height, 0.0))


class SimulatedRuntime(XrRuntime):
    """Scripted runtime. Drive it from a test: `head_path`, `controller_pose`, `set_input`,
    `show_system_menu`, `user_quit`, `lose_instance`."""

    def __init__(self, eye_size=(1832, 1920), refresh_rates=(72.0, 90.0, 120.0), hand_tracking=False,
                 ipd: float = 0.064, head_path: Callable[[float], Pose] | None = None,
                 profile: str = "/interaction_profiles/oculus/touch_controller", keep_images: bool = True):
        w, h = eye_size
        self.system = SystemInfo("Memorial simulated runtime", "Simulated headset",
                                 (ViewConfig(w, h, 2 * w, 2 * h), ViewConfig(w, h, 2 * w, 2 * h)),
                                 tuple(refresh_rates), hand_tracking)
        self.ipd = ipd
        self.keep_images = keep_images  # False: skip the RAM read-back (benchmarks on a GPU)
        self.head_path = head_path or still_head()
        self.profile = profile
        self.state = S.UNKNOWN
        self.pending: deque[Event] = deque()
        self.calls: list[str] = []
        self.refresh_rate = refresh_rates[0]
        self.time_ns = 1_000_000_000
        self.frame_index = 0
        self.skip_frames = 0            # set > 0 to make the next wait_frame report missed frames
        self.in_frame = False
        self.waited = False
        self.exit_requested = False
        self.session = False
        self.swapchains: dict | None = None
        self.bindings: dict[str, list[tuple[str, str]]] = {}
        self._bound: dict[tuple[str, str, str], list[str]] = {}  # (profile, action, hand) -> components
        self.actions: dict[str, ActionSpec] = {}
        self.inputs: dict[tuple[str, str], float] = {}
        self.controller_pose: dict[str, Pose | None] = {"left": None, "right": None}
        self.joints: dict[str, list[Pose] | None] = {"left": None, "right": None}
        self.submitted: dict[int, np.ndarray] = {}  # eye -> last image [H,W,4] uint8, top-down
        self.frames_submitted = 0
        self.empty_frames = 0

    def _call(self, name: str) -> None:
        self.calls.append(name)

    def _queue(self, *states: S) -> None:
        for s in states:
            self.pending.append(Event("session_state", s, self.time_ns))

    @property
    def seconds(self) -> float:
        return (self.time_ns - 1_000_000_000) / 1e9

    # --- scripting -------------------------------------------------------------------------
    def set_input(self, hand: str, component: str, value: float) -> None:
        self.inputs[(hand, component)] = float(value)

    def show_system_menu(self) -> None:
        self._queue(S.VISIBLE)

    def hide_system_menu(self) -> None:
        self._queue(S.FOCUSED)

    def user_quit(self) -> None:
        """The user quits from the runtime's own UI: the runtime walks the session down."""
        self._queue(*self._down_chain())
        self.exit_requested = True

    def lose_instance(self) -> None:
        self.pending.append(Event("instance_loss_pending", None, self.time_ns))
        self._queue(S.LOSS_PENDING)

    def user_recentred(self) -> None:
        self.pending.append(Event("reference_space_change", None, self.time_ns))

    def _down_chain(self) -> list[S]:
        last = self.pending[-1].state if self.pending and self.pending[-1].state else self.state
        chain = {S.FOCUSED: [S.VISIBLE, S.SYNCHRONIZED, S.STOPPING], S.VISIBLE: [S.SYNCHRONIZED, S.STOPPING],
                 S.SYNCHRONIZED: [S.STOPPING]}
        return chain.get(last, [])

    # --- adapter -----------------------------------------------------------------------------
    def create_session(self, reference_space: str) -> None:
        self._call("create_session")
        if reference_space not in ("local", "stage"):
            raise SimXrError(f"XR_ERROR_REFERENCE_SPACE_UNSUPPORTED: {reference_space}")
        self.reference_space = reference_space
        self.session = True
        self._queue(S.IDLE, S.READY)

    def poll_events(self) -> list[Event]:
        out = []
        while self.pending:
            ev = self.pending.popleft()
            if ev.kind == "session_state":
                self.state = ev.state
            out.append(ev)
            if ev.state is S.READY or ev.state is S.STOPPING:
                break  # the runtime waits for the app's begin/end before moving on
        return out

    def begin_session(self) -> None:
        self._call("begin_session")
        if self.state is not S.READY:
            raise SimXrError(f"XR_ERROR_SESSION_NOT_READY (state {self.state.name})")
        self._begun = True
        self._ramp = [S.SYNCHRONIZED, S.VISIBLE, S.FOCUSED]

    def end_session(self) -> None:
        self._call("end_session")
        if self.state is not S.STOPPING:
            raise SimXrError(f"XR_ERROR_SESSION_NOT_STOPPING (state {self.state.name})")
        self._begun = False
        self._queue(S.IDLE)
        if self.exit_requested:
            self._queue(S.EXITING)
        else:
            self._queue(S.READY)

    def request_exit(self) -> None:
        self._call("request_exit")
        if not getattr(self, "_begun", False):
            raise SimXrError("XR_ERROR_SESSION_NOT_RUNNING")
        self.exit_requested = True
        self._queue(*self._down_chain())

    def destroy(self) -> None:
        self._call("destroy")
        self.session = False

    def set_refresh_rate(self, hz: float) -> None:
        if hz not in self.system.refresh_rates:
            raise SimXrError(f"XR_ERROR_DISPLAY_REFRESH_RATE_UNSUPPORTED_FB: {hz}")
        self.refresh_rate = hz

    def create_swapchains(self, layout: str, width: int, height: int, fmt: str) -> None:
        self._call("create_swapchains")
        view = self.system.views[0]
        if layout not in ("per_eye", "array") or fmt not in self.system.swapchain_formats:
            raise SimXrError(f"XR_ERROR_SWAPCHAIN_FORMAT_UNSUPPORTED: {layout} {fmt}")
        if not (0 < width <= view.max_width and 0 < height <= view.max_height):
            raise SimXrError(f"XR_ERROR_SIZE_INSUFFICIENT: {width}x{height}")
        self.swapchains = {"layout": layout, "size": (width, height), "format": fmt}

    def attach_actions(self, actions, bindings) -> None:
        self._call("attach_actions")
        self.actions = {a.name: a for a in actions}
        bound: dict[tuple[str, str, str], list[str]] = {}
        for profile, pairs in bindings.items():
            if profile not in PROFILE_COMPONENTS:
                raise SimXrError(f"XR_ERROR_PATH_UNSUPPORTED: {profile}")
            for action, path in pairs:
                hand, component = _split(path)
                if action not in self.actions:
                    raise SimXrError(f"XR_ERROR_HANDLE_INVALID: action {action}")
                if component not in PROFILE_COMPONENTS[profile][hand]:
                    raise SimXrError(f"XR_ERROR_PATH_UNSUPPORTED: {profile} {path}")
                kind = self.actions[action].kind
                pose_ok = (kind == "pose") == component.endswith("/pose")
                output_ok = (kind == "vibration") == component.startswith("/output")
                if not (pose_ok and output_ok):
                    raise SimXrError(f"XR_ERROR_PATH_UNSUPPORTED: {kind} action {action} bound to {path}")
                bound.setdefault((profile, action, hand), []).append(component)
        self.bindings = {p: list(v) for p, v in bindings.items()}
        self._bound = bound  # parsed once here, so action_value does not re-parse paths every frame

    def wait_frame(self) -> FrameState:
        self._call("wait_frame")
        if not getattr(self, "_begun", False):
            raise SimXrError("XR_ERROR_SESSION_NOT_RUNNING")
        period = int(round(1e9 / self.refresh_rate))
        self.time_ns += period * (1 + self.skip_frames)
        self.skip_frames = 0
        self.frame_index += 1
        if self._ramp:
            self._queue(self._ramp.pop(0))
        self.waited = True
        return FrameState(self.time_ns, period, self.state in (S.VISIBLE, S.FOCUSED))

    def begin_frame(self) -> None:
        if not self.waited or self.in_frame:
            raise SimXrError("XR_ERROR_CALL_ORDER_INVALID: begin_frame")
        self.waited, self.in_frame = False, True

    def _head(self, time: int) -> Pose:
        return self.head_path((time - 1_000_000_000) / 1e9)

    def locate_views(self, time: int) -> list[View]:
        head = self._head(time)
        views = []
        for sign, fov in ((-1.0, LEFT_FOV), (1.0, RIGHT_FOV)):
            offset = rotate(head.orientation, (sign * self.ipd / 2.0, 0.0, 0.0))
            pos = tuple(a + b for a, b in zip(head.position, offset))
            views.append(View(Pose(pos, head.orientation), fov))
        return views

    def locate_head(self, time: int) -> Pose:
        return self._head(time)

    def sync_actions(self) -> None:
        if not self.bindings:
            raise SimXrError("XR_ERROR_ACTIONSET_NOT_ATTACHED")

    def action_value(self, name: str, hand: str) -> float:
        if self.state is not S.FOCUSED:
            return 0.0
        return max((self.inputs.get((hand, c), 0.0) for c in self._bound.get((self.profile, name, hand), ())),
                   default=0.0)

    def action_pose(self, name: str, hand: str, time: int) -> Pose | None:
        if self.state is not S.FOCUSED:
            return None
        return self.controller_pose.get(hand)

    def hand_joints(self, hand: str, time: int):
        return self.joints.get(hand) if self.system.hand_tracking else None

    def end_frame(self, time: int, layer: Layer | None) -> None:
        self._call("end_frame")
        if not self.in_frame:
            raise SimXrError("XR_ERROR_CALL_ORDER_INVALID: end_frame without begin_frame")
        self.in_frame = False
        if layer is None:
            self.empty_frames += 1
            return
        if len(layer.views) != 2 or len(layer.images) != 2:
            raise SimXrError("XR_ERROR_VALIDATION_FAILURE: a stereo layer needs two views and two images")
        for eye, tex in enumerate(layer.images):
            if self.keep_images:
                self.submitted[eye] = texture_rgba(tex)
        self.frames_submitted += 1


def _split(path: str) -> tuple[str, str]:
    parts = path.split("/")  # ['', 'user', 'hand', 'left', 'input', ...]
    return parts[3], "/" + "/".join(parts[4:])


def texture_rgba(tex) -> np.ndarray:
    """A Panda3D texture's RAM image as top-down RGBA uint8 [H,W,4] (a swapchain image's view)."""
    data = tex.get_ram_image_as("RGBA")
    h, w = tex.get_y_size(), tex.get_x_size()
    img = np.frombuffer(bytes(data), dtype=np.uint8).reshape(h, w, 4)  # bottom-up rows
    return img[::-1].copy()
