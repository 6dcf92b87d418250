"""Live spatial audio for the viewer: the voice attached to the mouth through Panda3D's
Audio3DManager over OpenAL Soft (HRTF when the OpenAL config asks for it), room ambience
as a plain stereo loop. Audio is handed to Panda3D through a RAM disk, never a file.
"""

from __future__ import annotations

import io
import itertools

import numpy as np
from panda3d.core import NodePath, VirtualFileMountRamdisk, VirtualFileSystem

from . import tasks
from .binaural import REF_DISTANCE, ROLLOFF

_MOUNT = "/memorial-audio"
_counter = itertools.count()


def _ram_disk() -> VirtualFileSystem:
    vfs = VirtualFileSystem.get_global_ptr()
    if not vfs.is_directory(_MOUNT):
        vfs.mount(VirtualFileMountRamdisk(), _MOUNT, 0)
    return vfs


def wav_bytes(samples: np.ndarray, rate: int) -> bytes:
    """16-bit PCM WAV bytes from float32 [S] or [S,C] in -1..1."""
    import soundfile

    buf = io.BytesIO()
    soundfile.write(buf, np.clip(samples, -1, 1), int(rate), subtype="PCM_16", format="WAV")
    return buf.getvalue()


def load_sound(manager, samples: np.ndarray, rate: int, positional: bool):
    """An AudioSound from samples kept in memory (Panda3D's RAM disk)."""
    vfs = _ram_disk()
    path = f"{_MOUNT}/sound-{next(_counter)}.wav"
    vfs.write_file(path, wav_bytes(samples, rate), False)
    # Keep the RAM file while the sound lives: OpenAL streams long sounds from it.
    return manager.get_sound(path, positional), path


class SpatialAudio:
    """Voice at the mouth, ambience around; `update()` moves the listener with the camera."""

    def __init__(self, manager, listener: NodePath, root: NodePath, task_mgr=None):
        from direct.showbase.Audio3DManager import Audio3DManager
        from direct.task.TaskManagerGlobal import taskMgr as global_tasks

        self.manager = manager
        self.a3d = Audio3DManager(manager, listener, root)
        global_tasks.remove("Audio3DManager-updateTask")  # we schedule it ourselves, in our task order
        self.a3d.setDistanceFactor(1.0)  # metres
        manager.audio_3d_set_drop_off_factor(ROLLOFF)
        self.voice = None
        self.ambience = None
        self._files: list[str] = []
        self.task_mgr = task_mgr
        if task_mgr is not None:
            task_mgr.add(self._task, "memorial-audio", sort=tasks.AUDIO)

    def set_voice(self, samples: np.ndarray, rate: int, mouth: NodePath) -> None:
        if self.voice is not None:
            self.voice.stop()
            self.a3d.detachSound(self.voice)
        assert samples.ndim == 1, "the voice is mono; OpenAL only spatializes mono sources"
        self.voice, path = load_sound(self.manager, samples, rate, positional=True)
        self._files.append(path)
        self.a3d.attachSoundToObject(self.voice, mouth)
        self.a3d.setSoundMinDistance(self.voice, REF_DISTANCE)

    def set_ambience(self, stereo: np.ndarray, rate: int) -> None:
        self.ambience, path = load_sound(self.manager, stereo, rate, positional=False)
        self._files.append(path)
        self.ambience.set_loop(True)
        self.ambience.play()

    def play_voice(self, offset: float = 0.0) -> None:
        if self.voice is not None:
            self.voice.set_time(max(0.0, offset))
            self.voice.play()

    def pause_voice(self) -> float:
        if self.voice is None:
            return 0.0
        t = self.voice.get_time()
        self.voice.stop()
        return t

    def set_volume(self, volume: float) -> None:
        self.manager.set_volume(float(np.clip(volume, 0, 1)))

    def update(self) -> None:
        self.a3d.update()

    def close(self) -> None:
        """Stop the sounds and drop their RAM files."""
        for sound in (self.voice, self.ambience):
            if sound is not None:
                sound.stop()
        self.voice = self.ambience = None
        vfs = _ram_disk()
        for path in self._files:
            vfs.delete_file(path)
        self._files.clear()

    def _task(self, task):
        self.update()
        return task.cont
