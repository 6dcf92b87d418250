"""Voice between members over a WebRTC mesh on loopback, signalled through the room server."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from tests.room.conftest import join, run, running_server

pytest.importorskip("aiortc")


def dominant_hz(chunks: list[np.ndarray], rate: int = 48000) -> float:
    samples = np.concatenate(chunks[-20:]).astype(np.float64)
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[np.argmax(spectrum)])


@pytest.mark.slow
def test_members_hear_each_other_viewers_only_listen_and_mute_is_enforced(room_vault):
    from vr_app.room.voice import ToneMicrophone, Voice

    heard: dict[tuple[str, str], list[np.ndarray]] = {}

    def ear(listener):
        return lambda speaker, samples: heard.setdefault((listener, speaker), []).append(samples)

    async def scenario():
        async with running_server(room_vault) as server:
            clients = {m: await join(server, m) for m in ("anna", "ben", "vic")}
            for c in clients.values():
                await c.wait_until(lambda c: len(c.presence) == 3)
            tones = {"anna": 660.0, "ben": 440.0, "vic": 880.0}
            voices = {m: Voice(c, ToneMicrophone(tones[m]), ear(m)) for m, c in clients.items()}
            for v in voices.values():
                await v.sync()

            def enough():
                return all(len(heard.get(pair, [])) >= 25 for pair in
                           [("anna", "ben"), ("ben", "anna"), ("vic", "anna"), ("vic", "ben")])

            for _ in range(200):
                if enough():
                    break
                await asyncio.sleep(0.05)
            assert enough(), {k: len(v) for k, v in heard.items()}
            assert dominant_hz(heard[("anna", "ben")]) == pytest.approx(440, abs=15)
            assert dominant_hz(heard[("ben", "anna")]) == pytest.approx(660, abs=15)
            assert dominant_hz(heard[("vic", "ben")]) == pytest.approx(440, abs=15)
            assert ("anna", "vic") not in heard and ("ben", "vic") not in heard  # a viewer has no microphone

            await clients["anna"].op("mute", member="ben")
            await clients["vic"].wait_until(lambda c: c.presence["ben"]["muted"])
            await asyncio.sleep(0.3)  # frames already on their way
            before = len(heard[("vic", "ben")])
            await asyncio.sleep(1.0)
            assert len(heard[("vic", "ben")]) == before  # dropped by every receiver
            assert len(heard[("vic", "anna")]) > 25  # the others still heard

            for m in voices:
                await voices[m].close()
                await clients[m].close()

    run(scenario(), timeout=60)


def test_the_server_refuses_a_viewer_sdp_that_sends_audio(room_vault):
    async def scenario():
        async with running_server(room_vault) as server:
            anna, vic = await join(server, "anna"), await join(server, "vic")
            await vic.wait_until(lambda c: "anna" in c.presence)
            got = []
            anna.on_rtc = got.append
            await vic.send_raw('{"type":"rtc","to":"anna","kind":"offer","sdp":"v=0\\r\\na=sendrecv\\r\\n"}')
            await vic.send_raw('{"type":"rtc","to":"nobody","kind":"offer","sdp":"v=0\\r\\na=recvonly\\r\\n"}')
            await vic.send_raw('{"type":"rtc","to":"anna","kind":"offer","sdp":"v=0\\r\\na=recvonly\\r\\n"}')
            await anna.wait_until(lambda c: got, timeout=5)
            assert [e["code"] for e in vic.errors] == ["forbidden", "no_member"]
            assert got[0]["from"] == "vic" and "recvonly" in got[0]["sdp"]
            await anna.close()
            await vic.close()

    run(scenario())
