"""A session in the headset: wraps the memorial scene builder for run_openxr_view so each
frame applies the session's view, and the runtime's own events feed the safety rules (losing
input focus, e.g. the headset taken off or the system menu opened, pauses; the controller's
pause button or the session ending is the client leaving)."""

from __future__ import annotations

import io

import numpy as np

from ..xr.scene_api import XrSceneDefaults
from .controller import ClientView
from .room_view import RoomView

LEAVING_STATES = ("STOPPING", "EXITING", "LOSS_PENDING")
MIRROR_SIZE = (192, 108)  # the therapist's picture of the client's view


class XrSessionScene(XrSceneDefaults):
    """What run_openxr_view expects of a scene, around a MemorialScene."""

    def __init__(self, scene, client, safe_spec=None):
        self.scene, self.client = scene, client
        self.room = RoomView(scene, dim_around=scene.viewpoint, safe_spec=safe_spec)
        self.viewpoint = scene.viewpoint
        self.overlay_root = scene.overlay_root
        self.overlay_aspect = scene.overlay_aspect
        self.view: ClientView | None = None
        self.mirror = None

    def attach_loop(self, loop) -> None:
        """A small camera on the client's head renders the mirror, one frame in each second only
        (a buffer rendered and read back every frame would cost the headset its frame time)."""
        from panda3d.core import (Camera, FrameBufferProperties, GraphicsOutput, GraphicsPipe, PerspectiveLens,
                                  Texture, WindowProperties)

        fb = FrameBufferProperties()
        fb.set_rgb_color(True)
        fb.set_depth_bits(24)
        buf = loop.engine.make_output(loop.host.get_pipe(), "session-mirror", -20, fb,
                                      WindowProperties.size(*MIRROR_SIZE), GraphicsPipe.BF_refuse_window,
                                      loop.host.get_gsg(), loop.host)
        if buf is None:
            return  # no mirror for the therapist; the session itself is unaffected
        self.mirror_tex = Texture("session-mirror")
        buf.add_render_texture(self.mirror_tex, GraphicsOutput.RTM_copy_ram)
        lens = PerspectiveLens()
        lens.set_fov(90, 90 * MIRROR_SIZE[1] / MIRROR_SIZE[0])
        lens.set_near_far(0.05, 200)
        cam = loop.anchors.head.attach_new_node(Camera("session-mirror-cam", lens))
        cam.node().set_scene(loop.scene)
        buf.make_display_region().set_camera(cam)
        buf.set_active(True)  # the first frame fills it
        self.mirror = buf
        self.client.snapshot = self.snapshot

    def snapshot(self) -> bytes | None:
        """The mirror's last picture as a JPEG; asks for a fresh one to be rendered this frame."""
        from PIL import Image

        self.mirror.set_active(True)
        if not self.mirror_tex.has_ram_image():
            return None
        w, h = self.mirror_tex.get_x_size(), self.mirror_tex.get_y_size()
        rgb = np.frombuffer(bytes(self.mirror_tex.get_ram_image_as("RGB")), np.uint8).reshape(h, w, 3)[::-1]
        out = io.BytesIO()
        Image.fromarray(rgb).save(out, format="JPEG", quality=70)
        return out.getvalue()

    def update(self, t: float) -> None:
        if self.mirror is not None:
            self.mirror.set_active(False)  # rendered last frame if asked: off again
        view = self.client.tick()
        self.view = view
        prompt = "\n\nHow distressed are you right now, 0 to 100? Tell your therapist." if view.suds_prompt else ""
        self.room.apply(view, prompt)
        self.client.controller.gaze = self.room.gaze(view)
        if view.line and not view.frozen:
            self.scene.update(t)

    def on_xr_event(self, event) -> None:
        if event.kind == "pause" and event.value == "user":
            self.client.leave()  # the controller's pause button is the client's one gesture to leave
        elif event.kind == "pause" and event.value == "system":
            self.client.headset(False)
        elif event.kind == "resume" and event.value == "system":
            self.client.headset(True)
        elif event.kind == "session" and event.value in LEAVING_STATES:
            self.client.leave()


class SessionSceneBuilder:
    """For run_openxr_view: `scene_builder=` this object, `on_start=` its on_start (the mirror)."""

    def __init__(self, builder, client, safe_spec=None):
        self.builder, self.client, self.safe_spec = builder, client, safe_spec
        self.scene: XrSessionScene | None = None

    def __call__(self, render) -> XrSessionScene:
        self.scene = XrSessionScene(self.builder(render), self.client, self.safe_spec)
        return self.scene

    def on_start(self, loop) -> None:
        self.scene.attach_loop(loop)


def session_scene_builder(builder, client, safe_spec=None) -> SessionSceneBuilder:
    """builder: memorial_scene_builder(...); client: a ClientSession (or anything with tick/headset/leave);
    safe_spec: the plan's grounding room (SceneSpec)."""
    return SessionSceneBuilder(builder, client, safe_spec)
