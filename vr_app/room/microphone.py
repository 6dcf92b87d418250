"""The member's microphone as an aiortc audio track.

`MicrophoneTrack` turns any `CaptureSource` (blocking reads of mono int16 samples at 48 kHz)
into the 20 ms frames WebRTC sends. `AlsaSource` is the real capture: the system's ALSA
device through PyAV (aiortc's own MediaPlayer opens devices the same way). Tests feed the
track from a source of their own, so everything above the device is exercised without a
microphone. Stopping the track closes the device: nothing is captured after a member leaves.
"""

from __future__ import annotations

import asyncio
import fractions
from typing import Protocol

import numpy as np

from assets.errors import MemorialError

RATE = 48000  # Opus's native rate: no resampling between the device and the encoder
FRAME = 960  # samples in 20 ms


class MicrophoneUnavailable(MemorialError):
    """No microphone could be opened; the member joins listen-only."""


class CaptureSource(Protocol):
    def read(self) -> np.ndarray | None:
        """Block until the next samples are captured: mono int16 [N] at RATE; None once closed."""

    def close(self) -> None:
        """Release the device; a read in progress returns None."""


class AlsaSource:
    """Capture from an ALSA device ("default", "hw:1", ...) as 48 kHz mono."""

    def __init__(self, device: str = "default"):
        import av

        try:  # ALSA's own lines on fd 2 go where the CLI sends every native library's (native_logs)
            self._container = av.open(device, format="alsa", options={"sample_rate": str(RATE), "channels": "1"})
        except (OSError, av.FFmpegError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            raise MicrophoneUnavailable(f"no microphone: ALSA device '{device}' cannot be opened ({reason})") from None
        self._frames = self._container.decode(audio=0)
        self._closed = False

    def read(self) -> np.ndarray | None:
        if self._closed:
            return None
        try:
            frame = next(self._frames)
        except (StopIteration, OSError, ValueError):
            return None
        samples = frame.to_ndarray()
        if samples.dtype != np.int16:  # planar float from some devices
            samples = (np.clip(samples, -1, 1) * 32767).astype(np.int16)
        return samples.reshape(len(frame.layout.channels), -1)[0] if samples.ndim == 2 else samples

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._container.close()


def _track_base():
    from aiortc import MediaStreamTrack

    return MediaStreamTrack


class MicrophoneTrack:
    """An aiortc audio track of 20 ms mono frames read from `source` (see module doc).

    Built through `__new__` so aiortc is imported only when a microphone is used."""

    def __new__(cls, source: CaptureSource):
        import av
        from aiortc.mediastreams import MediaStreamError

        class Track(_track_base()):
            kind = "audio"

            def __init__(self):
                super().__init__()
                self.source = source
                self._pending = np.zeros(0, np.int16)
                self._pts = 0

            async def recv(self):
                while len(self._pending) < FRAME:
                    if self.readyState != "live":
                        raise MediaStreamError
                    block = await asyncio.get_running_loop().run_in_executor(None, self.source.read)
                    if block is None:
                        self.stop()
                        raise MediaStreamError
                    self._pending = np.concatenate([self._pending, np.asarray(block, np.int16).ravel()])
                samples, self._pending = self._pending[:FRAME], self._pending[FRAME:]
                frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
                frame.sample_rate, frame.pts, frame.time_base = RATE, self._pts, fractions.Fraction(1, RATE)
                self._pts += FRAME
                return frame

            def stop(self):
                super().stop()
                self.source.close()  # the device is released the moment the member leaves

        return Track()


def open_microphone(device: str = "default"):
    """The system microphone as a track; MicrophoneUnavailable (one line) when there is none."""
    return MicrophoneTrack(AlsaSource(device))
