"""`memorial room join`: connect, fetch the likeness into memory, and draw the room until quit.

The client's asyncio loop is stepped once per rendered frame from a Panda3D task, so the
network and the scene share one thread and the view reads the client's state safely.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from .. import tasks
from ..errors import DisplayUnavailable
from ..xr.scene_api import XrSceneDefaults
from .client import RoomClient, RoomError

POSE_HZ = 20.0
CARD_HEIGHT = 1.1  # metres above the floor for notes and photos placed from a window


@dataclass
class JoinOptions:
    url: str
    member: str
    room: str = "main"
    invite: str | None = None
    passphrase: str | None = None
    scene: str = "garden"
    seconds: float | None = None  # quit after this long (tests)
    screenshot: str | None = None  # write the last frame here (tests)
    microphone: str | None = "default"  # ALSA capture device; None: listen only


PUMP_S = 0.002  # network time per rendered frame


def _pump(loop: asyncio.AbstractEventLoop) -> None:
    """Give the client's loop PUMP_S of every frame: a single step per frame starved multi-step work
    (WebRTC's ICE and DTLS handshakes took longer than a whole session at low frame rates)."""
    loop.run_until_complete(asyncio.sleep(PUMP_S))


def connect(options: JoinOptions, device: str, echo=print) -> tuple[asyncio.AbstractEventLoop, RoomClient, tuple | None]:
    logging.getLogger("websockets").setLevel(logging.CRITICAL)  # its own lines stay off the member's terminal
    loop = asyncio.new_event_loop()
    client = loop.run_until_complete(RoomClient.connect(
        options.url, options.member, room=options.room, invite=options.invite, passphrase=options.passphrase,
        device=device))
    try:
        likeness = loop.run_until_complete(client.fetch_likeness())
    except RoomError as exc:
        echo(f"the likeness is not shown: {exc}")
        likeness = None
    echo(f"joined room '{options.room}' as {options.member} ({client.role}); "
         f"{len(client.state.items)} items, {len(client.presence)} present")
    return loop, client, likeness


class Session:
    """The per-frame work shared by every display: step the network, send our pose, redraw."""

    def __init__(self, loop, client: RoomClient, view):
        self.loop, self.client, self.view = loop, client, view
        self.started = time.monotonic()
        self._next_pose = 0.0
        self._asked: set[str] = set()
        self.refused: list[str] = []  # ops the server refused (shown nowhere yet; kept for tests)
        self.voice = None  # a voice.Voice mesh, offered to new members about once a second
        self._photo_spot: list[float] | None = None  # a photo to place once the vault's list arrives
        self._next_voice_sync = 0.0

    def step(self) -> bool:
        """False once the server has closed the connection."""
        _pump(self.loop)
        now = time.monotonic()
        if now >= self._next_pose and self.client.closed is None and self.client.role != "viewer":
            self._next_pose = now + 1.0 / POSE_HZ
            self.loop.create_task(self.client.send_pose(self.view.own_pose()))
        if self.client.closed is None:
            self._fetch_once()
            if self._photo_spot is not None and self.client.photo_keys is not None:
                self._place_pending_photo()
            if self.voice is not None and now >= self._next_voice_sync:
                self._next_voice_sync = now + 1.0
                self.loop.create_task(self.voice.sync())
        self.view.update(now - self.started)
        return self.client.closed is None

    def light_candle(self, spot: list[float] | None = None) -> None:
        """Light a candle at `spot`, by default on the floor a metre ahead of where this member looks."""
        if self.client.closed is not None or self.client.role not in ("owner", "family"):
            return  # other roles place nothing; the server would refuse it anyway
        self.loop.create_task(self._op("light_candle", position=spot or self.view.spot_ahead(1.0)))

    def put_out_candle(self, item: str | None = None) -> None:
        """Put out candle `item`, by default the newest lit one this member may change."""
        mine = [i for i in self.client.state.items.values() if i.kind == "candle" and i.lit
                and (i.owner == self.client.member or self.client.role == "owner")]
        if item is None and mine:
            item = max(mine, key=lambda i: int(i.id[1:])).id
        if item is not None and self.client.closed is None:
            self.loop.create_task(self._op("candle_out", item=item))

    def may_place(self) -> bool:
        return self.client.closed is None and self.client.role in ("owner", "family")

    def leave_note(self, text: str, spot: list[float] | None = None) -> bool:
        """Leave a written note at `spot`, by default a metre ahead; False when there is nothing to send."""
        from .protocol import MAX_NOTE

        text = " ".join(text.split())[:MAX_NOTE]  # one line on the card, within the server's limit
        if not text or not self.may_place():
            return False
        self.loop.create_task(self._op("place_note", position=spot or self._card_spot(), text=text))
        return True

    def place_next_photo(self, spot: list[float] | None = None) -> None:
        """Place the first vault photo not yet in this room, a metre ahead (the list is asked for once)."""
        if not self.may_place():
            return
        self._photo_spot = spot or self._card_spot()
        if self.client.photo_keys is None:
            self.loop.create_task(self.client.request_photo_list())  # placed in step() once the list is here
            return
        self._place_pending_photo()

    def _card_spot(self) -> list[float]:
        """A metre ahead at CARD_HEIGHT: notes and photos hang where a seated member reads them."""
        x, y, _ = self.view.spot_ahead(1.0)
        return [x, y, CARD_HEIGHT]

    def _place_pending_photo(self) -> None:
        spot, self._photo_spot = self._photo_spot, None
        placed = {i.photo for i in self.client.state.items.values() if i.kind == "photo"}
        key = next((k for k in self.client.photo_keys if k not in placed), None)
        if key is None:
            self.refused.append("every photo of the vault is already in this room")
            return
        self.loop.create_task(self._op("place_photo", photo=key, position=spot))

    async def _op(self, kind: str, **fields) -> None:
        try:
            await self.client.op(kind, **fields)
        except RoomError as exc:
            self.refused.append(str(exc))

    def _fetch_once(self) -> None:
        """A scheduled line's track and each placed photo are fetched once, into memory."""
        line = self.client.state.line
        if line is not None and "track:" + line.track not in self._asked:
            self._asked.add("track:" + line.track)
            self.loop.create_task(self.client.request_track(line.track))
        for item in self.client.state.items.values():
            if item.kind == "photo" and "photo:" + item.photo not in self._asked:
                self._asked.add("photo:" + item.photo)
                self.loop.create_task(self.client.request_photo(item.photo))

    def close(self) -> None:
        if self.client.closed is None:
            self.loop.run_until_complete(self.client.close())
        self.loop.close()


def run_desktop(options: JoinOptions, echo=print) -> None:
    from panda3d.core import Filename, loadPrcFileData

    from scenes.spec import load as load_spec

    from ..viewer import check_display
    from .view import RoomView

    check_display()
    spec = load_spec(options.scene)
    loop, client, likeness = connect(options, "desktop", echo)
    loadPrcFileData("memorial-room", "window-title Memorial room — AI-generated likeness\n"
                                     "audio-library-name p3openal_audio\n")
    from direct.showbase.ShowBase import ShowBase

    try:
        base = ShowBase(windowType="onscreen")
    except Exception as exc:  # Panda3D raises plain Exceptions when no pipe opens
        loop.run_until_complete(client.close())
        raise DisplayUnavailable(f"could not open a window: {exc}") from None
    from ..stage import Stage

    base.disable_mouse()
    stage = Stage(render=base.render, aspect2d=base.aspect2d, camera=base.camera, lens=base.camLens,
                  size=(base.win.get_x_size(), base.win.get_y_size()))
    base.win.set_clear_color((*spec.background, 1))
    audio = None
    if base.sfxManagerList and base.sfxManagerList[0].is_valid():
        from ..audio import SpatialAudio

        audio = SpatialAudio(base.sfxManagerList[0], base.camera, base.render, base.task_mgr)
    view = RoomView(stage, client, spec, likeness, audio)
    session = Session(loop, client, view)
    voices = None
    if audio is not None:
        voices = _voice_mesh(client, audio, view, options.microphone, echo)
        if voices is not None:
            session.voice = voices[0]

    def frame(task):
        if not session.step():
            echo(f"the server closed the connection: {client.closed[1]}")
            base.userExit()
        if options.seconds is not None and task.time > options.seconds:
            if options.screenshot:
                base.win.save_screenshot(Filename.from_os_specific(options.screenshot))
            base.userExit()
        return task.cont

    base.task_mgr.add(frame, "memorial-room", sort=tasks.CLOCK)
    from .ui import NoteEntry, desktop_keys, key_help

    key_help(stage.aspect2d, stage.aspect)
    entry = NoteEntry(stage.aspect2d, stage.aspect, session.leave_note)
    for key, action in desktop_keys(session, entry, base.userExit).items():
        base.accept(key, action)
    try:
        base.run()
    except SystemExit:
        pass
    finally:
        if voices is not None:
            voices[1].close()  # first: a frame still arriving while the mesh closes is not played
            loop.run_until_complete(voices[0].close())
        if audio is not None:
            audio.close()  # leaving stops every sound at once
        session.close()
        base.destroy()


class XrRoom(XrSceneDefaults):
    """The shared room as a scene for `run_openxr_view`: seat, overlay panel, per-frame step."""

    def __init__(self, render, loop, client: RoomClient, spec, likeness, overlay_size=(1280, 720)):
        from panda3d.core import NodePath, PerspectiveLens

        from ..stage import Stage
        from ..xr.interaction import SELECTABLE
        from .view import RoomView

        camera = render.attach_new_node("desktop-camera")
        overlay = NodePath("xr-aspect2d")
        stage = Stage(render=render, aspect2d=overlay, camera=camera, lens=PerspectiveLens(), size=overlay_size)
        self.view = RoomView(stage, client, spec, likeness)
        self.view.room.root.set_tag(SELECTABLE, "room")  # the controller's ray can pick any spot in the room
        self.session = Session(loop, client, self.view)
        self.viewpoint = render.attach_new_node("xr-seat")  # the desktop camera's place becomes the seat
        self.viewpoint.set_pos(camera.get_pos(render))
        self.viewpoint.set_h(camera.get_h(render))
        self.overlay_root = overlay
        self.overlay_aspect = stage.aspect
        self.audio = None
        self.voices = None
        self.microphone: str | None = None  # capture device, set by run_openxr
        self.echo = print

    def attach(self, frame_loop) -> None:
        anchors = frame_loop.anchors
        self.view.follow_headset(anchors.head, anchors.left_hand, anchors.right_hand)
        self._start_audio(anchors.head)

    def _start_audio(self, head) -> None:
        """The line at the likeness's mouth and members' voices at their heads, heard from the headset."""
        from panda3d.core import AudioManager, loadPrcFileData

        from ..audio import SpatialAudio

        loadPrcFileData("memorial-room-xr", "audio-library-name p3openal_audio\n")
        manager = AudioManager.create_AudioManager()
        if not manager.is_valid():
            return  # no sound device: the room still works, silently
        self.audio = SpatialAudio(manager, head, self.view.stage.render)
        self.view.audio = self.audio
        self.voices = _voice_mesh(self.session.client, self.audio, self.view, self.microphone, self.echo)
        if self.voices is not None:
            self.session.voice = self.voices[0]

    def update(self, t: float) -> None:
        self.session.step()
        if self.audio is not None:
            self.audio.update()
            self.audio.manager.update()

    def close(self) -> None:
        """Leaving stops every voice and sound at once, then the connection."""
        if self.voices is not None:
            self.voices[1].close()  # first: a frame still arriving while the mesh closes is not played
            self.session.loop.run_until_complete(self.voices[0].close())
        if self.audio is not None:
            self.audio.close()
            self.audio.manager.shutdown()
        self.session.close()

    def on_xr_event(self, event) -> None:
        """Trigger on a lit candle puts it out; anywhere else in the room lights one on the floor there."""
        if event.kind != "select" or event.point is None:
            return
        item = self.view.client.state.items.get(str(event.value))
        if item is not None and item.kind == "candle" and item.lit:
            self.session.put_out_candle(item.id)
        else:
            self.session.light_candle([float(event.point.x), float(event.point.y), 0.0])


def run_openxr(options: JoinOptions, runtime=None, echo=print, frames: int | None = None, eye_size=None):
    """The shared room in a headset (`runtime` None: the real OpenXR runtime; tests pass a simulated one)."""
    from scenes.spec import load as load_spec

    from ..xr.display import run_openxr_view

    spec = load_spec(options.scene)
    loop, client, likeness = connect(options, "headset", echo)
    rooms: list[XrRoom] = []

    def build(render):
        rooms.append(XrRoom(render, loop, client, spec, likeness))
        rooms[0].microphone, rooms[0].echo = options.microphone, echo
        return rooms[0]

    try:
        run_openxr_view(build, runtime=runtime, seconds=options.seconds, frames=frames, eye_size=eye_size,
                        echo=echo, on_start=lambda frame_loop: rooms[0].attach(frame_loop))
    finally:
        if rooms:
            rooms[0].close()
        else:
            loop.run_until_complete(client.close())
    return rooms[0] if rooms else None


def microphone_for(client: RoomClient, device: str | None, echo=print):
    """The member's microphone, opened only for a member who may speak (never for a viewer);
    None, with one line saying so, when there is none: the member then listens only."""
    if device is None or client.role == "viewer":
        return None
    from .microphone import MicrophoneUnavailable, open_microphone

    try:
        return open_microphone(device)
    except MicrophoneUnavailable as exc:
        echo(f"{exc}; you can listen but not speak")
        return None


def _voice_mesh(client: RoomClient, audio, view, microphone: str | None, echo=print):
    """The voice mesh: our microphone to the others, and their voices each at its avatar's head."""
    try:
        import aiortc  # noqa: F401  (the voice mesh's WebRTC)
    except ImportError:  # the room works without voices
        return None
    from .voice import Voice
    from .voice_audio import VoicePlayback

    def head(member: str):
        avatar = view.avatars.get(member)
        return avatar.head if avatar is not None else None

    playback = VoicePlayback(audio, head)
    return Voice(client, microphone_for(client, microphone, echo), playback.feed), playback
