"""One-sided expression shapes: each control of a left/right pair moves only its own side of the face.

A person's two brows (lids, mouth corners) move together: on the shared clip her brow codes correlate
0.90, her blinks 0.96, her smiles 0.82. Fitted jointly and unconstrained, such a pair splits into a
common motion and a difference: there brow_up_r took the common raise and brow_up_l raised her left
brow 3 mm while lowering the right one 1.4 mm, so a one-sided command (a gesture, a wink, speech
animation's single brow) moved the other side the wrong way. Here every vertex is explained only by
the controls allowed to move it (`masked_fit`): a one-sided control's shape is confined to its side and
its part of the face (`side_support`), so the pair shares her combined motion side by side and both
codes together still rebuild her frames.
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
CHEEKBONE_M = (0.020, 0.035)  # under the lower lid: a blink's part of the face ends, a smile's begins (ramp)
RIDGE = 1e-2  # as the calibration's joint fit (controls.fit_calibration)


def side_support(shape: np.ndarray, name: str) -> np.ndarray:
    """[V] weight 0..1 with which control `name` may move each vertex of a canonical rest shape [V,3]
    (+x the subject's left, its first 478 vertices the landmarks): its own side (1, 0 on the other, a
    smooth ramp across the midline) and its own part of the face (a brow_up the face above the upper
    lids, a blink the face above the cheekbones, a smile the face below them). 1 everywhere for a control
    without a side.

    Her pairs also move with other parts of her face (she blinks and raises her brows as she talks):
    confined to its side alone, a blink took the mouth's motion that comes with her blinks on its half
    of the face (on the shared clip a right blink of 0.8 moved the right smile's reading 0.56)."""
    side = _SIDE.get(name)
    p = np.asarray(shape, np.float64)
    if side is None:
        return np.ones(len(p))
    x, y = p[:, 0], p[:, 1]
    out = smoothstep((side * x + MIDLINE_M) / (2 * MIDLINE_M))
    if name.startswith("brow_up"):
        eye_line = p[[L.EYE_L["outer"], L.EYE_L["inner"], L.EYE_R["outer"], L.EYE_R["inner"]], 1].mean()
        return out * smoothstep((y - eye_line - BROW_FLOOR_M[0]) / (BROW_FLOOR_M[1] - BROW_FLOOR_M[0]))
    lower_lid = p[list((L.EYE_L if side > 0 else L.EYE_R)["lower"]), 1].mean()
    lower_face = smoothstep((lower_lid - y - CHEEKBONE_M[0]) / (CHEEKBONE_M[1] - CHEEKBONE_M[0]))
    return out * (lower_face if name.startswith("mouth_smile") else 1 - lower_face)


def masked_fit(codes: np.ndarray, target: np.ndarray, support: np.ndarray, weights: np.ndarray | None = None,
               ridge: float = RIDGE) -> np.ndarray:
    """Shapes [K,V,3] with target [N,V,3] ~ codes [N,K] x shapes, by ridge least squares per vertex in which
    control k may move vertex v only as support[k,v] (0..1) x its own offset there (the shape is zero
    where its support is). With support all 1 it is the plain joint fit (as `fit_calibration`'s)."""
    codes, target, support = (np.asarray(a, np.float64) for a in (codes, target, support))
    n, k = codes.shape
    assert target.shape[0] == n and target.shape[2] == 3 and support.shape == (k, target.shape[1]), \
        (codes.shape, target.shape, support.shape)
    sw = np.sqrt(np.ones(n) if weights is None else np.asarray(weights, np.float64))
    a = codes * sw[:, None]
    gram = a.T @ a  # [K,K]
    rhs = np.einsum("nk,nvc->vkc", a, target * sw[:, None, None])  # [V,K,3]
    s = support.T  # [V,K]
    lhs = gram[None] * s[:, :, None] * s[:, None, :] + ridge * np.eye(k)  # [V,K,K]
    beta = np.linalg.solve(lhs, s[:, :, None] * rhs)  # [V,K,3]
    return (s[:, :, None] * beta).transpose(1, 0, 2)


def one_sided(offsets: np.ndarray, shape: np.ndarray, cal, codes: np.ndarray, faces: np.ndarray,
              refit: np.ndarray, weights: np.ndarray | None = None) -> tuple[np.ndarray, list[str]]:
    """Semantic shapes [S,478,3] fitted again, jointly as the calibration fitted them (`cal`:
    controls.Calibration; her faces [N,478,3] canonical about its mean shape, codes [N,E], `weights` [N]),
    with each pair in SIDED confined to its side and part of the face (`side_support`).

    Every control marked in `refit` [S] bool (fitted from data) is fitted again, not only the pairs: in
    the joint fit the other controls make up for the pairs' cross motion (on the shared clip a pucker
    narrowed the mouth further to cancel what the brow and blink differences did to it), so holding them
    while confining the pairs rebuilt her frames 0.2 mm worse; fitted together they rebuild her as well
    as before. The others (generic shapes, gaze) keep their shapes, their joint motion taken out first.
    With no one-sided control marked nothing changes. `shape` [478,3] is the rest face. Returns the shapes and the
    controls fitted again."""
    from .controls import detector_scale

    names = [c.name for c in expression.SEMANTIC]
    s = len(names)
    refit = np.asarray(refit, bool)
    if not any(refit[names.index(n)] for n in _SIDE):
        return offsets, []
    fitted = np.flatnonzero(refit)
    held = np.flatnonzero(~refit)
    read = detector_scale(cal.range)  # gaze enters as the detector reads it, as in the calibration's fit
    codes = np.asarray(codes, np.float64)[:, :s] * read
    joint = np.asarray(cal.regression, np.float64).reshape(s, 478, 3) / read[:, None, None]
    target = (np.asarray(faces, np.float64) - np.asarray(cal.mean_shape, np.float64)
              - np.einsum("nk,kvc->nvc", codes[:, held], joint[held]))
    support = np.stack([side_support(shape, names[i]) for i in fitted])
    fit = masked_fit(codes[:, fitted], target, support, weights) * read[fitted, None, None]
    out = np.array(offsets, np.float64, copy=True)
    out[fitted] = fit
    return out, [names[i] for i in fitted]
