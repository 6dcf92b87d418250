"""Members' voices at their avatars' heads: one streaming, positional OpenAL sound per member.

Received 20 ms frames (vr_app/room/voice.py) are appended to a Panda3D `UserDataAudio` that
OpenAL plays as a stream, attached to the speaker's avatar head through the room's
Audio3DManager, so each voice comes from where that member is.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from panda3d.core import AudioManager, NodePath, UserDataAudio

RATE = 48000  # Opus decodes at 48 kHz


class VoicePlayback:
    """`feed(member, samples)` from the voice mesh; `anchor(member)` gives that member's head node."""

    def __init__(self, audio, anchor: Callable[[str], NodePath | None]):
        self.audio, self.anchor = audio, anchor  # audio: vr_app.audio.SpatialAudio
        self.streams: dict[str, tuple[UserDataAudio, object, NodePath]] = {}
        self.closed = False

    def feed(self, member: str, samples: np.ndarray) -> None:
        if self.closed:
            return  # left the room: a late frame must not start a voice again
        head = self.anchor(member)
        if head is None:
            return  # not drawn (yet): nowhere to place the voice
        stream = self.streams.get(member)
        if stream is not None and stream[2] != head:
            self.remove(member)  # the member's avatar was rebuilt (rejoined)
            stream = None
        pcm = np.asarray(samples, dtype=np.int16).tobytes()  # mono int16 [N]
        if stream is None:
            data = UserDataAudio(RATE, 1, True)
            data.append(pcm)
            sound = self.audio.manager.get_sound(data, True, AudioManager.SM_stream)
            self.audio.a3d.attachSoundToObject(sound, head)
            sound.play()
            self.streams[member] = (data, sound, head)
            return
        stream[0].append(pcm)

    def remove(self, member: str) -> None:
        stream = self.streams.pop(member, None)
        if stream is not None:
            stream[1].stop()
            self.audio.a3d.detachSound(stream[1])
            stream[0].done()

    def close(self) -> None:
        """Leaving: every voice stops at once, and none starts again."""
        self.closed = True
        for member in list(self.streams):
            self.remove(member)
