import json

import numpy as np
import pytest

from assets import landmarks as L
from assets import expression
from generation.face import controls as C
from generation.face import topology as T
from generation.face.errors import GeometryError
from generation.face.pose import matrix_from_euler


def code(lm, cal, name):
    return float(C.codes_from_landmarks(lm, cal)[expression.index(name)])


@pytest.fixture(scope="module")
def cal(faces):
    return C.fit_calibration(faces["grace"][1][None])


def test_single_photo_calibration_is_generic_and_reads_neutral(faces, cal):
    assert cal.n_samples == 1 and set(cal.method.values()) >= {"generic"}
    c = C.codes_from_landmarks(faces["grace"][1], cal)
    assert c.shape == (expression.E,) and np.abs(c).max() < 1e-4


def test_opening_the_jaw_raises_jaw_open_only(faces, cal):
    lm = faces["grace"][1].copy()
    lower = list(set(C.L.LIP_INNER_PAIRS[i][1] for i in range(5)) | {14, 17, 87, 178, 317, 402, 84, 314, 152})
    lm[lower, 1] += 25  # lower lip and chin drop 25 px (0.3 eye distances)
    assert code(lm, cal, "jaw_open") > 0.5
    assert code(lm, cal, "blink_l") == 0 and code(lm, cal, "brow_up_l") == 0


def test_synthetic_eyelid_closure_reads_as_blink_on_that_side(faces, cal):
    lm = faces["astronaut"][1].copy()
    cal = C.fit_calibration(lm[None])
    rim = T.named_loops()["eye_l"]
    centre_y = lm[[L.EYE_L["outer"], L.EYE_L["inner"]], 1].mean()
    upper = rim[lm[rim, 1] < centre_y]  # image y is down: the upper lid is above
    for u in upper:  # each upper-lid point lands on the lower-lid point below it
        lower = rim[lm[rim, 1] >= centre_y]
        lm[u, 1] = lm[lower[np.argmin(np.abs(lm[lower, 0] - lm[u, 0]))], 1]
    assert code(lm, cal, "blink_l") > 0.85
    assert code(lm, cal, "blink_r") < 0.05


def test_smile_and_gaze_follow_the_moved_side(faces, cal):
    lm = faces["grace"][1].copy()
    lm[L.MOUTH_CORNER_L, :2] += (3, -6)  # subject's left corner (image right) up and out
    assert code(lm, cal, "mouth_smile_l") > 0.3 and code(lm, cal, "mouth_smile_r") < 0.05
    lm = faces["grace"][1].copy()
    lm[[L.EYE_L["iris"], *L.EYE_L["iris_ring"]], 0] += 3  # iris towards the subject's left
    assert code(lm, cal, "gaze_yaw_l") > 0.1 and abs(code(lm, cal, "gaze_yaw_r")) < 0.01


def test_measures_ignore_head_pose_and_scale(faces):
    lm = faces["grace"][1].astype(np.float64)
    centre = lm.mean(0)
    rot = matrix_from_euler(10, -8, 12) * np.array([[1, -1, -1]]).T * np.array([1, -1, -1])  # in image axes
    moved = (lm - centre) @ rot.T * 0.6 + centre + (40, -25, 0)
    a, b = C.raw_measures(lm), C.raw_measures(moved)
    assert np.allclose(a[:12], b[:12], atol=0.02), np.abs(a - b).max()


def test_calibration_from_many_samples_round_trips_through_json(faces, grace_head):
    from generation.face.pose import fit_pose, project

    rng = np.random.default_rng(3)
    pose = fit_pose(faces["grace"][1], grace_head.vertices[:478], 512)
    codes = expression.neutral(30)
    codes[:, expression.index("jaw_open")] = rng.uniform(0, 1, 30)
    codes[:, expression.index("mouth_smile_l")] = rng.uniform(0, 1, 30)
    sets = np.stack([project(grace_head.deform(c), pose, 512)[:478] for c in codes])
    cal = C.fit_calibration(sets)
    assert cal.method["jaw_open"] == "calibrated" and cal.stddev[0] > 0
    back = C.Calibration.from_dict(json.loads(json.dumps(cal.to_dict())))
    a, b = C.codes_from_landmarks(sets, cal), C.codes_from_landmarks(sets, back)
    assert a.shape == (30, expression.E) and np.allclose(a, b, atol=2e-3)
    assert np.all(a >= expression.LOW) and np.all(a <= expression.HIGH)
    measured = a[:, expression.index("jaw_open")]
    assert np.corrcoef(measured, codes[:, 0])[0, 1] > 0.95


def test_bad_landmarks_fail_clearly(cal):
    with pytest.raises(GeometryError, match=r"\[478,3\]"):
        C.codes_from_landmarks(np.zeros((468, 3)), cal)
    bad = np.ones((478, 3))
    bad[5, 1] = np.nan
    with pytest.raises(GeometryError, match="NaN"):
        C.codes_from_landmarks(bad, cal)
    with pytest.raises(GeometryError, match="empty"):
        C.fit_calibration(np.zeros((0, 478, 3)))
    with pytest.raises(GeometryError, match="calibration"):
        C.Calibration.from_dict({"version": 99})
