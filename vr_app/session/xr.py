"""A session in the headset: wraps the memorial scene builder for run_openxr_view so each
frame applies the session's view, and the runtime's own events feed the safety rules (losing
input focus, e.g. the headset taken off or the system menu opened, pauses; the controller's
pause button or the session ending is the client leaving)."""

from __future__ import annotations

from .controller import ClientView
from .room_view import RoomView

LEAVING_STATES = ("STOPPING", "EXITING", "LOSS_PENDING")


class XrSessionScene:
    """What run_openxr_view expects of a scene, around a MemorialScene."""

    def __init__(self, scene, client):
        self.scene, self.client = scene, client
        self.room = RoomView(scene, dim_around=scene.viewpoint)
        self.viewpoint = scene.viewpoint
        self.overlay_root = scene.overlay_root
        self.overlay_aspect = scene.overlay_aspect
        self.view: ClientView | None = None

    def update(self, t: float) -> None:
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


def session_scene_builder(builder, client):
    """builder: memorial_scene_builder(...); client: a ClientSession (or anything with tick/headset/leave)."""
    def build(render):
        return XrSessionScene(builder(render), client)
    return build
