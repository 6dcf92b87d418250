"""Which display to use (`choose_display`) and the headset viewer (`run_openxr_view`).

`memorial view NAME --display openxr|desktop|auto` (generation/cli/room.py) calls
`choose_display(mode)` before unlocking the vault and prints its one-line reason; for "openxr"
it calls `run_openxr_view(memorial_scene_builder(...), ...)`.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Callable

from panda3d.core import (CardMaker, FrameBufferProperties, GraphicsEngine, GraphicsPipe,
                          GraphicsPipeSelection, NodePath, OrthographicLens, Camera, WindowProperties)

from ..errors import DisplayUnavailable
from . import tasks as T
from .adapter import XrRuntime
from .events import EventHub
from .frame_loop import XrConfig, XrFrameLoop
from .scene_api import XrScene
from .stats import FrameStats

DISPLAYS = ("openxr", "desktop", "auto")


def desktop_available() -> tuple[bool, str]:
    """A desktop window needs a display server on Linux; elsewhere assume a desktop."""
    if not sys.platform.startswith("linux"):
        return True, "a desktop session"
    for var in ("DISPLAY", "WAYLAND_DISPLAY"):
        if os.environ.get(var):
            return True, f"desktop display ${var}={os.environ[var]}"
    return False, "no desktop display ($DISPLAY and $WAYLAND_DISPLAY are unset)"


def choose_display(mode: str = "auto", probe: Callable | None = None,
                   desktop: Callable[[], tuple[bool, str]] | None = None) -> tuple[str, str]:
    """Returns (display, reason): display is 'openxr', 'desktop' or 'none' (the requested one
    cannot be used; the reason says why). Never raises for a missing runtime or display."""
    if mode not in DISPLAYS:
        raise ValueError(f"display must be one of {', '.join(DISPLAYS)}, not {mode!r}")
    if probe is None:
        from .pyopenxr_runtime import probe_runtime as probe
    desktop = desktop or desktop_available
    if mode in ("openxr", "auto"):
        xr = probe()
        if xr.available:
            return "openxr", f"headset: {xr.reason}"
        if mode == "openxr":
            return "none", f"no headset: {xr.reason}"
    ok, why = desktop()
    if mode == "desktop":
        return ("desktop", f"desktop window on {why}") if ok else ("none", f"no desktop window: {why}")
    if ok:
        return "desktop", f"desktop window: {xr.reason}; using {why}"
    return "none", f"no display: {xr.reason}, and {why}"


PIPES = {"p3tinydisplay": "TinyOffscreenGraphicsPipe", "pandagl": "glxGraphicsPipe",
         "p3headlessgl": "eglGraphicsPipe"}


def offscreen_host(size=(64, 64), module: str = "p3tinydisplay"):
    """(engine, host buffer) without a window or PRC changes: the host's GSG is shared with the
    eye buffers. p3tinydisplay is software rendering and works on any machine; the real OpenXR
    session needs "pandagl" (GLX, the context XR_KHR_opengl_enable binds to on Linux)."""
    pipe = GraphicsPipeSelection.get_global_ptr().make_pipe(PIPES[module], module)
    if pipe is None or not pipe.is_valid():
        raise DisplayUnavailable(f"Panda3D cannot open {PIPES[module]} ({module})"
                                 + ("; the OpenXR session needs an X display for GLX" if module == "pandagl" else ""))
    engine = GraphicsEngine.get_global_ptr()
    fb = FrameBufferProperties()
    fb.set_rgb_color(True)
    fb.set_depth_bits(24)
    host = engine.make_output(pipe, "xr-host", -100, fb, WindowProperties.size(*size),
                              GraphicsPipe.BF_refuse_window, None, None)
    if host is None:
        raise DisplayUnavailable(f"could not open an offscreen {module} buffer")
    engine.open_windows()
    # The eyes render into FBOs on this host's context. Off GLX the host only carries the context:
    # drawing into an EGL pbuffer's default framebuffer differs between drivers (see offscreen.py).
    # The GLX host stays active: rendering it is what makes the context current for OpenXR.
    host.set_active(module == "pandagl")
    return engine, host


def make_mirror(engine, host, texture, size=(640, 360), window: bool = False):
    """Shows the left eye to the people beside the wearer: a card with the eye texture in a
    desktop window (or an offscreen buffer, for tests). No extra scene render is needed."""
    flags = GraphicsPipe.BF_require_window if window else GraphicsPipe.BF_refuse_window
    props = WindowProperties.size(*size)
    if window:
        props.set_title("Memorial VR — headset view (left eye)")
    out = engine.make_output(host.get_pipe(), "xr-mirror", 10, FrameBufferProperties.get_default(), props,
                             flags, host.get_gsg(), None if window else host)
    if out is None:
        raise RuntimeError("could not open the mirror output")
    root = NodePath("xr-mirror-2d")
    maker = CardMaker("xr-mirror-card")
    maker.set_frame(-1, 1, -1, 1)
    card = root.attach_new_node(maker.generate())
    card.set_texture(texture)
    card.set_depth_test(False)
    card.set_light_off(1)
    lens = OrthographicLens()
    lens.set_film_size(2, 2)
    lens.set_near_far(-10, 10)
    cam = root.attach_new_node(Camera("xr-mirror-cam", lens))
    card.set_y(1)
    region = out.make_display_region()
    region.set_camera(cam)
    return out, root


def run_openxr_view(scene_builder: Callable[[NodePath], object], *, runtime: XrRuntime | None = None,
                    standing: bool = False, mirror: bool = False, mirror_window: bool = True,
                    frames: int | None = None, seconds: float | None = None, stats: bool = False,
                    eye_size: tuple[int, int] | None = None, echo: Callable[[str], None] = print,
                    on_start: Callable[[XrFrameLoop], None] | None = None, layout: str = "per_eye") -> FrameStats:
    """Show a scene in the headset until the session ends (or for `frames` / `seconds`).

    scene_builder(render) builds the scene under `render` and returns an `XrScene` (scene_api.py:
    seat, panel, per-frame update, XR events; `XrSceneDefaults` supplies what a scene does not use).
    `runtime` None opens the real OpenXR runtime; tests pass a SimulatedRuntime. `on_start(loop)`
    sees the frame loop before the first frame (to script inputs or read anchors). layout:
    'per_eye' (two swapchains) or 'array' (one swapchain, two layers).
    """
    from direct.task.Task import TaskManager

    real = runtime is None
    engine, host = offscreen_host((64, 64), "pandagl" if real else "p3tinydisplay")
    if real:
        engine.render_frame()  # makes Panda3D's GL context current for xrCreateSession
        from .pyopenxr_runtime import PyOpenXRRuntime
        runtime = PyOpenXRRuntime()
        runtime.gsg = host.get_gsg()
    render = NodePath("render")
    scene = scene_builder(render)
    if not isinstance(scene, XrScene):
        raise TypeError(f"{type(scene).__name__} is not an XrScene (see vr_app/xr/scene_api.py)")
    hub = EventHub()
    for kind in ("select", "hold", "release", "pause", "resume", "teleport", "recenter", "detail", "session"):
        hub.on(kind, scene.on_xr_event)
    task_mgr = TaskManager()
    config = XrConfig(standing=standing, eye_size=eye_size, read_back=not real, layout=layout)
    loop = XrFrameLoop(runtime, render, engine, host, task_mgr, scene.viewpoint, config, hub)
    if hasattr(scene, "viewer"):  # the bust's face shows the side the headset sees (both eyes share it)
        scene.viewer = loop.anchors.head
    mirror_out = None
    if mirror:
        mirror_out, _ = make_mirror(engine, host, loop.textures[0], window=mirror_window)
    loop.mirror_output = mirror_out
    panel = None
    if scene.overlay_root is not None:
        from .panel import OverlayPanel
        panel = OverlayPanel(engine, host, scene.overlay_root, loop.anchors.origin.get_parent(),
                             aspect=scene.overlay_aspect)
    clock = {"t": 0.0, "last": None}

    def scene_task(task):
        # Scene time: seconds of display time since the first frame, standing still while paused.
        if loop.frame is not None:
            now = loop.frame.predicted_display_time
            if clock["last"] is not None and not loop.comfort.paused:
                clock["t"] += (now - clock["last"]) / 1e9
            clock["last"] = now
            scene.update(clock["t"])
        return task.cont
    task_mgr.add(scene_task, "scene-update", sort=T.SCENE_UPDATE)
    loop.start()
    if on_start is not None:
        on_start(loop)
    started, exit_asked = time.monotonic(), False
    try:
        while not loop.finished:
            done = (frames is not None and loop.stats.frames >= frames) or \
                   (seconds is not None and time.monotonic() - started >= seconds)
            if done and not exit_asked:
                exit_asked = True
                if not loop.lifecycle.running:
                    runtime.destroy()  # the session never began (the headset was never put on)
                    break
                runtime.request_exit()
            task_mgr.step()
    except KeyboardInterrupt:
        if loop.lifecycle.running:
            runtime.request_exit()
        while not loop.finished:
            task_mgr.step()
    finally:
        loop.stop()
        task_mgr.remove("scene-update")
        if mirror_out is not None:
            engine.remove_window(mirror_out)
        if panel is not None:
            panel.close()
        engine.remove_window(host)
    if stats:
        echo(f"openxr: {loop.stats.line()}")
    return loop.stats


def memorial_scene_builder(inputs, spec, track=None, overlay_size=(1280, 720)):
    """A scene_builder for the memorial room (vr_app.scene.MemorialScene), as `memorial view`
    builds it for the desktop: same room, bust, label and intro card; the desktop camera
    placement becomes the seat (position and heading only) and aspect2d becomes the panel."""
    def build(render: NodePath):
        from panda3d.core import PerspectiveLens

        from ..scene import MemorialScene
        from ..stage import Stage
        camera = render.attach_new_node("desktop-camera")
        overlay = NodePath("xr-aspect2d")
        stage = Stage(render=render, aspect2d=overlay, camera=camera, lens=PerspectiveLens(), size=overlay_size)
        scene = MemorialScene(stage, spec, inputs.head, inputs.texture, track, inputs.photos, title=inputs.title,
                              bust=inputs.bust)
        seat = render.attach_new_node("xr-seat")
        seat.set_pos(camera.get_pos(render))
        seat.set_h(camera.get_h(render))
        scene.viewpoint = seat
        scene.overlay_root = overlay
        scene.overlay_aspect = stage.aspect
        return scene
    return build
