"""A live console on a free loopback port, a headless client process, and a browser-side
WebSocket, for the session tests and the latency benchmark."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from vr_app.session import protocol as p

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveConsole:
    """uvicorn serving create_app(service) in a thread."""

    def __init__(self, service):
        import uvicorn

        from vr_app.console.app import create_app

        self.service = service
        self.port = free_port()
        config = uvicorn.Config(create_app(service), host="127.0.0.1", port=self.port, log_level="warning",
                                access_log=False, lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("console did not start")
            time.sleep(0.02)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/?t={self.service.token}"

    @property
    def client_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/client"

    def drop_client(self) -> None:
        """Close the client's socket from the console's side, as a network drop would."""
        import asyncio

        hub = self.server.config.app.state.hub
        loop = self.server.servers[0].get_loop()
        asyncio.run_coroutine_threadsafe(hub.client.close(), loop).result(timeout=5)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=5)


class HeadlessClient:
    """The real client controller in its own process (python -m vr_app.session.headless)."""

    def __init__(self, url: str, code: str, link_timeout: float | None = None):
        args = [sys.executable, "-m", "vr_app.session.headless", "--url", url, "--code", code]
        if link_timeout is not None:
            args += ["--link-timeout", str(link_timeout)]
        env = dict(os.environ, PYTHONPATH=str(REPO))
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, env=env, cwd=REPO)
        self.states: list[dict] = []
        self.joined = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            data = json.loads(line)
            if "joined" in data:
                self.joined.set()
            else:
                self.states.append(data)

    def say(self, line: str) -> None:
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def wait_for(self, pred, timeout: float = 5.0) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for state in reversed(self.states):
                if pred(state):
                    return state
            time.sleep(0.01)
        raise AssertionError(f"client never reached the state; last: {self.states[-1:]}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
        self.proc.wait(timeout=5)


class Browser:
    """The therapist's side of the console WebSocket, without a browser."""

    def __init__(self, console: LiveConsole):
        from websockets.sync.client import connect

        self.ws = connect(f"ws://127.0.0.1:{console.port}/ws/console?t={console.service.token}", proxy=None,
                          compression=None, ping_interval=None, max_size=p.MAX_MESSAGE, legacy=True)
        self.status = p.decode(self.ws.recv(timeout=5)).data
        self.alerts: list[str] = []

    def send(self, msg) -> None:
        self.ws.send(p.encode(msg))

    def command(self, name: str) -> None:
        self.send(p.Command(seq=0, name=name, sent=time.time()))

    def wait_client(self, key: str, value, timeout: float = 5.0) -> dict:
        """Wait until the console shows the client's state with state[key] == value; returns that state."""
        return self.wait_status(lambda s: (s["client"]["state"] or {}).get(key) == value, timeout)["client"]["state"]

    def wait_status(self, pred, timeout: float = 5.0) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                msg = p.decode(self.ws.recv(timeout=max(0.01, deadline - time.monotonic())))
            except TimeoutError:
                break
            if isinstance(msg, p.Alert):
                self.alerts.append(msg.text)
            elif isinstance(msg, p.Status):
                self.status = msg.data
                if pred(self.status):
                    return self.status
        raise AssertionError(f"status never matched; client state: {self.status['client']}")

    def close(self) -> None:
        self.ws.close()


def start_xvfb() -> tuple[subprocess.Popen, str]:
    """A private X server large enough for the viewer's 800x600 window."""
    from tests.xr.native.build import start_xvfb as start

    return start("1024x768x24")


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync", "--disable-dev-shm-usage"]


def mean_rgb(data_url: str):
    """Mean colour of a mirror frame (a data: URL holding a JPEG) as a numpy [3] array."""
    import base64
    import io

    import numpy as np
    from PIL import Image

    raw = base64.b64decode(data_url.split(",", 1)[1])
    return np.asarray(Image.open(io.BytesIO(raw)).convert("RGB"), np.float32).reshape(-1, 3).mean(axis=0)
