"""A subject with one member per role, its room keys, and an in-process room server."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import subprocess
import time

import pytest

from tests.conftest import OWNER_PASS

PASSES = {"anna": OWNER_PASS, "ben": "ben-passphrase-1", "tess": "tess-passphrase-1", "vic": "vic-passphrase-1"}
ROLES = {"anna": "owner", "ben": "family", "tess": "therapist", "vic": "viewer"}


@pytest.fixture
def room_vault(make_subject):
    """The owner's open vault of 'rose', with ben (family), tess (therapist), vic (viewer)."""
    from vr_app.room.access import room_keys

    vault = make_subject("rose")
    for member, role in ROLES.items():
        if role != "owner":
            vault.add_member(member, role, PASSES[member])
    room_keys(vault, create=True)
    return vault


@contextlib.asynccontextmanager
async def running_server(vault, **config):
    """A RoomServer on a free loopback port serving `vault`'s subject."""
    from vr_app.room.access import room_keys
    from vr_app.room.server import RoomServer, ServerConfig
    from vr_app.room.store import FileOpLog

    keys = room_keys(vault)
    cfg = ServerConfig(subject=vault.name, port=0, **config)
    server = RoomServer(cfg, vault, keys, lambda room: FileOpLog(vault.name, room, keys.store))
    await server.start()
    try:
        yield server
    finally:
        await server.close()


@contextlib.asynccontextmanager
async def anna_and_ben(vault, **config):
    """A running server with anna (owner) and ben (family) joined; both leave at the end."""
    async with running_server(vault, **config) as server:
        anna = await join(server, "anna")
        ben = await join(server, "ben")
        try:
            yield server, anna, ben
        finally:
            await ben.close()  # closing twice, or after the server dropped one, is harmless
            await anna.close()


def url(server) -> str:
    return f"ws://127.0.0.1:{server.port}"


async def join(server, member: str, **kw):
    """Join with a fresh invite (cheap) unless a passphrase is given."""
    from vr_app.room.access import make_invite, room_keys
    from vr_app.room.client import RoomClient

    if "passphrase" not in kw and "invite" not in kw:
        kw["invite"] = make_invite(room_keys(server.vault), server.vault.name, member)
    return await RoomClient.connect(url(server), member, **kw)


def start_redis(folder) -> tuple[subprocess.Popen, str] | None:
    """A redis-server on a free loopback port with fsync on every write, once it accepts connections:
    (process, url), or None where no redis-server is on the PATH. The caller stops the process."""
    if shutil.which("redis-server") is None:
        return None
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder),
                             "--appendonly", "yes", "--appendfsync", "always", "--save", ""],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, f"redis://127.0.0.1:{port}/0"
        except OSError:
            if time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError("redis-server did not start") from None
            time.sleep(0.05)


def run(coro, timeout: float = 30.0):
    return asyncio.run(asyncio.wait_for(coro, timeout))


class BackgroundRoom:
    """A room server (and any headless clients) on an event loop in another thread, for tests whose
    main thread runs a blocking frame loop (the headset client)."""

    def __init__(self, vault):
        import threading

        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self._cm = running_server(vault)
        self.server = self.call(self._cm.__aenter__())

    def call(self, coro, timeout: float = 30.0):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.call(self._cm.__aexit__(None, None, None))
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
