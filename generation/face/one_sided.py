"""One-sided expression shapes: each control of a left/right pair moves only its own side of the face.

A person's two brows (lids, mouth corners) move together: on the shared clip her brow codes correlate
0.90, her blinks 0.96, her smiles 0.82. The joint least squares then splits a pair into a common motion
and a difference: there brow_up_r took the common raise while brow_up_l raised her left brow 3 mm and
lowered the right one 1.4 mm, and blink_l tipped her lower face up 3-5 mm where blink_r tipped it down;
a one-sided command (a wink, a gesture, speech animation's single brow) moved the other side, the wrong way.

The pair's sum is well determined (it is what her frames show when both move) and is kept as fitted; it
is shared out by side and part of the face (`side_support`): each control's shape is its own side's share
of the sum (`split_pairs`), and what neither may move (the sum's motion outside both shares) is a
corrective shape the head adds only while both move, at the smaller of the two codes
(`assets.artifacts.HeadModel.pair_shapes`). Both at the same code show exactly the pair's sum, so her
frames (whose pairs move together) are rebuilt as before, while one control alone moves only its side.
"""

from __future__ import annotations

import numpy as np

from assets import expression
from assets import landmarks as L
from assets.blend import smoothstep

SIDED = (("brow_up_l", "brow_up_r"), ("blink_l", "blink_r"), ("mouth_smile_l", "mouth_smile_r"))
MIDLINE_M = 0.008  # half-width of the ramp across the face's midline (x = 0) where both sides share a vertex
_SIDE = {name: (1.0 if name.endswith("_l") else -1.0) for pair in SIDED for name in pair}
BROW_FLOOR_M = (0.004, 0.014)  # a brow_up moves nothing up to 4 mm above the eye corners' line, fully from 14 mm
CHEEKBONE_M = (0.020, 0.035)  # under the lower lid: a blink's part of the face ends here (ramp)
SMILE_REACH_M = 0.025  # a smile moves its cheek and lips: fully within half of this of its corner, none beyond 1.5 x


def side_support(shape: np.ndarray, name: str) -> np.ndarray:
    """[V] weight 0..1 with which control `name` may move each vertex of a canonical rest shape [V,3]
    (+x the subject's left, its first 478 vertices the landmarks): its own side (1, 0 on the other, a
    smooth ramp across the midline) and its own part of the face (a brow_up the face above the upper
    lids, a blink the face above the cheekbones, a smile its cheek and lips round its corner). 1 everywhere
    for a control without a side.

    Her pairs also move with other parts of her face (she blinks and raises her brows as she talks, and
    the joint fit lets the pairs carry frame-to-frame wobble of the face frame): a wink that kept its
    half of that would move its half of the mouth."""
    side = _SIDE.get(name)
    p = np.asarray(shape, np.float64)
    if side is None:
        return np.ones(len(p))
    x, y = p[:, 0], p[:, 1]
    out = smoothstep((side * x + MIDLINE_M) / (2 * MIDLINE_M))
    if name.startswith("brow_up"):
        eye_line = p[[L.EYE_L["outer"], L.EYE_L["inner"], L.EYE_R["outer"], L.EYE_R["inner"]], 1].mean()
        return out * smoothstep((y - eye_line - BROW_FLOOR_M[0]) / (BROW_FLOOR_M[1] - BROW_FLOOR_M[0]))
    if name.startswith("mouth_smile"):
        corner = p[L.MOUTH_CORNER_L if side > 0 else L.MOUTH_CORNER_R, :2]
        return out * smoothstep(1.5 - np.linalg.norm(p[:, :2] - corner, axis=1) / SMILE_REACH_M)
    lower_lid = p[list((L.EYE_L if side > 0 else L.EYE_R)["lower"]), 1].mean()
    return out * (1 - smoothstep((lower_lid - y - CHEEKBONE_M[0]) / (CHEEKBONE_M[1] - CHEEKBONE_M[0])))


def split_pairs(offsets: np.ndarray, shape: np.ndarray, pairs=SIDED) -> tuple[np.ndarray, np.ndarray]:
    """Semantic shapes [S,V,3] with each of `pairs` (names, as in SIDED) replaced by its sides' shares of the
    pair's sum, and the correctives [P,V,3] (the sum's motion outside both shares, shown at the smaller of
    the two codes), for a rest shape [V,3] (canonical, the landmarks first). Both at one code c then move
    c x the sum."""
    names = [c.name for c in expression.SEMANTIC]
    out = np.array(offsets, np.float64, copy=True)
    corrective = np.zeros((len(pairs),) + out.shape[1:])
    for p, pair in enumerate(pairs):
        both = out[names.index(pair[0])] + out[names.index(pair[1])]
        shares = [side_support(shape, n)[:, None] * both for n in pair]
        for n, share in zip(pair, shares):
            out[names.index(n)] = share
        corrective[p] = both - shares[0] - shares[1]
    return out, corrective
