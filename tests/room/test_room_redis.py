"""Scale-out on Redis: the op log in a stream under a lease (fakeredis), and a real
redis-server on loopback where one server process is killed and another takes the room over."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import OWNER_PASS
from tests.room.conftest import start_redis
from vr_app.room import protocol as p
from vr_app.room.store import RoomBusy

KEY = bytes(range(32))

fakeredis = pytest.importorskip("fakeredis")


def _candle(state, i: int) -> dict:
    return state.check(p.parse_client(f'{{"type":"light_candle","rid":{i},"position":[0,0,1]}}'), "ben", "family", 1.0)


def test_stream_log_replays_is_fenced_by_the_lease_and_snapshots(monkeypatch):
    from vr_app.room import redis_log, store

    monkeypatch.setattr(store, "SNAPSHOT_EVERY", 4)
    client = fakeredis.FakeRedis()
    first = redis_log.RedisOpLog(client, "rose", "main", KEY, advertise=lambda: "ws://127.0.0.1:1")
    first.acquire()
    state = first.load()
    for i in range(6):
        record = _candle(state, i)
        state.apply(state.seq + 1, record)
        first.append([(state.seq, record)])
        first.maybe_snapshot(state)
    assert client.xlen(first.k_ops) == 2 and client.get(first.k_snapshot)  # 4 ops folded into the snapshot

    second = redis_log.RedisOpLog(client, "rose", "main", KEY, advertise=lambda: "ws://127.0.0.1:2")
    with pytest.raises(RoomBusy) as busy:
        second.acquire()
    assert busy.value.url == "ws://127.0.0.1:1"

    client.delete(first.k_lease)  # the first host died and its lease expired
    second.acquire()
    assert second.load().to_json() == state.to_json()
    assert first.renew() is False
    with pytest.raises(redis_log.LeaseLost):  # a paused old host cannot write after the takeover
        first.append([(state.seq + 1, _candle(state, 99))])
    assert second.load().seq == state.seq


def test_presence_is_published_with_an_expiry():
    from vr_app.room import redis_log

    client = fakeredis.FakeRedis()
    log = redis_log.RedisOpLog(client, "rose", "main", KEY)
    log.publish_presence([{"member": "ben", "slot": 0}])
    assert b"ben" in client.get(log.k_presence) and 0 < client.pttl(log.k_presence) <= redis_log.PRESENCE_MS


@pytest.fixture
def redis_url(tmp_path):
    """A real redis-server on loopback with fsync on every write, stopped after the test."""
    redis = start_redis(tmp_path)
    if redis is None:
        pytest.skip("no redis-server (apt-get install redis-server)")
    proc, url = redis
    yield url
    proc.terminate()
    proc.wait(timeout=10)


def _serve(env: dict, redis_url: str) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-m", "generation.cli", "room", "serve", "rose", "--port", "0",
                             "--redis", redis_url], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    assert "room server" in line, proc.stderr.read()
    return proc, line.split(" on ")[1].split()[0]


@pytest.mark.slow
def test_killed_host_its_room_moves_to_another_process_with_every_acked_op(room_vault, memorial_home, redis_url):
    from vr_app.room.access import make_invite, room_keys
    from vr_app.room.client import RoomClient, RoomError

    env = {**os.environ, "MEMORIAL_HOME": str(memorial_home), "MEMORIAL_PASSPHRASE": OWNER_PASS,
           "PYTHONPATH": os.getcwd()}
    keys = room_keys(room_vault)
    a, url_a = _serve(env, redis_url)
    b, url_b = _serve(env, redis_url)

    async def scenario():
        anna = await RoomClient.connect(url_a, "anna", invite=make_invite(keys, "rose", "anna"))
        with pytest.raises(RoomError) as busy:  # the room lives in process a: b points there
            await RoomClient.connect(url_b, "ben", invite=make_invite(keys, "rose", "ben"))
        assert busy.value.code == "RoomBusy" and busy.value.url == url_a
        acked = [await anna.op("light_candle", position=[0.1 * i, 0, 1]) for i in range(20)]
        a.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        await anna.wait_until(lambda c: c.closed is not None)
        while True:  # b takes the room once a's lease expires
            try:
                ben = await RoomClient.connect(url_b, "ben", invite=make_invite(keys, "rose", "ben"))
                break
            except RoomError as exc:
                assert exc.code == "RoomBusy"
                assert time.monotonic() - killed < 10
                await asyncio.sleep(0.1)
        back = time.monotonic() - killed
        missing = [seq for seq in acked if f"i{seq}" not in ben.state.items]
        seq = await ben.op("place_note", position=[0, 0, 1], text="still here")
        await ben.close()
        return back, missing, seq, acked

    try:
        back, missing, seq, acked = asyncio.run(asyncio.wait_for(scenario(), 60))
    finally:
        for proc in (a, b):
            proc.kill()
            proc.wait()
    assert missing == []
    assert seq > max(acked)
    print(f"room back on another process {back:.2f} s after kill -9")
    assert back < 10
