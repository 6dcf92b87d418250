"""The XR frame loop as ordered Panda3D tasks (sort numbers in `tasks.py`).

One frame: poll runtime events -> wait/begin frame -> sync actions -> locate head, eyes and
hands onto anchors -> pointers and buttons -> comfort -> (scene code) -> render the two eye
buffers -> submit them and end the frame. Pass `render`, the graphics engine, a host output
(for its GSG) and a task manager in explicitly; nothing here uses ShowBase builtins.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from panda3d.core import (FrameBufferProperties, GraphicsOutput, GraphicsPipe, NodePath, Texture,
                          WindowProperties)

from . import actions as A
from . import tasks as T
from .adapter import EYES, Event, Fov, Layer, XrRuntime
from .anchors import XrAnchors
from ..stage import ask_for_multisampling
from .cameras import apply_fov, make_eye_camera
from .comfort import Comfort, ComfortConfig, Fader, FrameGovernor
from .events import EventHub, XrEvent
from .interaction import Pointers, pinch_strength
from .session import Call, SessionLifecycle
from .spaces import recenter_transform
from .stats import FrameStats

PLACEHOLDER_FOV = Fov(-0.8, 0.8, 0.8, -0.8)  # replaced by the located views every frame


@dataclass
class XrConfig:
    standing: bool = False           # seated (LOCAL space) unless asked
    layout: str = "per_eye"          # or "array" (one swapchain, two layers)
    eye_size: tuple[int, int] | None = None  # override the runtime's recommended size
    resolution_scale: float = 1.0
    refresh_rate: float | None = None  # None: keep the runtime's preferred rate
    samples: int = 0                 # MSAA samples for the eye buffers
    own_render: bool = True          # add a render task (False when ShowBase's igLoop renders)
    read_back: bool = True           # copy eye images to RAM (the simulated runtime reads them)


class XrFrameLoop:
    def __init__(self, runtime: XrRuntime, scene: NodePath, engine, host: GraphicsOutput, task_mgr,
                 viewpoint: NodePath | None = None, config: XrConfig | None = None, hub: EventHub | None = None):
        self.runtime, self.scene, self.engine, self.host, self.task_mgr = runtime, scene, engine, host, task_mgr
        self.config = config or XrConfig()
        self.hub = hub or EventHub()
        self.lifecycle = SessionLifecycle()
        self.stats = FrameStats()
        self.anchors = XrAnchors.create(viewpoint if viewpoint is not None else scene)
        self.frame = None
        self.views = None
        self.values: dict[tuple[str, str], float] = {}
        self.pause_edges = {h: A.Edge(0.5, 0.5) for h in ("left", "right")}
        self.user_paused = False
        self.needs_recenter = True
        self._frame_start = 0.0
        self._last_time = 0
        self._task_names: list[str] = []
        self._setup()

    # --- setup -------------------------------------------------------------------------------
    def _setup(self) -> None:
        rt, cfg = self.runtime, self.config
        rt.create_session("stage" if cfg.standing else "local")
        if cfg.refresh_rate is not None:
            rt.set_refresh_rate(cfg.refresh_rate)
        view = rt.system.views[0]
        w, h = cfg.eye_size or (int(view.width * cfg.resolution_scale), int(view.height * cfg.resolution_scale))
        fmt = rt.system.swapchain_formats[0]
        rt.create_swapchains(cfg.layout, w, h, fmt)
        rt.attach_actions(A.ACTIONS, A.BINDINGS)
        self.eye_size = (w, h)
        self.textures, self.buffers, self.cameras = [], [], []
        for index, eye in enumerate(EYES):
            tex = Texture(f"xr-{eye}-eye")
            buf = self._make_buffer(f"xr-{eye}-eye", w, h, sort=-20 + index)
            mode = GraphicsOutput.RTM_copy_ram if cfg.read_back else GraphicsOutput.RTM_bind_or_copy
            buf.add_render_texture(tex, mode)
            buf.set_clear_color((0.05, 0.05, 0.06, 1))
            buf.set_active(False)
            cam = make_eye_camera(f"xr-{eye}-camera", self.anchors.eye(index), PLACEHOLDER_FOV, self.scene)
            if cfg.samples:
                ask_for_multisampling(cam.node())
            region = buf.make_display_region()
            region.set_camera(cam)
            self.textures.append(tex)
            self.buffers.append(buf)
            self.cameras.append(cam)
        comfort = ComfortConfig(standing=cfg.standing)
        self.comfort = Comfort(self.anchors, self.scene, Fader(self.cameras, comfort), self.hub, comfort)
        self.governor = FrameGovernor(self.hub)
        self.pointers = Pointers(self.scene, self.anchors, self.hub)
        self.hub.on("teleport", lambda ev: self.comfort.teleport(ev.point))

    def _make_buffer(self, name: str, w: int, h: int, sort: int) -> GraphicsOutput:
        fb = FrameBufferProperties()
        fb.set_rgb_color(True)
        fb.set_rgba_bits(8, 8, 8, 8)
        fb.set_depth_bits(24)
        if self.config.samples:
            fb.set_multisamples(self.config.samples)
        props = WindowProperties.size(w, h)
        flags = GraphicsPipe.BF_refuse_window | GraphicsPipe.BF_resizeable
        buf = self.engine.make_output(self.host.get_pipe(), name, sort, fb, props, flags,
                                      self.host.get_gsg(), self.host)
        if buf is None:
            raise RuntimeError(f"could not create the {name} buffer ({w}x{h})")
        return buf

    def start(self) -> None:
        """Add the frame's tasks to the task manager in the fixed order."""
        steps = {"xr-poll-events": self._poll, "xr-wait-frame": self._wait, "xr-sync-actions": self._sync,
                 "xr-locate": self._locate, "xr-interact": self._interact, "xr-comfort": self._comfort,
                 "xr-submit": self._submit}
        if self.config.own_render:
            steps["render"] = self._render
        for name, sort in T.ORDER:  # "scene-update" belongs to the scene code
            if name in steps:
                self.task_mgr.add(self._wrap(steps[name]), name, sort=sort)
                self._task_names.append(name)

    @staticmethod
    def _wrap(fn):
        def task(t):
            fn()
            return t.cont
        return task

    def stop(self) -> None:
        for name in self._task_names:
            self.task_mgr.remove(name)
        self._task_names.clear()
        for buf in self.buffers:
            self.engine.remove_window(buf)
        self.buffers.clear()

    # --- tasks ---------------------------------------------------------------------------------
    def _poll(self) -> None:
        self._frame_start = time.perf_counter()
        for ev in self.runtime.poll_events():
            self._on_event(ev)

    def _on_event(self, ev: Event) -> None:
        if ev.kind == "reference_space_change":
            self.needs_recenter = True
            return
        if ev.kind != "session_state":
            return  # instance_loss_pending is followed by LOSS_PENDING; interaction_profile needs nothing
        for call in self.lifecycle.on_state(ev.state):
            if call is Call.BEGIN_SESSION:
                self.runtime.begin_session()
            elif call is Call.END_SESSION:
                self.runtime.end_session()
            elif call is Call.DESTROY:
                self.runtime.destroy()
            elif call is Call.PAUSE:
                self.comfort.set_paused(True, "system")
            elif call is Call.RESUME and not self.user_paused:
                self.comfort.set_paused(False, "system")
        self.hub.emit(XrEvent("session", value=ev.state.name))

    def _wait(self) -> None:
        self.frame = None
        if not self.lifecycle.running:
            return
        frame = self.runtime.wait_frame()
        self.runtime.begin_frame()
        if self._last_time and frame.predicted_display_period:
            gap = (frame.predicted_display_time - self._last_time) / frame.predicted_display_period
            self.stats.missed += max(0, int(round(gap)) - 1)
        self._last_time = frame.predicted_display_time
        self.stats.budget_ms = frame.predicted_display_period / 1e6
        self.frame = frame

    def _sync(self) -> None:
        self.values = {}
        if self.frame is None:
            return
        self.runtime.sync_actions()
        for hand in ("left", "right"):
            for name in (A.SELECT, A.HOLD, A.TELEPORT, A.PAUSE):
                self.values[(hand, name)] = self.runtime.action_value(name, hand)

    def _locate(self) -> None:
        if self.frame is None:
            return
        t = self.frame.predicted_display_time
        self.views = self.runtime.locate_views(t)
        head = self.runtime.locate_head(t)
        if self.views is None or head is None:
            return  # tracking lost: keep the last poses rather than jump
        if self.needs_recenter:
            self.recenter(head)
        self.anchors.set_pose(self.anchors.head, head)
        for index, view in enumerate(self.views):
            self.anchors.set_pose(self.anchors.eye(index), view.pose)
            apply_fov(self.cameras[index].node().get_lens(), view.fov)
        for hand in ("left", "right"):
            grip = self.runtime.action_pose(A.GRIP, hand, t)
            aim = self.runtime.action_pose(A.AIM, hand, t)
            joints = self.runtime.hand_joints(hand, t) if grip is None else None  # only without a controller
            if joints is not None:
                grip = aim = joints[0]  # hand tracking: palm pose stands in for the controller
                self.values[(hand, "pinch")] = pinch_strength(joints)
            self.anchors.set_pose(self.anchors.hand(hand), grip)
            self.anchors.set_pose(self.anchors.aim(hand), aim)

    def recenter(self, head=None) -> None:
        """Put the current head at the viewpoint, facing the scene's +Y (yaw only)."""
        head = head or self.runtime.locate_head(self.frame.predicted_display_time if self.frame else 0)
        if head is None:
            return
        self.anchors.set_origin(recenter_transform(head, seated=not self.config.standing))
        self.needs_recenter = False
        self.hub.emit(XrEvent("recenter"))

    def _interact(self) -> None:
        focused = self.frame is not None and self.lifecycle.focused
        self.pointers.update(self.values, focused)
        for hand in ("left", "right"):
            if focused and self.pause_edges[hand].update(self.values.get((hand, A.PAUSE), 0.0)) == "press":
                self.set_paused(not self.user_paused)

    def set_paused(self, paused: bool) -> None:
        """The user's pause (the controller button, or a companion at the mirror): it outlasts
        system-menu focus changes, which pause and resume on their own."""
        self.user_paused = paused
        self.comfort.set_paused(paused, "user")

    @property
    def finished(self) -> bool:
        """The session is gone (EXITING or LOSS_PENDING; the runtime has been destroyed)."""
        return self.lifecycle.finished

    def _comfort(self) -> None:
        active = self.rendering
        for buf in self.buffers:
            buf.set_active(active)  # before ShowBase's igLoop or our render task
        if self.frame is None:
            return
        self.comfort.fader.update(self.frame.predicted_display_period / 1e9)
        if self.stats.cpu_ms:
            self.governor.update(self.stats.cpu_ms[-1], self.stats.budget_ms)

    @property
    def rendering(self) -> bool:
        return self.frame is not None and self.frame.should_render and self.lifecycle.visible and self.views is not None

    def _render(self) -> None:
        self.engine.render_frame()

    def _submit(self) -> None:
        if self.frame is None:
            return
        layer = Layer(self.views, list(self.textures)) if self.rendering else None
        self.runtime.end_frame(self.frame.predicted_display_time, layer)
        self.stats.add((time.perf_counter() - self._frame_start) * 1e3)
