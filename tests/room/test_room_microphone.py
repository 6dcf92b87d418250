"""The member's microphone, tested at its boundary: there is no microphone on this machine, so the
track is fed by a source the test controls; the real device path is checked to fail with one line."""

from __future__ import annotations

import asyncio
import time

import numpy as np
import pytest

from tests.room.conftest import join, run, running_server
from tests.room.test_room_voice import dominant_hz

pytest.importorskip("aiortc")


class ToneSource:
    """A CaptureSource: a sine tone in blocks of `block` samples, paced like a device when `paced`."""

    def __init__(self, hz: float, block: int = 441, paced: bool = True, blocks: int | None = None):
        self.hz, self.block, self.paced, self.limit = hz, block, paced, blocks
        self.t = 0
        self.reads = 0
        self.closed = False

    def read(self):
        if self.closed or (self.limit is not None and self.reads >= self.limit):
            return None
        if self.paced:
            time.sleep(self.block / 48000)
        wave = 0.3 * np.sin(2 * np.pi * self.hz * (self.t + np.arange(self.block)) / 48000)
        self.t += self.block
        self.reads += 1
        return (wave * 32767).astype(np.int16)

    def close(self):
        self.closed = True


def test_track_cuts_the_source_into_20_ms_frames_and_ends_with_it():
    from aiortc.mediastreams import MediaStreamError

    from vr_app.room.microphone import MicrophoneTrack

    source = ToneSource(500.0, block=441, paced=False, blocks=10)  # 4410 samples: four whole frames
    track = MicrophoneTrack(source)

    async def scenario():
        frames = []
        with pytest.raises(MediaStreamError):
            while True:
                frames.append(await track.recv())
        return frames

    frames = run(scenario())
    assert [f.pts for f in frames] == [0, 960, 1920, 2880]
    assert all(f.sample_rate == 48000 and f.samples == 960 and f.format.name == "s16" for f in frames)
    sent = np.concatenate([f.to_ndarray().ravel() for f in frames])
    expected = (0.3 * np.sin(2 * np.pi * 500.0 * np.arange(3840) / 48000) * 32767).astype(np.int16)
    assert np.array_equal(sent, expected)  # no sample lost or repeated across block boundaries
    assert track.readyState == "ended" and source.closed


def test_stopping_the_track_releases_the_device():
    from vr_app.room.microphone import MicrophoneTrack

    source = ToneSource(500.0)
    track = MicrophoneTrack(source)
    track.stop()
    assert source.closed and track.readyState == "ended"


def test_no_microphone_is_one_line_and_the_member_listens_only(monkeypatch):
    from vr_app.room import microphone
    from vr_app.room.join import microphone_for

    with pytest.raises(microphone.MicrophoneUnavailable) as info:
        microphone.open_microphone("memorial-no-such-device")
    assert "no microphone" in str(info.value) and "\n" not in str(info.value)

    class Member:
        role = "family"

    lines = []
    assert microphone_for(Member(), "memorial-no-such-device", lines.append) is None
    assert len(lines) == 1 and lines[0].startswith("no microphone: ALSA device 'memorial-no-such-device'")
    assert lines[0].endswith("you can listen but not speak")

    def never(device):
        raise AssertionError("a viewer's microphone must not be opened")

    monkeypatch.setattr(microphone, "open_microphone", never)
    Member.role = "viewer"
    assert microphone_for(Member(), "default", lines.append) is None
    assert microphone_for(Member(), None, lines.append) is None  # --microphone off
    assert len(lines) == 1


@pytest.mark.slow
def test_a_member_speaks_to_every_peer_and_leaving_stops_the_microphone(room_vault):
    """ben's microphone reaches anna and tess, each getting every frame (one track, relayed per peer);
    when ben leaves, the device is released and nothing more of his arrives."""
    from vr_app.room.microphone import MicrophoneTrack
    from vr_app.room.voice import Voice

    heard: dict[str, list[np.ndarray]] = {"anna": [], "tess": []}

    def ear(listener):
        return lambda speaker, samples: heard[listener].append(samples) if speaker == "ben" else None

    async def scenario():
        async with running_server(room_vault) as server:
            clients = {m: await join(server, m) for m in ("anna", "ben", "tess")}
            for c in clients.values():
                await c.wait_until(lambda c: len(c.presence) == 3)
            source = ToneSource(523.0)
            voices = {"ben": Voice(clients["ben"], MicrophoneTrack(source)),
                      "anna": Voice(clients["anna"], None, ear("anna")),
                      "tess": Voice(clients["tess"], None, ear("tess"))}
            for v in voices.values():
                await v.sync()
            for _ in range(300):
                if all(len(h) >= 25 for h in heard.values()):
                    break
                await asyncio.sleep(0.05)
            assert all(len(h) >= 25 for h in heard.values()), {k: len(v) for k, v in heard.items()}
            assert dominant_hz(heard["anna"]) == pytest.approx(523, abs=15)
            assert dominant_hz(heard["tess"]) == pytest.approx(523, abs=15)
            captured, got = source.t, {m: len(h) for m, h in heard.items()}
            await asyncio.sleep(1.0)
            frames = (source.t - captured) / 960
            for m, chunks in heard.items():  # a track read by both peers directly would give each about half
                assert len(chunks) - got[m] >= 0.8 * frames, (m, len(chunks) - got[m], frames)

            await voices["ben"].close()
            assert source.closed and voices["ben"].microphone.readyState == "ended"
            await asyncio.sleep(0.3)  # frames already on their way
            after = {m: len(h) for m, h in heard.items()}
            await asyncio.sleep(0.7)
            assert {m: len(h) for m, h in heard.items()} == after
            for m in ("anna", "tess"):
                await voices[m].close()
            for c in clients.values():
                await c.close()

    run(scenario(), timeout=60)


def test_a_member_muted_mid_call_sends_silence():
    """Muting after the peers are set up: the microphone keeps its timing but every frame that
    leaves is silent, and unmuting brings the voice back."""
    from vr_app.room.voice import Fanout, ToneMicrophone

    async def scenario():
        muted = False
        fan = Fanout(ToneMicrophone(440.0), live=lambda: not muted)
        peer = fan.subscribe()

        async def levels(n):
            return [float(np.abs((await peer.recv()).to_ndarray()).max()) for _ in range(n)]

        heard = await levels(3)
        muted = True
        await levels(2)  # frames already queued before the mute
        during = await levels(5)
        muted = False
        await levels(2)
        after = await levels(3)
        fan.close()
        return heard, during, after

    heard, during, after = run(scenario(), timeout=20)
    assert min(heard) > 5000 and min(after) > 5000
    assert max(during) == 0
