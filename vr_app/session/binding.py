"""The thin Panda3D side of a session: each frame it asks the ClientSession what to show and
applies it to the desktop viewer's room (dimming, silence, neutral room, where the likeness
stands, the line playing, the message, the SUDS prompt). The label is re-shown every frame.

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

NEUTRAL_RGB = (0.78, 0.78, 0.76)  # a plain, light, empty room
FAR_M = 3.0  # how much farther away the likeness stands in a 'far' step
MIRROR_W = 192


class SessionHook:
    def __init__(self, client: ClientSession, track_names: list[str]):
        self.client = client
        self.track_names = track_names
        self.view: ClientView | None = None
        self.exited = False
        self._digits = ""
        self._worn = True
        self._track = None

    def attach(self, base, scene, player, audio) -> None:
        from panda3d.core import CardMaker, TextNode, TransparencyAttrib

        self.base, self.scene, self.player, self.audio = base, scene, player, audio
        self.room_clear = base.win.get_clear_color()
        self.bust_home = scene.rig.root.get_pos()
        player.playing = False  # nothing plays until the therapist plays a line
        scene.timeline.intro_s = 0.0  # the therapist frames the session; the label stays on screen
        scene.update(0.0)
        if audio is not None and audio.voice is not None:
            audio.voice.stop()
        aspect = scene.stage.aspect
        cm = CardMaker("session-dim")
        cm.set_frame(-aspect, aspect, -1, 1)
        self.dim = scene.overlay.root.attach_new_node(cm.generate())
        self.dim.set_color(0, 0, 0, 1)
        self.dim.set_transparency(TransparencyAttrib.M_alpha)
        self.dim.set_bin("fixed", 90)  # under the label (bin 100): the label stays readable
        self.text = TextNode("session-message")
        self.text.set_align(TextNode.A_center)
        self.text.set_wordwrap(26)
        self.text.set_text_color(1, 1, 1, 1)
        self.text_np = scene.overlay.root.attach_new_node(self.text)
        self.text_np.set_scale(0.07)
        self.text_np.set_pos(0, 0, 0.75)
        self.text_np.set_bin("fixed", 95)
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
        scene, player = self.scene, self.player
        neutral = view.room == "neutral"
        scene.room.root.show() if not neutral else scene.room.root.hide()
        self.base.win.set_clear_color((*NEUTRAL_RGB, 1) if neutral else self.room_clear)
        rig = scene.rig.root
        if view.likeness == "none":
            rig.hide()
        else:
            rig.show()
            rig.set_pos(self.bust_home + (0, FAR_M, 0) if view.likeness == "far" else self.bust_home)
        if view.dim > 0:
            self.dim.show()
            self.dim.set_alpha_scale(view.dim)
        else:
            self.dim.hide()
        self._play(view)
        if self.audio is not None:
            self.audio.set_volume(player.volume * view.volume)
        prompt = f"\n\nHow distressed are you right now, 0 to 100? Type it and press Enter. {self._digits}" \
            if view.suds_prompt else ""
        self.text.set_text(view.message + prompt)
        self.text.set_text_color(*((0.12, 0.12, 0.12, 1) if neutral and view.dim < 0.5 else (1, 1, 1, 1)))
        if not view.line:
            scene.overlay.set_subtitle("")  # nothing is said: no words stay on screen after a stop
        elif not view.track:
            scene.overlay.set_subtitle(view.line)  # an authored line without a recording: words only
        scene.overlay.label_np.show()
        self.client.controller.gaze = self._gaze(view)

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

    def _gaze(self, view: ClientView) -> str:
        """'likeness' when the head is within 15 degrees of the view's centre, else 'room'."""
        if view.likeness == "none":
            return "room"
        cam = self.scene.stage.camera
        p = cam.get_relative_point(self.scene.rig.root, (0, 0, 0))
        angle = np.degrees(np.arctan2(np.hypot(p.x, p.z), max(p.y, 1e-6)))
        return "likeness" if angle < 15 else "room"

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
