"""A subject with one member per role, its room keys, and an in-process room server."""

from __future__ import annotations

import asyncio
import contextlib

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


def url(server) -> str:
    return f"ws://127.0.0.1:{server.port}"


async def join(server, member: str, **kw):
    """Join with a fresh invite (cheap) unless a passphrase is given."""
    from vr_app.room.access import make_invite, room_keys
    from vr_app.room.client import RoomClient

    if "passphrase" not in kw and "invite" not in kw:
        kw["invite"] = make_invite(room_keys(server.vault), server.vault.name, member)
    return await RoomClient.connect(url(server), member, **kw)


def run(coro, timeout: float = 30.0):
    return asyncio.run(asyncio.wait_for(coro, timeout))
