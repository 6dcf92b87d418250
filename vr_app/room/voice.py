"""Voice between members: a small WebRTC mesh (aiortc), signalled through the room server.

For each pair of members the one with the lower presence slot offers. A member who may speak
(not a viewer, not muted) sends their microphone track; everyone receives. Muting is enforced
by every receiver (a muted member's audio is dropped on arrival) and by the server, which
refuses a viewer's or muted member's SDP that offers to send. Received audio is handed to
`on_audio(member, samples)` as mono int16 frames (voice_audio.py plays each at its speaker's head).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Callable

import numpy as np

from .client import RoomClient

log = logging.getLogger("memorial.room")


class Voice:
    """Attach to a joined RoomClient; call `sync()` whenever presence may have changed."""

    def __init__(self, client: RoomClient, microphone=None, on_audio: Callable[[str, np.ndarray], None] | None = None):
        self.client, self.microphone, self.on_audio = client, microphone, on_audio
        self.peers: dict[str, object] = {}  # member -> RTCPeerConnection
        self._fanout: Fanout | None = None  # one reader of the microphone, a copy of each frame per peer
        self._tasks: list[asyncio.Task] = []
        client.on_rtc = lambda msg: self._tasks.append(asyncio.ensure_future(self._safe_signal(msg)))

    def may_speak(self) -> bool:
        return (self.microphone is not None and self.client.role != "viewer"
                and self.client.member not in self.client.state.muted)

    def _new_peer(self, member: str):
        from aiortc import RTCPeerConnection

        pc = RTCPeerConnection()
        self.peers[member] = pc
        if self.may_speak():
            if self._fanout is None:
                self._fanout = Fanout(self.microphone, live=self.may_speak)
            pc.addTrack(self._fanout.subscribe())  # each peer reading the track itself would split it
        else:
            pc.addTransceiver("audio", direction="recvonly")

        @pc.on("track")
        def on_track(track):
            self._tasks.append(asyncio.ensure_future(self._listen(member, track)))

        return pc

    async def sync(self) -> None:
        """Offer to every present member with a higher slot that we have no connection with yet."""
        for member, info in self.client.presence.items():
            if member == self.client.member or member in self.peers or info["slot"] < self.client.slot:
                continue
            pc = self._new_peer(member)
            await pc.setLocalDescription(await pc.createOffer())  # waits for ICE gathering: no trickle
            await self.client.send_raw(_rtc(member, "offer", pc.localDescription.sdp))
        for member in [m for m in self.peers if m not in self.client.presence]:
            await self.peers.pop(member).close()

    async def _safe_signal(self, msg: dict) -> None:
        try:
            await self._signal(msg)
        except Exception as exc:  # a broken offer from one member must not stop the others' voices
            log.warning("voice: signalling from %s failed: %s", msg.get("from"), exc)

    async def _signal(self, msg: dict) -> None:
        from aiortc import RTCSessionDescription

        sender = msg["from"]
        if msg["kind"] == "offer":
            if sender in self.peers:
                await self.peers.pop(sender).close()
            pc = self._new_peer(sender)
            await pc.setRemoteDescription(RTCSessionDescription(msg["sdp"], "offer"))
            await pc.setLocalDescription(await pc.createAnswer())
            await self.client.send_raw(_rtc(sender, "answer", pc.localDescription.sdp))
        elif sender in self.peers:
            await self.peers[sender].setRemoteDescription(RTCSessionDescription(msg["sdp"], "answer"))

    async def _listen(self, member: str, track) -> None:
        from aiortc.mediastreams import MediaStreamError

        try:
            while True:
                frame = await track.recv()
                info = self.client.presence.get(member)
                if info is None or info["muted"]:
                    continue  # muted (or gone): dropped here, whatever the sender does
                samples = frame.to_ndarray().reshape(-1, len(frame.layout.channels))[:, 0]  # mono [N]
                if self.on_audio is not None:
                    self.on_audio(member, samples)
        except MediaStreamError:
            return

    async def close(self) -> None:
        """Leaving stops the microphone and every peer at once."""
        for pc in self.peers.values():
            await pc.close()
        self.peers.clear()
        if self._fanout is not None:
            self._fanout.close()
        if self.microphone is not None:
            self.microphone.stop()
        for task in self._tasks:
            task.cancel()


class Fanout:
    """Reads one track and gives every subscriber its own copy of each frame: one microphone, many
    peers (a track read by several senders would hand each a share of the frames). While `live()`
    is false (the member was muted after the call was set up) every copy is silence: receivers drop
    a muted member's audio anyway, but their voice should not leave the machine at all."""

    QUEUE = 10  # frames (200 ms) a subscriber may lag before its oldest are dropped

    def __init__(self, track, live: Callable[[], bool] = lambda: True):
        self.track, self.live = track, live
        self.outputs: list = []
        self._task: asyncio.Task | None = None

    def subscribe(self):
        from aiortc import MediaStreamTrack
        from aiortc.mediastreams import MediaStreamError

        class Copy(MediaStreamTrack):
            kind = "audio"

            def __init__(self):
                super().__init__()
                self.queue: asyncio.Queue = asyncio.Queue(Fanout.QUEUE)

            async def recv(self):
                if self.readyState != "live":
                    raise MediaStreamError
                frame = await self.queue.get()
                if frame is None:
                    self.stop()
                    raise MediaStreamError
                return frame

        copy = Copy()
        self.outputs.append(copy)
        if self._task is None:
            self._task = asyncio.ensure_future(self._run())
        return copy

    async def _run(self) -> None:
        from aiortc.mediastreams import MediaStreamError

        try:
            while True:
                frame = await self.track.recv()
                if not self.live():
                    frame = _silent(frame)
                self.outputs = [out for out in self.outputs if out.readyState == "live"]  # peers that closed
                for out in self.outputs:
                    if out.queue.full():
                        out.queue.get_nowait()
                    out.queue.put_nowait(frame)
        except MediaStreamError:
            pass
        finally:
            for out in self.outputs:
                if out.queue.full():
                    out.queue.get_nowait()
                out.queue.put_nowait(None)

    def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
        for out in self.outputs:
            out.stop()


def _silent(frame):
    """The same audio frame (format, rate, timing) with every sample zero."""
    import av

    quiet = av.AudioFrame.from_ndarray(np.zeros_like(frame.to_ndarray()), format=frame.format.name,
                                       layout=frame.layout.name)
    quiet.sample_rate, quiet.pts, quiet.time_base = frame.sample_rate, frame.pts, frame.time_base
    return quiet


def _rtc(to: str, kind: str, sdp: str) -> str:
    import json

    return json.dumps({"type": "rtc", "to": to, "kind": kind, "sdp": sdp})


class ToneMicrophone:
    """A microphone stand-in for tests and the bench: a sine tone in 20 ms frames (48 kHz mono)."""

    def __new__(cls, hz: float, level: float = 0.3):
        import fractions

        import av
        from aiortc import MediaStreamTrack

        class Tone(MediaStreamTrack):
            kind = "audio"

            def __init__(self):
                super().__init__()
                self.t = 0

            async def recv(self):
                from aiortc.mediastreams import MediaStreamError

                await asyncio.sleep(0.02)
                if self.readyState != "live":
                    raise MediaStreamError
                n = 960
                wave = level * np.sin(2 * np.pi * hz * (self.t + np.arange(n)) / 48000)
                frame = av.AudioFrame.from_ndarray((wave * 32767).astype(np.int16).reshape(1, -1), format="s16",
                                                   layout="mono")
                frame.sample_rate, frame.pts, frame.time_base = 48000, self.t, fractions.Fraction(1, 48000)
                self.t += n
                return frame

        return Tone()
