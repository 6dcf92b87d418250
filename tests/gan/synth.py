"""Procedural SubjectDatasets whose textures depend on the expression code.

Eyes close with blink_l/blink_r, the mouth opens with jaw_open and widens with the smiles,
brows rise with brow_up_*; the mask hides a side of the face as the head turns. So a
generator that ignores its code cannot reconstruct held-out samples, and conditioning is
testable.
"""

from __future__ import annotations

import numpy as np

from assets import expression
from assets.artifacts import SubjectDataset

J, SL, SR = expression.index("jaw_open"), expression.index("mouth_smile_l"), expression.index("mouth_smile_r")
BL, BR = expression.index("blink_l"), expression.index("blink_r")
UL, UR = expression.index("brow_up_l"), expression.index("brow_up_r")


def _paint(img: np.ndarray, r2: np.ndarray, color) -> None:
    """Blend `color` where the ellipse distance r2 < 1, with a soft edge (like a real, blurred photo)."""
    alpha = (1.0 / (1.0 + np.exp(np.minimum((np.sqrt(r2) - 1.0) / 0.15, 50.0))))[..., None]
    img[:] = img * (1 - alpha) + np.asarray(color, np.float32) * alpha


def texture(code: np.ndarray, res: int, identity: int = 0) -> np.ndarray:
    """[E] -> [res,res,3] uint8 face-like texture."""
    y, x = np.mgrid[0:res, 0:res].astype(np.float32) / res  # 0..1
    rng = np.random.default_rng(1000 + identity)
    skin = np.array([200, 150, 120], np.float32) + rng.uniform(-30, 30, 3)
    img = np.broadcast_to(skin, (res, res, 3)).copy()
    img *= (1.0 - 0.25 * ((x - 0.5) ** 2 + (y - 0.45) ** 2))[..., None]  # shading
    for cx, blink, brow in ((0.32, code[BL], code[UL]), (0.68, code[BR], code[UR])):
        open_h = 0.07 * (1.0 - np.clip(blink, 0, 1)) + 0.005
        _paint(img, ((x - cx) / 0.1) ** 2 + ((y - 0.4) / open_h) ** 2, [40, 30, 25])
        by = 0.27 - 0.08 * np.clip(brow, 0, 1)
        _paint(img, np.maximum(np.abs(x - cx) / 0.11, np.abs(y - by) / 0.025) ** 2, [70, 50, 40])
    mouth_w = 0.16 + 0.08 * (np.clip(code[SL], 0, 1) + np.clip(code[SR], 0, 1)) / 2
    mouth_h = 0.015 + 0.09 * np.clip(code[J], 0, 1)
    _paint(img, ((x - 0.5) / mouth_w) ** 2 + ((y - 0.72) / mouth_h) ** 2, [120, 30, 40])
    return np.clip(img, 0, 255).astype(np.uint8)


def random_codes(n: int, rng: np.random.Generator) -> np.ndarray:
    codes = np.zeros((n, expression.E), np.float32)
    for i in (J, SL, SR, BL, BR, UL, UR):
        codes[:, i] = rng.uniform(0, 1, n)
    codes[:, expression.E - 8:] = rng.normal(0, 0.5, (n, 8))  # PCA entries: present but texture-neutral
    return expression.clip(codes)


def make_dataset(n: int = 24, res: int = 32, seed: int = 0, synthetic_fraction: float = 0.75,
                 quality: float = 0.9, identity: int = 0, pose_shading: float = 0.0) -> SubjectDataset:
    """With pose_shading > 0 the head turns (yaw, degrees) and the lit side of the texture follows
    the turn, as a fixed light on a turning head does: information in the pose, not in the code."""
    rng = np.random.default_rng(seed)
    codes = random_codes(n, rng)
    uv = np.stack([texture(c, res, identity) for c in codes])
    pose = np.zeros((n, 6), np.float32)
    if pose_shading:
        pose[:, 0] = rng.uniform(-15, 15, n)
        ramp = (np.arange(res, dtype=np.float32) / (res - 1) - 0.5) * 2  # -1 left .. +1 right
        light = 1 + pose_shading * (pose[:, 0, None] / 15) * ramp[None]  # [n,res]
        uv = np.clip(uv * light[:, None, :, None], 0, 255).astype(np.uint8)
    x = np.arange(res)[None, :]
    turn = rng.uniform(-0.4, 0.4, n)  # which side of the face the "photo" shows
    visible = np.where(turn[:, None] > 0, x < res * (1 - turn[:, None] * 0.6), x > res * (-turn[:, None] * 0.6))
    mask = np.broadcast_to(visible[:, None, :], (n, res, res)).astype(np.uint8) * 255
    synthetic = np.arange(n) >= int(round(n * (1 - synthetic_fraction)))
    return SubjectDataset(
        crops=np.zeros((n, 8, 8, 3), np.uint8), landmarks=np.zeros((n, 478, 3), np.float32),
        pose=pose, codes=codes, uv=uv, mask=np.ascontiguousarray(mask),
        quality=np.full(n, quality, np.float32), synthetic=synthetic,
        source_ids=[f"original/{i:064x}" for i in range(n)])


TINY = dict(resolution=16, texture_side=0, batch=4, z_dim=8, w_dim=32, id_dim=8, channel_base=256, channel_max=32,
            d_channel_base=128, d_channel_max=16, checkpoint_every=1000, log_every=1, r1_every=2, holdout=0.2)
