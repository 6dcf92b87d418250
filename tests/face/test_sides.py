"""One-sided expression shapes (generation/face/sides.py): a left/right pair fitted on frames where the two
sides move together must not split into a common motion and a difference that moves the other side."""

import numpy as np
import pytest

from assets import expression
from assets import landmarks as L
from generation.face import head as H
from generation.face import sides as S
from generation.face.pose import canonical, fit_pose, project

# Landmarks that no measure and no face-frame reads (so her codes cannot see their motion), per side and part.
_READ = set(L.RIGID) | set(L.BROW_L + L.BROW_R + L.CHEEK_L + L.CHEEK_R) | {L.MOUTH_CORNER_L, L.MOUTH_CORNER_R,
         L.SUBNASALE, L.LIP_UPPER_OUTER, L.LIP_UPPER_INNER, L.LIP_LOWER_INNER, L.LIP_LOWER_OUTER}
_READ |= {p for pair in L.LIP_INNER_PAIRS for p in pair}
_READ |= {p for eye in (L.EYE_L, L.EYE_R) for k in ("upper", "lower") for p in eye[k]}
_READ |= {eye[k] for eye in (L.EYE_L, L.EYE_R) for k in ("outer", "inner")}
_OTHER = {  # control of the pair that moves with the difference -> landmarks of the OTHER side it drags along
    "brow_up_l": lambda s: [i for i in H.BROW_LOWER[5:]],
    "blink_l": lambda s: [i for i in L.EYE_RING_R if i not in _READ],
    "mouth_smile_l": lambda s: [i for i in range(L.N_MESH) if i not in _READ
                                and np.linalg.norm(s[i, :2] - s[L.MOUTH_CORNER_R, :2]) < 0.012],
}
PARTNER = {"brow_up_l": "brow_up_r", "blink_l": "blink_r", "mouth_smile_l": "mouth_smile_r"}


def test_a_full_support_is_the_joint_fit_and_no_support_no_motion():
    rng = np.random.default_rng(0)
    codes = rng.uniform(0, 1, (30, 3))
    target = rng.normal(0, 1e-3, (30, 5, 3))
    joint = np.linalg.solve(codes.T @ codes + S.RIDGE * np.eye(3), codes.T @ target.reshape(30, -1)).reshape(3, 5, 3)
    np.testing.assert_allclose(S.masked_fit(codes, target, np.ones((3, 5))), joint, atol=1e-12)
    support = np.ones((3, 5))
    support[0, 2:] = 0.0
    fit = S.masked_fit(codes, target, support)
    assert np.all(fit[0, 2:] == 0) and np.abs(fit[0, :2]).max() > 0
    assert not np.allclose(fit[1:, 2:], joint[1:, 2:])  # the others take up what control 0 may not carry there


def test_side_support_keeps_each_pair_on_its_side_and_part(grace_head):
    s = grace_head.vertices[:478]
    up_l, up_r = S.side_support(s, "brow_up_l"), S.side_support(s, "brow_up_r")
    assert up_l[list(L.BROW_L)].min() > 0.95 and up_l[list(L.BROW_R)].max() == 0
    assert up_r[list(L.BROW_R)].min() > 0.95 and up_l[L.CHIN] == 0  # a brow leaves the chin
    blink = S.side_support(s, "blink_r")
    assert blink[list(L.EYE_RING_R)].min() > 0.99 and blink[[L.MOUTH_CORNER_R, L.MOUTH_CORNER_L]].max() == 0
    smile = S.side_support(s, "mouth_smile_l")
    assert smile[L.MOUTH_CORNER_L] > 0.99 and smile[L.MOUTH_CORNER_R] == 0 and smile[list(L.EYE_RING_L)].max() == 0
    np.testing.assert_array_equal(S.side_support(s, "jaw_open"), 1.0)
    np.testing.assert_allclose(S.side_support(s, "brow_up_l")[s[:, 0] == 0], 0.5)  # the midline is shared


@pytest.fixture(scope="module", params=sorted(PARTNER))
def together(request, faces, grace_head):
    """40 landmark sets of Hopper's head moving a left/right pair together (codes correlate ~0.9), where
    the other side's unread landmarks follow the pair's difference (3 mm per unit of code): in her real
    frames the joint fit turned such a motion into brow_up_l lowering her right brow."""
    name = request.param
    rng = np.random.default_rng(5)
    pose = fit_pose(faces["grace"][1], grace_head.vertices[:478], 512)
    left, right = expression.index(name), expression.index(PARTNER[name])
    both = rng.uniform(0, 1, 40) * (rng.random(40) < 0.8)
    codes = expression.neutral(40)
    codes[:, left] = np.clip(both + rng.normal(0, 0.12, 40), 0, 1)
    codes[:, right] = np.clip(both + rng.normal(0, 0.12, 40), 0, 1)
    dragged = _OTHER[name](grace_head.vertices[:478])
    assert len(dragged) >= 3
    sets = []
    for c in codes:
        v = grace_head.deform(c)[:478].copy()
        v[dragged, 1] -= 0.003 * (c[left] - c[right])
        sets.append(project(v, pose, 512))
    return name, np.stack(sets), dragged


def test_a_one_sided_control_moves_only_its_own_side(together):
    """The joint fit gives the left control the other side's motion (the old brow_up_l: left brow up 3.7 mm,
    right brow down 1.1-1.7 mm on the shared clip); fitted one-sided, each control moves only its side and
    both together still rebuild her frames about as well (unwraps keep the joint fit)."""
    from generation.face.controls import codes_from_landmarks, fit_calibration

    name, sets, dragged = together
    cal = fit_calibration(sets)
    h = H.fit_head(sets, calibration=cal)
    left, right = expression.index(name), expression.index(PARTNER[name])
    s = h.vertices[:478]
    joint = cal.regression[left].reshape(478, 3)
    assert np.abs(joint[dragged, 1]).max() > 0.001  # metres: the joint fit has the split
    assert np.abs(h.fitted_shapes[left, dragged, 1]).max() > 0.001  # and unwraps keep it
    other_side = np.flatnonzero(s[:L.N_MESH, 0] < -S.MIDLINE_M)
    own_side = np.flatnonzero(s[:L.N_MESH, 0] > S.MIDLINE_M)
    shown = h.blendshapes[left, :478]
    assert np.linalg.norm(shown[other_side], axis=1).max() < 1e-6  # shown: nothing moves on the other side
    assert np.linalg.norm(shown[own_side], axis=1).max() > 0.002  # its own side still moves
    mirror = h.blendshapes[right, :478]
    assert np.linalg.norm(mirror[own_side], axis=1).max() < 1e-6
    assert "own side" in h.meta["blendshapes"][name] and "own side" in h.meta["blendshapes"][PARTNER[name]]
    codes, target = codes_from_landmarks(sets, cal), canonical(sets)
    sem = len(expression.SEMANTIC)
    rest = h.vertices[:478].astype(np.float64)
    as_shown = H.reconstruction_error(h.blendshapes[:sem, :478].astype(np.float64), rest, cal, codes, target)
    as_fitted = H.reconstruction_error(h.fitted_shapes[:, :478].astype(np.float64), rest, cal, codes, target)
    assert as_shown < as_fitted + 3e-4, (as_shown, as_fitted)  # metres: her frames rebuilt within 0.3 mm RMS
