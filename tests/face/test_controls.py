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


def _as_pixels(canon: np.ndarray) -> np.ndarray:
    """Canonical landmarks (metres) as a frontal face in pixels (the face frame is rotation- and
    scale-equivariant, so they measure back the same)."""
    return (canon * np.array([1.0, -1.0, -1.0]) * 4000 + np.array([500.0, 500.0, 0.0])).astype(np.float32)


def _turned(canon: np.ndarray, eye: dict, yaw_deg: float, pitch_deg: float) -> np.ndarray:
    """`canon` with one eye's iris points turned about its eyeball's centre (behind the iris)."""
    out = canon.astype(np.float64).copy()
    ids = [eye["iris"], *eye["iris_ring"]]
    centre = out[eye["iris"]] - [0, 0, C.EYEBALL_RADIUS_M]
    a, b = np.radians(yaw_deg), np.radians(pitch_deg)
    ry = np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])  # + = towards +x
    rx = np.array([[1, 0, 0], [0, np.cos(b), np.sin(b)], [0, -np.sin(b), np.cos(b)]])  # + = up
    out[ids] = (out[ids] - centre) @ (rx @ ry).T + centre
    return out


def test_gaze_reads_the_turn_over_the_detectors_share_of_it(faces):
    """A turn of the iris about its eyeball reads degrees / 30 over the share of a turn the detector
    reads (GAZE_READ): an iris that the detector sees 6.6 degrees up is an eye turned 15 degrees up."""
    from generation.face.pose import canonical

    canon = canonical(faces["grace"][1]).astype(np.float64)
    rest = _as_pixels(canon)
    cal = C.fit_calibration(rest[None])
    assert np.allclose(cal.range[C.GAZE_SLICE], C.GAZE_READ)
    assert np.abs(C.codes_from_landmarks(rest, cal)[C.GAZE_SLICE]).max() < 1e-3
    up = C.codes_from_landmarks(_as_pixels(_turned(canon, L.EYE_L, 0.0, 6.6)), cal)
    pitch_l = expression.index("gaze_pitch_l")
    assert up[pitch_l] == pytest.approx(6.6 / 30 / C.GAZE_READ[1], abs=0.03)  # ~0.5
    others = [i for i in range(C.N_SEM) if i != pitch_l]
    assert np.abs(up[others]).max() < 0.02  # the other eye, the lids and the mouth read nothing
    left = C.codes_from_landmarks(_as_pixels(_turned(canon, L.EYE_R, 9.0, 0.0)), cal)
    assert left[expression.index("gaze_yaw_r")] == pytest.approx(9.0 / 30 / C.GAZE_READ[2], abs=0.03)
    assert abs(left[expression.index("gaze_pitch_r")]) < 0.02


@pytest.fixture(scope="module")
def glancing(faces):
    """30 landmark sets of Hopper's face glancing about (each eye up to 10 degrees, within the codes'
    range) while her jaw drops now and then."""
    from generation.face.pose import canonical

    rng = np.random.default_rng(2)
    canon = canonical(faces["grace"][1]).astype(np.float64)
    sets = []
    for _ in range(30):
        c = _turned(canon, L.EYE_L, *rng.uniform(-10, 10, 2))
        c = _turned(c, L.EYE_R, *rng.uniform(-10, 10, 2))
        lower = [14, 17, 87, 178, 317, 402, 84, 314, 152]
        c[lower, 1] -= rng.uniform(0, 0.008) * (rng.random() < 0.5)  # the jaw drops, now and then
        c += rng.normal(0, 2e-4, c.shape)  # and everything moves a little
        sets.append(_as_pixels(c))
    return np.stack(sets)


def test_the_gaze_scale_leaves_the_rest_of_the_calibration(glancing, monkeypatch):
    """How a gaze code is scaled moves only the gaze rows of the fit: the other controls' shapes, the
    residual's components and the mean shape (from which the head is built) are those of an unscaled
    gaze, whose rows are the same motion per degree."""
    sets = glancing
    scaled, read = C.fit_calibration(sets), C.GAZE_READ[:, None].copy()
    assert not np.allclose(read, 1.0)
    monkeypatch.setattr(C, "GAZE_READ", np.ones(4))
    plain = C.fit_calibration(sets)
    assert np.allclose(plain.range[C.GAZE_SLICE], 1.0) and not np.allclose(scaled.range, plain.range)
    assert np.allclose(scaled.mean_shape, plain.mean_shape)
    assert np.allclose(scaled.regression[:12], plain.regression[:12], atol=1e-7)
    assert np.allclose(scaled.stddev, plain.stddev, rtol=1e-4)
    assert np.allclose(np.abs(np.sum(scaled.components * plain.components, 1)), 1.0, atol=1e-4)
    assert np.allclose(scaled.regression[C.GAZE_SLICE], plain.regression[C.GAZE_SLICE] * read, atol=1e-7)
    a, b = C.codes_from_landmarks(sets, scaled), C.codes_from_landmarks(sets, plain)
    assert np.allclose(a[:, 16:], b[:, 16:], atol=1e-3)  # the same residual codes


def test_the_gaze_scale_leaves_the_head_but_its_gaze_shapes(glancing, monkeypatch):
    """The rest face (picked from her calmest frames, gaze counted as the detector reads it) and every
    shape are the same whatever the gaze's scale: a gaze shape turns the eye (and its lids) by its code's
    degrees, however much of that turn the detector reads; its code now says more of the turn."""
    from generation.face import head as H

    scaled = H.fit_head(glancing, calibration=C.fit_calibration(glancing))
    read = C.GAZE_READ.copy()
    monkeypatch.setattr(C, "GAZE_READ", np.ones(4))
    plain = H.fit_head(glancing, calibration=C.fit_calibration(glancing))
    assert sorted(scaled.meta["neutral_samples"]) == sorted(plain.meta["neutral_samples"])
    assert np.abs(scaled.vertices - plain.vertices).max() < 1e-7  # metres
    assert np.abs(scaled.blendshapes - plain.blendshapes).max() < 1e-7
    pitch = expression.index("gaze_pitch_l")
    lift = scaled.blendshapes[pitch, L.EYE_L["iris"], 1]
    assert lift == pytest.approx(C.EYEBALL_RADIUS_M * np.sin(np.radians(C.GAZE_DEG)), rel=0.02)  # 30 degrees up
    up = C.codes_from_landmarks(glancing, C.fit_calibration(glancing))[:, pitch]
    monkeypatch.setattr(C, "GAZE_READ", read)
    assert np.allclose(C.codes_from_landmarks(glancing, C.fit_calibration(glancing))[:, pitch], up / read[1], atol=2e-3)


def test_gaze_zero_is_where_the_rest_eyes_look(glancing):
    """Shifted to a rest face's eyes, gaze reads 0 there and the same turn away from it as before; the
    other codes (the PCA's residual too) do not move."""
    from generation.face.pose import canonical

    cal = C.fit_calibration(glancing)
    rest = canonical(glancing[3]).astype(np.float64)  # a face whose eyes look off its median
    before = C.codes_from_landmarks(glancing, cal)
    assert np.abs(before[3, C.GAZE_SLICE]).max() > 0.1
    shifted = C.gaze_zero_at(cal, rest)
    after = C.codes_from_landmarks(glancing, shifted)
    assert np.abs(after[3, C.GAZE_SLICE]).max() < 0.01
    inside = np.all(np.abs(before[:, C.GAZE_SLICE] - before[3, C.GAZE_SLICE]) < 0.99, axis=1)  # no clipping
    assert inside.sum() > 15
    g = C.GAZE_SLICE
    assert np.allclose(after[inside][:, g], before[inside][:, g] - before[3, g], atol=0.01)
    others = [i for i in range(expression.E) if i not in range(12, 16)]
    assert np.allclose(after[inside][:, others], before[inside][:, others], atol=2e-3)
    back = C.Calibration.from_dict(json.loads(json.dumps(shifted.to_dict())))
    assert np.allclose(C.codes_from_landmarks(glancing, back), after, atol=2e-3)


def test_her_frames_rebuild_with_the_iris_where_the_detector_saw_it(glancing):
    """The head shows a gaze code as the eye's full turn, but rebuilds (unwraps) her frames with the
    share of it the detector reads, so a frame's iris texels come from where her iris was detected."""
    from generation.face.pipeline import fit_subject
    from generation.face.pose import canonical

    geo = fit_subject(glancing)
    h, cal = geo.head, geo.calibration
    pitch = expression.index("gaze_pitch_l")
    turn = h.blendshapes[pitch, L.EYE_L["iris"], 1]
    assert turn == pytest.approx(C.EYEBALL_RADIUS_M * np.sin(np.radians(C.GAZE_DEG)), rel=0.02)
    assert h.fitted_shapes[pitch, L.EYE_L["iris"], 1] == pytest.approx(turn * C.GAZE_READ[1], rel=1e-4)
    iris = [L.EYE_L["iris"], L.EYE_R["iris"]]
    err = []
    for lm in glancing[::3]:
        code = C.codes_from_landmarks(lm, cal)
        real = canonical(lm)[iris] - canonical(lm)[[L.EYE_L["inner"], L.EYE_R["inner"]]]
        built = h.reconstruct(code)[iris] - h.reconstruct(code)[[L.EYE_L["inner"], L.EYE_R["inner"]]]
        err.append(np.abs(real - built)[:, :2].max())
    # metres: the rebuilt iris sits where the frame's is (rebuilt with the full turn: 1.7 mm off on average)
    assert np.mean(err) < 5e-4 and max(err) < 8e-4, err
    # and from her median frame's eyes, as fitted: the head adds back the codes its rest eyes read
    assert np.any(cal.gaze_zero) and np.allclose(h.meta["gaze_zero"], cal.gaze_zero, atol=1e-5)
    from dataclasses import replace

    unshifted = C.codes_from_landmarks(glancing[0], replace(cal, gaze_zero=np.zeros(4, np.float32)))
    rebuilt = h.reconstruct(C.codes_from_landmarks(glancing[0], cal))
    del h.meta["gaze_zero"]
    assert np.abs(rebuilt - h.reconstruct(unshifted)).max() < 1e-6
