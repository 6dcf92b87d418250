"""Geometry-quality measures shared by the tests and the benchmark."""

from __future__ import annotations

import numpy as np

from .render import render
from .unwrap import complete_texture, uv_raster


def face_texels(head, size: int) -> np.ndarray:
    """[S,S] bool: texels on triangles of the face mesh proper (landmark vertices only)."""
    fid, _ = uv_raster(head, size)
    on_face = np.all(head.faces < 478, axis=1)
    return (fid >= 0) & on_face[np.maximum(fid, 0)]


def reprojection_error(head, code: np.ndarray, pose: np.ndarray, landmarks: np.ndarray, size: int = 256) -> float:
    """Mean 2D distance (px in the size² frame) between the posed head's landmark vertices and
    detected landmarks [478,3] (mesh points 0..467)."""
    pts = render_landmarks(head, code, pose, size)
    return float(np.linalg.norm(pts[:468, :2] - landmarks[:468, :2], axis=1).mean())


def render_landmarks(head, code, pose, size):
    from .pose import project

    return project(head.deform(np.asarray(code, np.float32))[head.landmark_vertices], pose, size)


def rerender_psnr(head, uv: np.ndarray, mask: np.ndarray, code: np.ndarray, pose: np.ndarray,
                  target: np.ndarray) -> tuple[float, int]:
    """PSNR (dB) of the head rendered with the completed UV texture against `target` [S,S,3],
    over the pixels whose texel was seen (mask) on the face proper; also the pixel count."""
    size = target.shape[0]
    seen = ((mask > 0) & face_texels(head, mask.shape[0])).astype(np.uint8) * 255
    img = render(head, complete_texture(uv, mask, head), code, pose, size).rgb
    vis = render(head, np.repeat(seen[..., None], 3, 2), code, pose, size)
    pix = vis.mask & (vis.rgb[..., 0] > 250)
    if not pix.any():
        return 0.0, 0
    mse = np.mean((img[pix].astype(np.float64) - target[pix]) ** 2)
    return float(10 * np.log10(255.0 ** 2 / max(mse, 1e-10))), int(pix.sum())
