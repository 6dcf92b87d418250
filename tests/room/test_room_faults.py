"""Bad input and faults: each gets a typed error or a dropped connection, and the other members
carry on undisturbed; a kill -9 of the server loses no acknowledged op."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest
from websockets.asyncio.client import connect

from tests.conftest import OWNER_PASS
from tests.room.conftest import anna_and_ben, join, run, running_server, url
from vr_app.room import protocol as p
from vr_app.room.access import make_invite, room_keys
from vr_app.room.client import RoomClient, RoomError

POSE = (0.0, 1.6, 0.0, 0.0, 0.0, 0.0, 1.0) * 3


async def _still_fine(client: RoomClient) -> None:
    """A member who was not at fault can still place something and gets its ack."""
    seq = await client.op("light_candle", position=[0, 0, 1])
    assert client.state.items[f"i{seq}"].lit


def test_malformed_oversized_and_unknown_messages_get_typed_errors(room_vault):
    async def scenario():
        async with anna_and_ben(room_vault) as (_, anna, ben):
            for frame in ("not json", '{"type":"teleport","rid":1}', '{"type":"light_candle","rid":2}',
                          json.dumps({"type": "place_note", "rid": 3, "position": [0, 0, 1], "text": "x" * 600}),
                          json.dumps({"type": "heartbeat", "pad": "x" * (p.MAX_TEXT_MESSAGE + 10)}),
                          b"P" + b"\x00" * 10):
                await ben.send_raw(frame)
            await ben.wait_until(lambda c: len(c.errors) >= 6)
            assert [e["code"] for e in ben.errors] == ["invalid", "unknown_type", "invalid", "invalid", "too_large",
                                                        "invalid"]
            assert ben.closed is None
            await _still_fine(anna)
            await _still_fine(ben)
            # a frame above the websocket limit closes that connection only (1009: message too big)
            await ben.send_raw("x" * (4 * p.MAX_TEXT_MESSAGE))
            await ben.wait_until(lambda c: c.closed is not None)
            assert ben.closed[0] == 1009
            await _still_fine(anna)

    run(scenario())


def test_ops_beyond_the_role_are_refused_and_audited(room_vault):
    async def scenario():
        async with running_server(room_vault) as server:
            anna, ben, tess, vic = [await join(server, m) for m in ("anna", "ben", "tess", "vic")]
            candle = await ben.op("light_candle", position=[0, 0, 1])
            refusals = [
                (vic, "light_candle", {"position": [0, 0, 1]}),
                (vic, "place_note", {"position": [0, 0, 1], "text": "hi"}),
                (tess, "remove_item", {"item": f"i{candle}"}),
                (ben, "kick", {"member": "vic"}),
                (ben, "pause", {}),
                (anna, "pause", {}),
                (tess, "close", {}),
            ]
            for client, kind, fields in refusals:
                with pytest.raises(RoomError) as refused:
                    await client.op(kind, **fields)
                assert refused.value.code == "forbidden", kind
            with pytest.raises(RoomError) as no_photo:  # photos come from the vault only
                await ben.op("place_photo", photo="original/not-there", position=[0, 0, 1])
            assert no_photo.value.code == "no_photo"
            other = await anna.op("light_candle", position=[1, 0, 1])
            with pytest.raises(RoomError, match="placed by anna"):
                await ben.op("candle_out", item=f"i{other}")  # family: only their own items
            await anna.op("remove_item", item=f"i{candle}")  # owner: any item
            await tess.op("pause")
            with pytest.raises(RoomError) as paused:
                await ben.op("play_line", track="hello")
            assert paused.value.code == "paused"
            await anna.op("kick", member="vic")
            await vic.wait_until(lambda c: c.closed is not None)
            assert vic.closed[0] == 4003
            with pytest.raises(RoomError, match="removed from this room"):
                await join(server, "vic")
            for client in (anna, ben, tess):
                await client.close()
        audit = [(e.action, e.detail.get("member"), e.detail.get("op")) for e in room_vault.audit_entries()]
        assert ("room_refused", "vic", "light_candle") in audit
        assert sum(1 for a in audit if a[0] == "room_join") == 4
        assert ("room_kick", "anna", None) in audit
        assert any(e.action == "room_kick" and e.detail["target"] == "vic" for e in room_vault.audit_entries())

    run(scenario())


def test_forged_replayed_expired_invites_and_strangers_are_refused(room_vault):
    async def scenario():
        async with running_server(room_vault) as server:
            anna = await join(server, "anna")
            keys = room_keys(room_vault)
            good = make_invite(keys, "rose", "ben")
            ben = await RoomClient.connect(url(server), "ben", invite=good)
            await ben.close()
            body, sig = good.split(".")
            cases = {
                "replayed": ("ben", good),
                "forged": ("ben", body + "." + sig[:-2] + ("AA" if not sig.endswith("AA") else "BB")),
                "other member": ("tess", good),
                "expired": ("ben", make_invite(keys, "rose", "ben", ttl=-1)),
                "stranger": ("mallory", make_invite(keys, "rose", "mallory")),
                "nothing": ("ben", None),
            }
            for name, (member, token) in cases.items():
                with pytest.raises(RoomError) as refused:
                    await RoomClient.connect(url(server), member, invite=token)
                assert refused.value.code in ("InviteError", "WrongPassphrase"), name
            await _still_fine(anna)
            await anna.close()

    run(scenario())


def test_consent_without_shared_room_scope_refuses_every_join(make_subject):
    from vr_app.room.access import room_keys

    vault = make_subject("rose", scopes=["private_viewing"])
    room_keys(vault, create=True)

    async def scenario():
        async with running_server(vault) as server:
            with pytest.raises(RoomError) as refused:
                await join(server, "anna")
            assert refused.value.code == "ConsentError"

    run(scenario())


def test_pose_flood_drops_only_the_flooder(room_vault):
    async def scenario():
        async with anna_and_ben(room_vault) as (_, anna, ben):
            frame = p.encode_pose(1, time.time(), POSE)
            for _ in range(300):
                await ben.send_raw(frame)
            await ben.wait_until(lambda c: c.closed is not None)
            assert ben.closed == (1008, "pose flood")
            await _still_fine(anna)

    run(scenario())


async def _tess_who_never_reads(room_vault, server, anna):
    """tess joins on a raw socket with a tiny receive buffer, then stops reading; returns her socket."""
    invite = make_invite(room_keys(room_vault), "rose", "tess")
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", server.port))
    ws = await connect(url(server), sock=sock, compression=None, max_queue=1)
    await ws.send(json.dumps({"type": "join", "member": "tess", "invite": invite}))
    await anna.wait_until(lambda c: "tess" in c.presence)
    ws.transport.pause_reading()
    # loopback send buffers autotune to megabytes; pin the server's to a few KB so the test stays small
    tess_socket = server.rooms["main"].conns["tess"].ws.transport.get_extra_info("socket")
    tess_socket.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    return ws


def test_slow_consumer_is_dropped_and_others_keep_receiving(room_vault):
    async def scenario():
        async with anna_and_ben(room_vault, send_queue=100, lease_s=60) as (server, anna, ben):
            ws = await _tess_who_never_reads(room_vault, server, anna)
            note = "n" * p.MAX_NOTE
            for _ in range(20):
                await asyncio.gather(*(anna.op("place_note", position=[0, 0, 1], text=note) for _ in range(20)))
                await ben.send_pose(POSE)
            await anna.wait_until(lambda c: "tess" not in c.presence, timeout=15)
            assert server.stats["dropped_slow"] == 1
            await ben.wait_until(lambda c: c.state.seq == anna.state.seq)
            await _still_fine(ben)
            ws.transport.abort()

    run(scenario())


@pytest.mark.slow
def test_a_member_who_stops_reading_poses_is_dropped_and_others_keep_their_poses(room_vault):
    """Pose batches are written straight to the sockets (no queue): a socket whose unsent bytes pass
    pose_backlog is a slow consumer too, while the members who read keep getting poses."""
    async def scenario():
        async with anna_and_ben(room_vault, pose_backlog=2048, lease_s=60) as (server, anna, ben):
            ws = await _tess_who_never_reads(room_vault, server, anna)
            for _ in range(200):  # poses only: no op goes through tess's queue
                await anna.send_pose(POSE)
                await ben.send_pose(POSE)
                if "tess" not in anna.presence:
                    break
                await asyncio.sleep(0.04)
            await anna.wait_until(lambda c: "tess" not in c.presence, timeout=5)
            assert server.stats["dropped_slow"] == 1
            seen = len(anna.latencies)
            for _ in range(5):
                await ben.send_pose(POSE)
                await asyncio.sleep(0.05)
            await anna.wait_until(lambda c: len(c.latencies) > seen)
            await _still_fine(ben)
            ws.transport.abort()

    run(scenario())


def _start_server(env: dict) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-m", "generation.cli", "room", "serve", "rose", "--port", "0"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    if "room server" not in line:
        proc.kill()
        raise AssertionError(f"server did not start: {line!r} {proc.stderr.read()}")
    return proc, line.split(" on ")[1].split()[0]


@pytest.mark.slow
def test_kill_9_loses_no_acknowledged_op(room_vault, memorial_home):
    env = {**os.environ, "MEMORIAL_HOME": str(memorial_home), "MEMORIAL_PASSPHRASE": OWNER_PASS,
           "PYTHONPATH": os.getcwd()}
    keys = room_keys(room_vault)
    proc, server_url = _start_server(env)
    acked: list[int] = []

    async def hammer():
        clients = [await RoomClient.connect(server_url, m, invite=make_invite(keys, "rose", m)) for m in ("anna", "ben")]

        async def place(client, n):
            for i in range(n):
                try:
                    acked.append(await client.op("light_candle", position=[0.01 * i, 0, 1]))
                except RoomError:
                    return  # the server died with this op in flight: it was never acknowledged

        tasks = [asyncio.create_task(place(c, 10_000)) for c in clients]
        while len(acked) < 40:
            await asyncio.sleep(0.005)
        os.kill(proc.pid, signal.SIGKILL)
        await asyncio.wait(tasks, timeout=10)

    try:
        run(hammer())
    finally:
        proc.kill()
        proc.wait()
    assert len(acked) >= 40
    proc, server_url = _start_server(env)
    try:
        async def check():
            client = await RoomClient.connect(server_url, "ben", invite=make_invite(keys, "rose", "ben"))
            missing = [seq for seq in acked if f"i{seq}" not in client.state.items]
            await client.close()
            return missing

        assert run(check()) == []
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)


def test_a_silent_member_loses_presence_when_its_lease_runs_out(room_vault):
    async def scenario():
        async with running_server(room_vault, lease_s=0.6) as server:
            ben = await join(server, "ben", heartbeat=False)
            assert "ben" in server.rooms["main"].conns
            await ben.wait_until(lambda c: c.closed is not None, timeout=5)
            assert ben.closed[0] == 4001  # presence lease expired
            assert "ben" not in server.rooms["main"].conns

    run(scenario())


def test_consent_revoked_while_serving_refuses_the_next_join(room_vault):
    async def scenario():
        async with running_server(room_vault) as server:
            ben = await join(server, "ben")
            from generation.vault import open_vault

            with open_vault("rose", OWNER_PASS) as other:  # another handle (another process, say) revokes
                other.revoke_consent()
            with pytest.raises(RoomError) as refused:
                await join(server, "tess")
            assert refused.value.code == "ConsentError"
            await ben.close()

    run(scenario())
