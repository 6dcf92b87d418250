"""The glasses' arm along the temple, where a single frontal photo saw only the frame's end.

From the front a glasses' arm runs straight away from the camera: the photo shows the frame ending in
a dark point at the face's outline and nothing behind it. Seen turned, the head's side (remade as her
skin by `side_skin`) then showed a bare temple from that point to the ear, and she read as someone else.
Here the arm is drawn on a side texture as the frame's own colour: a band from the frame's outermost
dark end (the hinge) back to the top of the ear's root, with a soft shadow on the skin under it. Nothing
is drawn unless a dark frame runs at the eyes' height from beside the eye out to where the photo saw the
temple at a slant (no glasses; dark hair at the temple, which does not reach the eye; a light frame).
"""

from __future__ import annotations

import numpy as np

from assets.blend import smoothstep

from .delight import LUMA_601
from .jewellery import LOBE

HINGE_BAND = (-0.01, 0.016)  # metres about the eyes' height where a frame's end is looked for (a brow lies higher)
HINGE_X = 0.055  # metres from the face's middle from which a dark texel is the frame's end, not its rim
HINGE_SLANT = 0.45  # normal . view under which the photo saw the end at a slant, close to the face's outline
HINGE_DARK = 0.45  # of her cheeks' luma: a frame's texel is darker than this
HINGE_TEXELS = 12  # fewest such texels (per 512x512) for a frame's end: fewer are a stray dark speck
RUN_FROM, RUN_STEP = 0.035, 0.005  # metres from the face's middle: the frame's run is checked in steps from here out
RUN_SHARE = 0.08  # of a step's texels in the band: dark in every step from the eye to the end (a frame's rim)
HINGE_REACH = 0.008  # metres round the hinge whose dark texels give the arm its colour
AHEAD_OF_EAR = 0.015  # metres a hinge lies in front of the ear's root at least (hair behind it is no frame)
EAR_TOP = 0.035  # metres above the lobe's landmark: the top of the ear's root, where the arm rests
PAST_EAR = 0.01  # metres the arm runs on behind the ear's root (under the ear's top, which the shell draws)
ARM_WIDTH = (0.004, 0.0025)  # metres: the arm's height at the hinge and at the ear
ARM_SOFT = 0.0006  # metres over which its edges go over to the skin
SHADOW = (0.0025, 0.25)  # the shadow under it: metres below its lower edge, and how much it darkens the skin


def glasses_arm(uv: np.ndarray, seen: np.ndarray, facing: np.ndarray, xyz: np.ndarray, used: np.ndarray,
                skin: np.ndarray, head, eye_y: float, sign: float) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(cover [S,S] 0..1, shade [S,S] 0..1, colour [3]) of the arm on the `sign` side (+1 her left), or None when
    the photo shows no frame ending at that temple. `uv` [S,S,3] the photo's colours where `seen` [S,S] bool,
    `facing` [S,S] its normal . view, `xyz` [S,S,3] the texels' rest positions (head axes, +z ahead) where `used`,
    `skin` [S,S] bool her well-seen cheek skin (the reference for dark), `eye_y` the eyes' height. `drawn` lays
    it on a side texture: the colour over `cover`, the skin darkened by `shade` under it."""
    if not skin.any():
        return None
    size = uv.shape[0]
    lum = uv.astype(np.float32) @ LUMA_601.astype(np.float32)
    lobe = np.asarray(head.vertices[head.landmark_vertices[LOBE[0 if sign < 0 else 1]]], np.float64)
    x, y, z = sign * xyz[..., 0], xyz[..., 1] - eye_y, xyz[..., 2]
    band = seen & used & (y > HINGE_BAND[0]) & (y < HINGE_BAND[1]) & (z > lobe[2] + AHEAD_OF_EAR)
    frame = band & (lum < HINGE_DARK * float(np.median(lum[skin])))
    dark = frame & (x > HINGE_X)
    end = dark & (facing < HINGE_SLANT)
    if end.sum() < HINGE_TEXELS * (size / 512) ** 2:
        return None
    # A frame runs on from the eye to its end at about one height; hair at the temple does not reach the eye.
    run = []
    for lo in np.arange(RUN_FROM, float(np.median(x[end])), RUN_STEP):
        step = band & (x >= lo) & (x < lo + RUN_STEP)
        run.append(float((frame & step).sum()) / max(float(step.sum()), 1.0))
    if not run or min(run) < RUN_SHARE:
        return None
    # the hinge: the frame's end furthest back (the median of its last few millimetres, not one texel)
    back = z[end]
    last = end & (z <= np.percentile(back, 10) + 0.003)
    hinge = np.array([np.median(y[last]), np.median(z[last])])
    near = dark & ((y - hinge[0]) ** 2 + (z - hinge[1]) ** 2 < HINGE_REACH ** 2)
    dark_half = near & (lum <= np.median(lum[near]))  # the frame itself, not its blend into the skin round it
    colour = np.median(uv[dark_half].astype(np.float32), axis=0)
    ear = np.array([lobe[1] + EAR_TOP - eye_y, lobe[2] - PAST_EAR])
    # each texel's place along the arm (t, 0 at the hinge) and its height over the arm's line (in the side's plane)
    d = ear - hinge
    length = float(np.hypot(*d))
    t = ((y - hinge[0]) * d[0] + (z - hinge[1]) * d[1]) / length ** 2
    up = np.array([-d[1], d[0]]) / length
    up = up if up[0] > 0 else -up  # across the arm, upwards
    across = (y - hinge[0]) * up[0] + (z - hinge[1]) * up[1]
    half = 0.5 * (ARM_WIDTH[0] + np.clip(t, 0, 1) * (ARM_WIDTH[1] - ARM_WIDTH[0]))
    along = smoothstep(t * length / ARM_SOFT + 0.5) * smoothstep((1 - t) * length / ARM_SOFT + 0.5)
    outside = used & (x > HINGE_X)
    cover = outside * along * smoothstep((half - np.abs(across)) / ARM_SOFT + 0.5)
    below = -across - half
    shade = outside * along * SHADOW[1] * np.clip(1 - below / SHADOW[0], 0, 1) * (below > 0)
    return cover.astype(np.float32), shade.astype(np.float32), colour


def drawn(side: np.ndarray, arm) -> np.ndarray:
    """The side texture [S,S,3] (float or uint8) with the `arm` (`glasses_arm`'s answer; None: unchanged) on it."""
    if arm is None:
        return side
    cover, shade, colour = arm
    out = side.astype(np.float32) * (1 - shade[..., None])
    out = out * (1 - cover[..., None]) + colour * cover[..., None]
    return out.round().clip(0, 255).astype(side.dtype) if side.dtype == np.uint8 else out
