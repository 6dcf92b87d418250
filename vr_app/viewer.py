"""The desktop viewer: a window onto the room, seated look-around with the mouse, keys for
playback, subtitles and volume, the persistent label and an intro card.

Keys: space play/pause · r replay · n next line · s subtitles on/off · +/- volume · esc quit.
"""

from __future__ import annotations

import os
import sys

import numpy as np

from . import tasks
from .errors import DisplayUnavailable

LOOK_YAW, LOOK_PITCH = 60.0, 30.0  # how far a seated visitor can turn, degrees
KEYS_HELP = "space play/pause · r replay · n next line · s subtitles · +/- volume · esc quit"


def check_display() -> None:
    """Fail early, in one line, when there is nothing to open a window on."""
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise DisplayUnavailable("no display found ($DISPLAY is not set); make a video with `memorial render` instead")


class Player:
    """Playback state for the lines (tracks); the voice's own clock drives the picture while it plays."""

    def __init__(self, scene, audio, lines: list, textures: list | None = None):
        self.scene, self.audio, self.lines = scene, audio, lines
        self.textures = textures  # one TextureStream per line, or None to keep the scene's texture
        self.index, self.t, self.playing, self.voice_started = 0, 0.0, True, False
        self.volume = 0.8

    def start_line(self, i: int) -> None:
        self.index = i % len(self.lines) if self.lines else 0
        if self.lines:
            trk = self.lines[self.index]
            self.scene.set_track(trk, self.textures[self.index] if self.textures else None)
            if self.audio is not None and trk.audio is not None:
                self.audio.set_voice(trk.audio, trk.sample_rate, self.scene.rig.mouth)
        self.t, self.voice_started, self.playing = 0.0, False, True

    def step(self, dt: float) -> None:
        if not self.playing:
            return
        intro = self.scene.timeline.intro_s
        if self.audio is not None and self.voice_started and self.audio.voice is not None:
            self.t = intro + self.audio.voice.get_time()  # audio is the master clock: lips stay on the voice
        else:
            self.t += dt
        if not self.voice_started and self.t >= intro and self.audio is not None:
            self.audio.play_voice(self.t - intro)
            self.voice_started = True
        self.scene.update(min(self.t, self.scene.timeline.total))

    def toggle(self) -> None:
        if self.playing:
            self.playing = False
            if self.audio is not None and self.voice_started:
                self.audio.pause_voice()
        else:
            self.playing = True
            if self.audio is not None and self.voice_started:
                self.audio.play_voice(self.t - self.scene.timeline.intro_s)


def run(inputs, spec, lines: list, max_seconds: float | None = None, textures: list | None = None,
        screenshot: str | None = None) -> None:
    """Open the window and run until the visitor quits (or `max_seconds`, for tests).

    `screenshot`: a PNG path; the window's own framebuffer is read back into it when `max_seconds`
    ends the run (the pixel test of this display path).
    """
    check_display()
    from panda3d.core import loadPrcFileData

    loadPrcFileData("memorial-viewer", "window-title Memorial — AI-generated likeness\n"
                                       "audio-library-name p3openal_audio\nsync-video true\n")
    from direct.showbase.ShowBase import ShowBase

    try:
        base = ShowBase(windowType="onscreen")
    except Exception as exc:  # Panda3D raises plain Exceptions when no pipe opens
        raise DisplayUnavailable(f"could not open a window: {exc}") from None
    if base.win is None:
        raise DisplayUnavailable("could not open a window on this display")
    try:
        _run(base, inputs, spec, lines, max_seconds, textures, screenshot)
    finally:
        base.destroy()


def _run(base, inputs, spec, lines, max_seconds, textures=None, screenshot=None) -> None:
    from panda3d.core import Filename

    from .ambience import synthesize
    from .audio import SpatialAudio
    from .scene import MemorialScene
    from .stage import Stage, ask_for_multisampling

    base.disable_mouse()
    if base.win.get_fb_properties().get_multisamples():  # a PRC asked for it (multisamples N)
        ask_for_multisampling(base.cam.node())
    size = (base.win.get_x_size(), base.win.get_y_size())
    stage = Stage(render=base.render, aspect2d=base.aspect2d, camera=base.camera, lens=base.camLens, size=size)
    base.win.set_clear_color((*spec.background, 1))
    scene = MemorialScene(stage, spec, inputs.head, inputs.texture, lines[0] if lines else None, inputs.photos,
                          title=inputs.title, bust=inputs.bust)
    home_h, home_p = base.camera.get_h(), base.camera.get_p()
    audio = None
    if base.sfxManagerList and base.sfxManagerList[0].is_valid():
        audio = SpatialAudio(base.sfxManagerList[0], base.camera, base.render, base.task_mgr)
        audio.set_ambience(synthesize(spec.ambience, 12.0, 48000, spec.ambience_db), 48000)
    player = Player(scene, audio, lines, textures)
    player.start_line(0)
    clock = base.clock if hasattr(base, "clock") else None

    def tick(task):
        player.step(clock.get_dt() if clock is not None else 1 / 60)
        if max_seconds is not None and task.time > max_seconds:
            if screenshot:
                base.win.get_screenshot().write(Filename.from_os_specific(str(screenshot)))
            base.userExit()
        return task.cont

    def look(task):
        if base.mouseWatcherNode.has_mouse():
            m = base.mouseWatcherNode.get_mouse()
            base.camera.set_hpr(home_h - float(m.x) * LOOK_YAW, home_p + float(m.y) * LOOK_PITCH, 0)
        return task.cont

    def volume(delta):
        player.volume = float(np.clip(player.volume + delta, 0, 1))
        if audio is not None:
            audio.set_volume(player.volume)

    def subtitles():
        scene.overlay.subtitles_on = not scene.overlay.subtitles_on

    base.task_mgr.add(tick, "memorial-clock", sort=tasks.CLOCK)
    base.task_mgr.add(look, "memorial-look", sort=tasks.CONTROLS)
    base.accept("space", player.toggle)
    base.accept("r", lambda: player.start_line(player.index))
    base.accept("n", lambda: player.start_line(player.index + 1))
    base.accept("s", subtitles)
    for key, d in (("+", 0.1), ("=", 0.1), ("-", -0.1)):
        base.accept(key, volume, [d])
    base.accept("escape", base.userExit)
    if inputs.session is not None:
        inputs.session.attach(base, scene, player, audio)  # after the keys: the session replaces some
    try:
        base.run()
    finally:
        if audio is not None:
            audio.close()
