"""Small hand-made inputs for the room tests: an ellipsoid HeadModel with eye openings, a jaw and
blinks, a painted face texture, and tracks. Built here so the tests need no other stage."""

from __future__ import annotations

import numpy as np
import trimesh

from assets import expression
from assets.artifacts import ExpressionTrack, FrameSequence, HeadModel
from vr_app.rig import EYE_RING, IRIS

HALF = np.array([0.075, 0.105, 0.095], np.float32)  # ellipsoid half-axes x (width), y (height), z (depth), metres
EYE_Y, EYE_X, EYE_RX, EYE_RY = 0.02, 0.03, 0.013, 0.007
MOUTH_Y = -0.05
SKIN = (198, 150, 122)
LIPS = (150, 60, 60)


def _surface(x: float, y: float) -> np.ndarray:
    z = HALF[2] * np.sqrt(max(1e-6, 1 - (x / HALF[0]) ** 2 - (y / HALF[1]) ** 2))
    return np.array([x, y, z], np.float32)


def make_head(subdivisions: int = 5) -> HeadModel:
    sphere = trimesh.creation.icosphere(subdivisions=subdivisions, radius=1.0)
    v = (np.asarray(sphere.vertices, np.float32) * HALF).astype(np.float32)  # [V,3]
    faces = np.asarray(sphere.faces, np.int32)
    uvs = np.c_[0.5 + v[:, 0] / (2.2 * HALF[0]), 0.5 + v[:, 1] / (2.2 * HALF[1])].astype(np.float32)

    def nearest(p):
        return int(np.argmin(np.linalg.norm(v - p, axis=1)))

    lm = np.full(478, nearest(_surface(0, 0)), np.int32)
    for side, sx in (("l", EYE_X), ("r", -EYE_X)):
        for k, idx in enumerate(EYE_RING[side]):
            a = 2 * np.pi * k / len(EYE_RING[side])
            lm[idx] = nearest(_surface(sx + EYE_RX * np.cos(a), EYE_Y + EYE_RY * np.sin(a)))
        lm[IRIS[side]] = nearest(_surface(sx, EYE_Y))
    lm[13] = nearest(_surface(0, MOUTH_Y + 0.004))
    lm[14] = nearest(_surface(0, MOUTH_Y - 0.004))
    for idx, (x, y) in {50: (-0.04, -0.02), 280: (0.04, -0.02), 151: (0, 0.06), 9: (0, 0.045),
                        205: (-0.035, -0.03), 425: (0.035, -0.03), 168: (0, EYE_Y)}.items():
        lm[idx] = nearest(_surface(x, y))

    shapes = np.zeros((expression.E, len(v), 3), np.float32)
    front = v[:, 2] > 0
    below = np.clip((MOUTH_Y - v[:, 1]) / 0.05, 0, 1) * front  # jaw region under the mouth
    shapes[expression.index("jaw_open"), :, 1] = -0.02 * below
    for side, sx in (("l", EYE_X), ("r", -EYE_X)):
        d = np.hypot((v[:, 0] - sx) / EYE_RX, (v[:, 1] - EYE_Y) / EYE_RY)
        w = np.clip((2.2 - d) / 0.8, 0, 1) * (v[:, 1] > EYE_Y - 0.3 * EYE_RY) * front  # upper lid, skin above
        shapes[expression.index(f"blink_{side}"), :, 1] = -(v[:, 1] - EYE_Y + EYE_RY * 1.4) * w
    return HeadModel(vertices=v, faces=faces, uvs=uvs, blendshapes=shapes, landmark_vertices=lm,
                     regions={}, meta={"made_by": "tests"})


def face_texture(size: int = 128, lips=LIPS) -> np.ndarray:
    """Skin with brows and lips, in the head's planar UV layout, [S,S,3]."""
    img = np.empty((size, size, 3), np.uint8)
    img[:] = SKIN
    y, x = np.mgrid[0:size, 0:size]
    u = x / (size - 1)
    vv = 1 - y / (size - 1)
    px = (u - 0.5) * 2.2 * HALF[0]
    py = (vv - 0.5) * 2.2 * HALF[1]
    img[(np.abs(py - 0.045) < 0.004) & (np.abs(np.abs(px) - EYE_X) < 0.015)] = (70, 50, 40)
    img[(np.abs(py - MOUTH_Y) < 0.007) & (np.abs(px) < 0.022)] = lips
    return img


def make_track(seconds: float = 1.0, fps: float = 30.0, jaw=None, text: str = "Hello, my dear.",
               audio_hz: float = 220.0, sample_rate: int = 16000) -> ExpressionTrack:
    t = int(round(seconds * fps))
    codes = expression.neutral(t)
    if jaw is not None:
        codes[:, expression.index("jaw_open")] = jaw
    n = int(seconds * sample_rate)
    audio = (0.3 * np.sin(2 * np.pi * audio_hz * np.arange(n) / sample_rate)).astype(np.float32)
    return ExpressionTrack(fps=fps, codes=codes, pose=np.zeros((t, 6), np.float32), source="text", audio=audio,
                           sample_rate=sample_rate, phonemes=[(0.05, seconds - 0.05, "a", "aa")], text=text)


def make_frames(t: int, fps: float = 30.0) -> FrameSequence:
    """Textures whose lip colour walks from red to blue, so streaming shows in the pixels."""
    frames = np.stack([face_texture(lips=(int(150 * (1 - i / max(t - 1, 1))), 60, int(150 * i / max(t - 1, 1))))
                       for i in range(t)])
    return FrameSequence(fps=fps, frames=frames)
