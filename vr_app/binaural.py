"""Offline binaural rendering with real HRIRs: the MIT KEMAR set that Debian's libmysofa1 ships,
read through libmysofa itself (ctypes), so no HDF5 reader is needed.

It uses the same geometry and distance law as the live viewer (OpenAL's inverse distance
clamped, reference distance `REF_DISTANCE`), so an export sounds like the room.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from pathlib import Path

import numpy as np

from assets.signal import resample

from .errors import MemorialError

SOFA_PATHS = (Path("/usr/share/libmysofa/MIT_KEMAR_normal_pinna.sofa"), Path("/usr/share/libmysofa/default.sofa"))
REF_DISTANCE = 1.0  # metres: full level inside this distance (OpenAL AL_REFERENCE_DISTANCE)
ROLLOFF = 1.0
OUT_RATE = 48000


class HrtfUnavailable(MemorialError):
    exit_code = 12


def _lib():
    name = ctypes.util.find_library("mysofa") or "libmysofa.so.1"
    try:
        lib = ctypes.CDLL(name)
    except OSError:
        raise HrtfUnavailable("libmysofa is not installed (Debian package libmysofa1); it carries the KEMAR HRIRs") from None
    lib.mysofa_open.restype = ctypes.c_void_p
    lib.mysofa_open.argtypes = [ctypes.c_char_p, ctypes.c_float, ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_int)]
    f = ctypes.POINTER(ctypes.c_float)
    lib.mysofa_getfilter_float.argtypes = [ctypes.c_void_p, ctypes.c_float, ctypes.c_float, ctypes.c_float, f, f, f, f]
    lib.mysofa_getfilter_float.restype = None
    lib.mysofa_close.argtypes = [ctypes.c_void_p]
    return lib


class Hrtf:
    """HRIR pairs for directions; `pair(x, y, z)` uses SOFA axes: x forward, y left, z up."""

    def __init__(self, sample_rate: int = OUT_RATE, path: Path | None = None):
        path = path or next((p for p in SOFA_PATHS if p.is_file()), None)
        if path is None:
            raise HrtfUnavailable("no SOFA HRIR file found under /usr/share/libmysofa (install libmysofa1)")
        self.lib = _lib()
        n, err = ctypes.c_int(), ctypes.c_int()
        self.handle = self.lib.mysofa_open(str(path).encode(), float(sample_rate), ctypes.byref(n), ctypes.byref(err))
        if not self.handle:
            raise HrtfUnavailable(f"libmysofa could not open {path} (error {err.value})")
        self.length = n.value
        self.sample_rate = sample_rate
        left, right = self._raw(1.0, 0.0, 0.0)
        self.norm = 1.0 / np.sqrt(0.5 * (np.sum(left ** 2) + np.sum(right ** 2)))  # frontal source keeps its level

    def _raw(self, x: float, y: float, z: float) -> tuple[np.ndarray, np.ndarray]:
        left = np.zeros(self.length, np.float32)
        right = np.zeros(self.length, np.float32)
        dl, dr = ctypes.c_float(), ctypes.c_float()
        fp = ctypes.POINTER(ctypes.c_float)
        self.lib.mysofa_getfilter_float(self.handle, x, y, z, left.ctypes.data_as(fp), right.ctypes.data_as(fp),
                                        ctypes.byref(dl), ctypes.byref(dr))
        # The MIT set carries its interaural delays inside the IRs; honour separate delays if a set has them.
        for ir, d in ((left, dl.value), (right, dr.value)):
            shift = int(round(d * self.sample_rate))
            if shift > 0:
                ir[shift:] = ir[:-shift].copy()
                ir[:shift] = 0
        return left, right

    def pair(self, x: float, y: float, z: float) -> tuple[np.ndarray, np.ndarray]:
        left, right = self._raw(x, y, z)
        return left * self.norm, right * self.norm

    def close(self) -> None:
        if self.handle:
            self.lib.mysofa_close(self.handle)
            self.handle = None

    def __del__(self) -> None:
        self.close()


@functools.lru_cache(maxsize=2)
def hrtf(sample_rate: int = OUT_RATE) -> Hrtf:
    return Hrtf(sample_rate)


def camera_to_sofa(p: np.ndarray) -> np.ndarray:
    """Panda camera frame (x right, y forward, z up) -> SOFA listener frame (x forward, y left, z up)."""
    return np.array([p[1], -p[0], p[2]], np.float32)


def distance_gain(d: float) -> float:
    """OpenAL's inverse-distance-clamped law, the same one the live viewer uses."""
    d = max(d, REF_DISTANCE)
    return REF_DISTANCE / (REF_DISTANCE + ROLLOFF * (d - REF_DISTANCE))


def render(mono: np.ndarray, sample_rate: int, position: np.ndarray, out_rate: int = OUT_RATE) -> np.ndarray:
    """A mono source at `position` (camera frame, metres) heard by the listener -> stereo [S,2] at out_rate."""
    from scipy.signal import fftconvolve

    mono = np.asarray(mono, np.float32)
    assert mono.ndim == 1, mono.shape
    x = resample(mono, sample_rate, out_rate)
    pos = np.asarray(position, np.float32)
    d = float(np.linalg.norm(pos))
    direction = camera_to_sofa(pos / max(d, 1e-6))
    left, right = hrtf(out_rate).pair(*direction)
    g = distance_gain(d)
    out = np.stack([fftconvolve(x, left)[: len(x)], fftconvolve(x, right)[: len(x)]], axis=1) * g
    return out.astype(np.float32)  # [S,2]
