import numpy as np
import pytest

from assets import expression
from generation.speech import idle, idle_track

BLINK = expression.index("blink_l")


def blink_starts(track) -> np.ndarray:
    closed = track.codes[:, BLINK] > 0.5
    return np.flatnonzero(closed[1:] & ~closed[:-1]) / track.fps


@pytest.mark.parametrize("seed", range(6))
def test_blink_rate_natural_over_a_minute(seed):
    t = idle_track(60.0, fps=30, seed=seed)
    starts = blink_starts(t)
    assert 10 <= len(starts) <= 20, len(starts)
    gaps = np.diff(starts)
    assert gaps.std() / gaps.mean() > 0.25  # irregular, not a metronome
    assert t.codes[:, BLINK].max() > 0.95  # blinks really close the lids


def test_blink_after_speech_is_longer():
    rng = np.random.default_rng(1)
    blinks = idle.blink_times(30.0, rng, extra=[10.0])
    at = [b for b in blinks if b[0] == 10.0]
    assert at and at[0][1] > max(b[1] for b in blinks if b[0] != 10.0)


def test_never_frozen_and_seeded():
    a = idle_track(20.0, seed=3)
    b = idle_track(20.0, seed=3)
    c = idle_track(20.0, seed=4)
    assert np.array_equal(a.codes, b.codes) and np.array_equal(a.pose, b.pose)
    assert not np.array_equal(a.pose, c.pose)
    for k in range(0, len(a.pose) - 30, 30):  # every second, the head moves a little
        assert np.abs(np.ptp(a.pose[k:k + 30, :3], axis=0)).max() > 0.02
    assert np.abs(a.pose[:, :3]).max() < 5  # ... but only a little
    assert a.source == "idle" and a.audio is None and np.all(np.isfinite(a.codes))


def test_gaze_follows_the_target():
    yaw_l = expression.index("gaze_yaw_l")
    yaw_r = expression.index("gaze_yaw_r")
    pitch_l = expression.index("gaze_pitch_l")
    left = idle_track(5.0, gaze_target=(0.6, 0.0, 1.0))  # to the subject's left
    right = idle_track(5.0, gaze_target=(-0.6, 0.0, 1.0))
    up = idle_track(5.0, gaze_target=(0.0, 0.5, 1.0))
    assert np.median(left.codes[:, yaw_l]) > 0.8 and np.median(right.codes[:, yaw_l]) < -0.8
    assert np.median(up.codes[:, pitch_l]) > 0.7
    near = idle_track(5.0, gaze_target=(0.0, 0.0, 0.25))  # close: the eyes converge
    assert np.median(near.codes[:, yaw_l]) < -0.1 and np.median(near.codes[:, yaw_r]) > 0.1
    # saccades: small jumps around the target, not a fixed stare
    assert 0.005 < np.std(np.diff(left.codes[:, yaw_l])) < 0.1


def test_moving_target_per_frame():
    n = 90
    target = np.stack([np.linspace(-0.5, 0.5, n), np.zeros(n), np.ones(n)], 1)
    t = idle_track(3.0, gaze_target=target)
    yaw = t.codes[:, expression.index("gaze_yaw_l")]
    assert yaw[-10:].mean() - yaw[:10].mean() > 1.0
    with pytest.raises(AssertionError):
        idle_track(3.0, gaze_target=np.zeros((5, 3)))


def test_bad_duration():
    with pytest.raises(ValueError):
        idle_track(0)
