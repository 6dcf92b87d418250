"""The desktop viewer's side of a session: each frame it asks the ClientSession what to show,
hands the room to RoomView, and does what only a window has: playback of the line's
recording, volume, keys and the mirror picture for the therapist.

Keys while in a session: q or esc leave (always honoured), digits + enter answer SUDS,
h takes the (simulated) headset off/on. The viewer's own playback keys are switched off:
lines play when the therapist plays them.
"""

from __future__ import annotations

import io

import numpy as np

from .. import tasks
from .client import ClientSession
from .controller import ClientView
from .room_view import RoomView

MIRROR_W = 192


class SessionHook:
    def __init__(self, client: ClientSession, track_names: list[str], safe_spec=None):
        self.client = client
        self.track_names = track_names
        self.safe_spec = safe_spec  # the plan's grounding room
        self.view: ClientView | None = None
        self.exited = False
        self._digits = ""
        self._worn = True
        self._track = None

    def attach(self, base, scene, player, audio) -> None:
        self.base, self.scene, self.player, self.audio = base, scene, player, audio
        self.room = RoomView(scene, safe_spec=self.safe_spec)
        player.playing = False  # nothing plays until the therapist plays a line
        if audio is not None and audio.voice is not None:
            audio.voice.stop()
        for key in ("space", "r", "n", "s"):
            base.ignore(key)
        base.accept("escape", self.leave)
        base.accept("q", self.leave)
        base.accept("h", self.toggle_headset)
        base.accept("enter", self.submit_suds)
        for d in "0123456789":
            base.accept(d, self.digit, [d])
        self.client.snapshot = self.snapshot
        base.task_mgr.add(self._task, "memorial-session", sort=tasks.SESSION)

    # ----- client input ----------------------------------------------------------------------

    def leave(self) -> None:
        self.client.leave()
        self.client.tick()  # the console hears it before the window closes
        self.exited = True
        self.base.userExit()

    def toggle_headset(self) -> None:
        self._worn = not self._worn
        self.client.headset(self._worn)

    def digit(self, d: str) -> None:
        self._digits = (self._digits + d)[-3:]

    def submit_suds(self) -> None:
        if self._digits and self.view is not None and self.view.suds_prompt and int(self._digits) <= 100:
            self.client.answer_suds(int(self._digits))
        self._digits = ""

    # ----- each frame ------------------------------------------------------------------------

    def _task(self, task):
        self.apply(self.client.tick())
        return task.cont

    def apply(self, view: ClientView) -> None:
        self.view = view
        self._play(view)
        if self.audio is not None:
            self.audio.set_volume(self.player.volume * view.volume)
        prompt = f"\n\nHow distressed are you right now, 0 to 100? Type it and press Enter. {self._digits}" \
            if view.suds_prompt else ""
        self.room.apply(view, prompt)
        self.client.controller.gaze = self.room.gaze(view)

    def _play(self, view: ClientView) -> None:
        player = self.player
        if view.frozen or not view.line:
            if player.playing:
                player.toggle()
            self._track = None
            return
        if view.track and view.track != self._track and view.track in self.track_names:
            player.start_line(self.track_names.index(view.track))
        self._track = view.track
        if view.track and player.t >= player.scene.timeline.total:
            self.client.controller.line_done()

    def snapshot(self) -> bytes | None:
        """The window's last frame as a small JPEG, for the therapist's mirror."""
        from PIL import Image

        shot = self.base.win.get_screenshot()
        if shot is None:
            return None
        w, h = shot.get_x_size(), shot.get_y_size()
        data = np.frombuffer(bytes(shot.get_ram_image_as("RGB")), np.uint8).reshape(h, w, 3)[::-1]
        img = Image.fromarray(data).resize((MIRROR_W, max(1, MIRROR_W * h // w)))
        out = io.BytesIO()
        img.save(out, format="JPEG", quality=70)
        return out.getvalue()
