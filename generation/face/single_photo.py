"""Single-photo mode: a training album from one portrait by re-rendering the photo-textured
head across expressions, small head turns and lighting changes.

The renders are meant to go back through the landmark pipeline (and be marked synthetic):
the album teaches the GAN how this face looks when it moves, within what one photo can tell.
"""

from __future__ import annotations

import numpy as np

from assets import expression
from .align import align_face
from .controls import fit_calibration, codes_from_landmarks
from .errors import GeometryError
from .pose import fit_pose
from .render import Light, render
from .unwrap import complete_texture, unwrap

# (control, high) pairs the album samples from; gaze is signed.
_EXPRESSIVE = (("jaw_open", 0.9), ("mouth_smile_l", 1.0), ("mouth_smile_r", 1.0), ("mouth_pucker", 0.9),
               ("mouth_funnel", 0.9), ("mouth_press", 0.8), ("brow_up_l", 1.0), ("brow_up_r", 1.0),
               ("brow_down", 0.9), ("cheek_raise", 1.0))


def album_codes(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Codes [n,E] and pose offsets [n,3] (yaw, pitch, roll degrees); the first is the photo itself."""
    rng = np.random.default_rng(seed)
    codes = expression.neutral(n)
    angles = np.zeros((n, 3), np.float32)
    for i in range(1, n):
        for j in rng.choice(len(_EXPRESSIVE), size=rng.integers(1, 4), replace=False):
            name, high = _EXPRESSIVE[j]
            codes[i, expression.index(name)] = rng.uniform(0.3, high)
        if rng.random() < 0.5:  # both sides of a smile / brow raise together, as people mostly do
            for a, b in (("mouth_smile_l", "mouth_smile_r"), ("brow_up_l", "brow_up_r")):
                m = max(codes[i, expression.index(a)], codes[i, expression.index(b)])
                codes[i, expression.index(a)] = codes[i, expression.index(b)] = m
        if rng.random() < 0.15:
            codes[i, expression.index("blink_l")] = codes[i, expression.index("blink_r")] = rng.uniform(0.5, 1.0)
        gaze = rng.uniform(-0.3, 0.3, 2) * (rng.random() < 0.4)
        codes[i, list(expression.GAZE)] = [gaze[0], gaze[1], gaze[0], gaze[1]]
        angles[i] = rng.uniform([-18, -10, -6], [18, 10, 6])
    return expression.clip(codes), angles


def synthesize_album(image: np.ndarray, landmarks_px: np.ndarray, head, n: int = 48, seed: int = 0,
                     size: int = 256) -> list[np.ndarray]:
    """From one portrait (RGB uint8 + its [478,3] landmarks in image pixels) and the head fitted
    to it, `n` RGB renders [size,size,3] in the aligned-crop frame."""
    import cv2

    if n < 1:
        raise GeometryError(f"album size must be at least 1, got {n}")
    al = align_face(image, landmarks_px, size)
    cal = fit_calibration(al.landmarks[None])
    code0 = codes_from_landmarks(al.landmarks, cal)
    uv, mask = unwrap(al.crop, al.landmarks, head, code0, size=256)
    texture = complete_texture(uv, mask, head)
    pose0 = fit_pose(al.landmarks, head.deform(code0)[:478], size)
    background = cv2.GaussianBlur(al.crop, (0, 0), sigmaX=size / 40)
    codes, angles = album_codes(n, seed)
    rng = np.random.default_rng(seed + 1)
    frames = []
    for i in range(n):
        pose = pose0.copy()
        pose[:3] += angles[i]
        light = None
        if i > 0 and rng.random() < 0.7:
            d = rng.normal(size=3) * [1.0, 0.7, 0.3] + [0, 0.3, 1.2]
            light = Light(tuple(d), float(rng.uniform(0.2, 0.6)), tuple(rng.uniform(0.9, 1.1, 3)))
        out = render(head, texture, codes[i], pose, size, light, background=background)
        frames.append(out.rgb)
    return frames
