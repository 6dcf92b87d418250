"""The rest face's lids (generation/face/head.py neutral_shape): as open as the calibrated code 0."""

from __future__ import annotations

import numpy as np

from assets import landmarks as L
from assets import expression
from generation.face import head as H
from generation.face.pose import fit_pose, project


def test_rest_lids_are_as_open_as_code_zero_not_as_the_calmest_frames(faces, grace_head):
    """Frames that talk more or less and blink more or less, independently: the frames calmest overall
    (fewest summed codes) are picked for the rest face, and their eyes are as half-shut as any. The
    rest lids must be the eyes' own code 0 (the calibrated neutral opening): on the shared clip they
    sat a quarter lower than hers."""
    from generation.face.controls import SEM_NAMES, _eye_open, fit_calibration

    rng = np.random.default_rng(1)
    pose = fit_pose(faces["grace"][1], grace_head.vertices[:478], 512)
    codes = expression.neutral(40)
    talk = rng.uniform(0, 1, 40)
    codes[:, expression.index("jaw_open")] = talk
    codes[:, expression.index("mouth_smile_l")] = codes[:, expression.index("mouth_smile_r")] = 0.5 * talk
    codes[:, expression.index("blink_l")] = codes[:, expression.index("blink_r")] = rng.uniform(0, 0.6, 40)
    sets = np.stack([project(grace_head.deform(c), pose, 512)[:478] for c in codes])
    h = H.fit_head(sets)
    cal = fit_calibration(sets)
    code0 = -cal.neutral[[SEM_NAMES.index("blink_l"), SEM_NAMES.index("blink_r")]]
    rest = [_eye_open(h.vertices[:478].astype(np.float64), e) for e in (L.EYE_L, L.EYE_R)]
    assert np.allclose(rest, code0, rtol=0.07), (rest, code0)  # the calmest frames' mean: 0.78 of it
