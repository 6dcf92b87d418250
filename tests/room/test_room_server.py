"""Two or more headless clients in one room served in-process: ops, presence, poses, joins."""

from __future__ import annotations

import asyncio

import pytest

from tests.room.conftest import PASSES, anna_and_ben, join, run, running_server
from vr_app.room.client import RoomError

HERE = (0.0, 1.6, 0.0, 0.0, 0.0, 0.0, 1.0) * 3


def test_candle_lit_by_one_appears_for_the_other_and_a_late_joiner(room_vault):
    async def scenario():
        async with anna_and_ben(room_vault) as (server, anna, ben):
            seq = await anna.op("light_candle", position=[0.5, 0.0, 1.0])
            await ben.wait_until(lambda c: c.state.seq >= seq)
            item = ben.state.items[f"i{seq}"]
            assert (item.kind, item.owner, item.lit) == ("candle", "anna", True)
            await anna.close()  # the creator leaves; the candle stays (the room owns it)
            await ben.wait_until(lambda c: "anna" not in c.presence)
            tess = await join(server, "tess", device="headset")
            assert f"i{seq}" in tess.state.items and tess.state.items[f"i{seq}"].lit
            await tess.close()

    run(scenario())


def test_passphrase_join_and_wrong_passphrase(room_vault):
    async def scenario():
        async with running_server(room_vault) as server:
            ben = await join(server, "ben", passphrase=PASSES["ben"])
            assert ben.role == "family"
            with pytest.raises(RoomError) as wrong:
                await join(server, "tess", passphrase="not-tess-passphrase")
            assert wrong.value.code == "WrongPassphrase"
            for _ in range(4):  # five wrong guesses in a minute: passphrase joins for tess pause
                with pytest.raises(RoomError):
                    await join(server, "tess", passphrase="still-not-tess")
            with pytest.raises(RoomError, match="too many wrong passphrases"):
                await join(server, "tess", passphrase=PASSES["tess"])
            tess = await join(server, "tess")  # an invite still works
            await tess.close()
            seq = await ben.op("place_note", position=[0, 0, 1], text="We miss you")
            assert ben.state.items[f"i{seq}"].text == "We miss you"  # ben was not disturbed
            await ben.close()

    run(scenario())


def test_poses_reach_the_other_member_batched_and_interpolated(room_vault):
    async def scenario():
        async with anna_and_ben(room_vault) as (_, anna, ben):
            await anna.wait_until(lambda c: "ben" in c.presence)
            for i in range(10):
                x = 0.1 * i
                await ben.send_pose((x, 1.6, 0.0, 0.0, 0.0, 0.0, 1.0) * 3)
                await asyncio.sleep(0.05)
            slot = anna.presence["ben"]["slot"]
            await anna.wait_until(lambda c: slot in c.poses and c.poses[slot].samples[-1][1][0] > 0.85)
            newest = anna.poses[slot].samples[-1][1]
            assert newest[0] == pytest.approx(0.9, abs=1e-5)
            drawn = anna.remote_pose(slot, delay=0.1)
            assert 0.0 <= drawn[0] <= 0.9 + 1e-6  # drawn in the past, between received samples
            assert ben.slot not in ben.poses  # nobody receives their own pose
            assert all(lat >= 0 for lat in anna.latencies)

    run(scenario())


def test_reconnect_gets_ops_since_and_presence_lease_is_one_entry(room_vault):
    async def scenario():
        async with anna_and_ben(room_vault) as (server, anna, ben):
            await ben.op("light_candle", position=[0, 0, 1])
            await ben.close()
            seq2 = await anna.op("place_note", position=[0, 0, 2], text="hello")
            ben2 = await join(server, "ben", since=ben.state.seq, state=ben.state)
            assert ben2.state is ben.state  # caught up from "ops since", not a fresh snapshot
            assert ben2.state.seq >= seq2 and f"i{seq2}" in ben2.state.items
            again = await join(server, "ben")  # same member twice: the newer connection replaces the older
            await anna.wait_until(lambda c: list(c.presence).count("ben") == 1 and len(c.presence) == 2)
            await ben2.wait_until(lambda c: c.closed is not None)
            assert ben2.closed[0] == 4002
            await again.close()

    run(scenario())


def test_owner_closes_the_room_and_reopens_it(room_vault):
    async def scenario():
        async with anna_and_ben(room_vault) as (server, anna, ben):
            candle = await ben.op("light_candle", position=[0, 0, 1])
            await anna.op("close")
            await ben.wait_until(lambda c: c.closed is not None)
            assert ben.closed[0] == 4004
            with pytest.raises(RoomError, match="closed"):
                await join(server, "ben")
            await anna.op("reopen")
            ben = await join(server, "ben")
            assert f"i{candle}" in ben.state.items and not ben.state.closed  # the room kept its things
            await ben.close()

    run(scenario())
