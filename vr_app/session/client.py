"""The client's side of a session, one object the viewer consults each frame:

    session = ClientSession.join(url, code, display="desktop")
    ...each frame: view = session.tick()   # ClientView: what to show now

It feeds the console's commands to the SessionController, reports state (on change and a few
times a second), events and SUDS answers, and sends a small JPEG of the view about once a
second. Without a console the controller's own safety rules still run; when the connection
drops, it knocks again in the background with the single-use resume token the console gave it.
"""

from __future__ import annotations

import base64
import threading
import time
from dataclasses import asdict

from . import protocol as p
from .controller import ClientView, SessionController
from .link import SessionLink, SessionRefused

STATE_EVERY_S = 0.25
FRAME_EVERY_S = 1.0
RETRY_S = 2.0
FINAL = ("ended", "stopped", "left")


class ClientSession:
    def __init__(self, link: SessionLink, controller: SessionController, snapshot=None, url: str = "",
                 display: str = ""):
        self.link, self.controller = link, controller
        self.url, self.display = url, display
        self.snapshot = snapshot  # () -> JPEG bytes of the current view, or None
        self._last_state: tuple | None = None
        self._state_at = self._frame_at = -1e9
        self._unsent: list = []  # events that happened while the link was down
        self._rejoined: SessionLink | None = None
        self._rejoining = False
        self.closing = False

    @classmethod
    def join(cls, url: str, code: str, display: str, clock=time.monotonic, link_timeout_s: float | None = None):
        link = SessionLink(url, code, display)
        controller = SessionController(plan=link.welcome.plan, clock=clock)
        if link_timeout_s is not None:
            controller.link_timeout_s = link_timeout_s
        controller.link_alive()
        return cls(link, controller, url=url, display=display)

    def _rejoin(self) -> None:
        """In the background: knock with the last resume token until the console takes us back
        (the controller meanwhile keeps its own safety rules: it has paused into the neutral room)."""
        token = self.link.welcome.resume
        while not self.closing:
            try:
                self._rejoined = SessionLink(self.url, token, self.display)
                return
            except SessionRefused:
                time.sleep(RETRY_S)

    def _check_link(self) -> None:
        if self._rejoined is not None:
            self.link, self._rejoined, self._rejoining = self._rejoined, None, False
            self.controller.link_alive()
            for msg in self._unsent:
                self.link.send(msg)
            self._unsent.clear()
        elif self.link.closed.is_set() and not self._rejoining and self.url and self.controller.mode not in FINAL:
            self._rejoining = True
            threading.Thread(target=self._rejoin, name="session-rejoin", daemon=True).start()

    @property
    def session_id(self) -> str:
        return self.link.welcome.session

    def tick(self) -> ClientView:
        c = self.controller
        self._check_link()
        for msg in self.link.poll():
            if isinstance(msg, p.Command):
                c.command(msg.name, msg.seq)
            elif isinstance(msg, p.Heartbeat):
                c.link_alive()
        c.tick()
        for ev in c.drain_events():
            msg = p.Event(kind=ev.kind, detail=ev.detail)
            if not self.link.send(msg):
                self._unsent.append(msg)
        view = c.view()
        now = c.clock()
        key = (view.mode, view.room, view.likeness, view.step, view.line, round(view.dim, 1), view.frozen,
               view.suds_prompt, view.reason, view.message, c.ack)
        if key != self._last_state or now - self._state_at >= STATE_EVERY_S:
            self._last_state, self._state_at = key, now
            fields = {k: v for k, v in asdict(view).items() if k not in ("track", "breath")}
            self.link.send(p.State(ack=c.ack, gaze=c.gaze, **fields))
        if self.snapshot is not None and now - self._frame_at >= FRAME_EVERY_S:
            self._frame_at = now
            jpeg = self.snapshot()
            if jpeg:
                self.link.send(p.Frame(jpeg=base64.b64encode(jpeg).decode("ascii")))
        return view

    def answer_suds(self, value: int) -> None:
        step = self.controller.answer_suds(value)
        self.link.send(p.Suds(value=value, step=step))

    def leave(self) -> None:
        self.controller.leave()

    def headset(self, worn: bool) -> None:
        self.controller.headset(worn)

    def close(self) -> None:
        self.tick()  # the last state and events reach the console before the link closes
        self.closing = True
        self.link.close()
