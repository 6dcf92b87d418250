"""Which video frames become samples.

Decoding is cheap and landmark detection is not, so every frame gets only a 48x48 grey
thumbnail; landmarks run a few times a second (less often in long videos, more often while
someone speaks), on a shot change, or when the picture changed (a turn of the head, a
laugh). A frame with a face is kept when it starts a shot, when its expression (normalized
landmark shape) differs enough from every frame kept so far in the shot, or when the head
is turned to an angle not kept yet; near-identical frames are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .decode import ENVELOPE_S
from .faces import normalized_shape, shape_distance


@dataclass
class SamplingPolicy:
    check_interval: float = 0.2  # seconds between landmark checks within a steady shot
    change_trigger: float = 12.0  # mean absolute thumbnail change (0..255) that forces a check
    shot_change: float = 0.5  # histogram L1 distance (0..2) that starts a new shot
    novelty: float = 0.012  # Procrustes shape distance that makes a frame worth keeping
    angle_novelty: float = 8.0  # degrees of yaw or pitch away from every kept frame that make it worth keeping
    max_per_shot: int = 40
    max_total: int = 400
    max_checks: int = 1800  # landmark checks per video: long videos are checked less often
    talking_speedup: float = 3.0  # while the person may be speaking, checks come this much more often

    @classmethod
    def for_video(cls, seconds: float, live_photo: bool = False) -> "SamplingPolicy":
        """Check often in a short clip, and spread max_checks over a long one (1 h: every 2 s).
        A live photo's 3 s of motion mostly repeat its still: a few distinct frames at most."""
        p = cls()
        p.check_interval = max(p.check_interval, seconds / p.max_checks)
        if live_photo:
            p.max_total = 4
        return p


@dataclass
class ShotCounter:
    """Counts the shots of a video from its frames' thumbnails: a new shot starts where the grey
    histogram jumps. Ingest's sampler and the later pass over skipped frames count the same way."""

    threshold: float = SamplingPolicy.shot_change
    shots: int = 0
    _hist: np.ndarray | None = None

    def update(self, thumb: np.ndarray) -> bool:
        """Feed the next frame's thumbnail; True when it starts a new shot."""
        hist = np.bincount(thumb.reshape(-1) // 8, minlength=32).astype(np.float64)
        hist /= hist.sum()
        new_shot = self._hist is None or np.abs(hist - self._hist).sum() > self.threshold
        self._hist = hist
        self.shots += int(new_shot)
        return new_shot


@dataclass
class FrameSampler:
    policy: SamplingPolicy = field(default_factory=SamplingPolicy)
    _shots: ShotCounter | None = None
    _last_thumb: np.ndarray | None = None
    _last_check: float = -1e9
    _kept_shapes: list = field(default_factory=list)
    kept: int = 0
    talking: np.ndarray | None = None  # [K] bool per ENVELOPE_S of sound: loud enough to be speech

    @property
    def shots(self) -> int:
        return 0 if self._shots is None else self._shots.shots

    def is_talking(self, t: float) -> bool:
        if self.talking is None or not len(self.talking):
            return False
        return bool(self.talking[min(int(t / ENVELOPE_S), len(self.talking) - 1)])

    def wants_landmarks(self, thumb: np.ndarray, t: float) -> bool:
        """Called for every frame with its thumbnail [48,48] uint8 and time in seconds."""
        p = self.policy
        if self._shots is None:
            self._shots = ShotCounter(p.shot_change)
        if new_shot := self._shots.update(thumb):
            self._kept_shapes = []
        changed = self._last_thumb is not None and np.abs(thumb.astype(np.int16) - self._last_thumb).mean() > p.change_trigger
        interval = p.check_interval / (p.talking_speedup if self.is_talking(t) else 1.0)
        due = t - self._last_check >= interval
        if self.full or len(self._kept_shapes) >= p.max_per_shot:
            return False
        if new_shot or due or (changed and t - self._last_check >= interval / 4):
            self._last_check = t
            self._last_thumb = thumb.astype(np.int16)
            return True
        return False

    @property
    def full(self) -> bool:
        """No more samples wanted from this video."""
        return self.kept >= self.policy.max_total

    def keep(self, landmarks: np.ndarray, angles: tuple[float, float] = (0.0, 0.0)) -> bool:
        """Decide on a frame whose subject face has landmarks [478,3] and head (yaw, pitch) in
        degrees: kept when its expression or its angle is new in this shot; records it if kept."""
        shape = normalized_shape(landmarks)
        pose = np.asarray(angles, np.float64)
        recent = self._kept_shapes[-20:]
        similar = [(s, a) for s, a in recent if shape_distance(shape, s) < self.policy.novelty]
        if any(np.abs(pose - a).max() < self.policy.angle_novelty for _, a in similar):
            return False
        self._kept_shapes.append((shape, pose))
        self.kept += 1
        return True


def talking_mask(envelope: list[float]) -> np.ndarray:
    """Which stretches of sound are loud against the recording's own quiet parts (speech,
    laughter) rather than its steady background: [K] bool."""
    env = np.asarray(envelope, np.float64)
    if not len(env):
        return np.zeros(0, bool)
    floor = np.percentile(env, 20)
    return env > max(0.01, 2.5 * floor)
