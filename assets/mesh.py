"""Mesh helpers both the offline renderer and the Panda3D runtime use."""

from __future__ import annotations

import numpy as np


def vertex_normals(vertices: np.ndarray, faces: np.ndarray, dtype=np.float32) -> np.ndarray:
    """Area-weighted smooth normals [V,3] from vertices [V,3] and triangles [F,3]
    (welded copies are not averaged across a UV seam; the seams sit where the surface is smooth)."""
    vertices = np.asarray(vertices, np.float64)
    tri = vertices[faces]  # [F,3,3]
    fn = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])  # [F,3], length = 2 x area
    idx = np.asarray(faces).reshape(-1)  # each face adds its normal to its three corners
    vn = np.stack([np.bincount(idx, weights=np.repeat(fn[:, c], 3), minlength=len(vertices)) for c in range(3)], 1)
    return (vn / np.maximum(np.linalg.norm(vn, axis=1, keepdims=True), 1e-12)).astype(dtype)


def inside_polygon(points: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """Even-odd point-in-polygon test, points [N,2], polygon [K,2] -> [N] bool."""
    x, y = points[:, 0:1], points[:, 1:2]
    px, py = polygon[:, 0][None], polygon[:, 1][None]
    qx, qy = np.roll(polygon[:, 0], -1)[None], np.roll(polygon[:, 1], -1)[None]
    crosses = (py > y) != (qy > y)
    with np.errstate(divide="ignore", invalid="ignore"):
        xi = px + (y - py) * (qx - px) / (qy - py)
    return (crosses & (x < xi)).sum(axis=1) % 2 == 1


def polygon_distance(points: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """Distance [N] from each point [N,2] to the nearest edge of a closed polygon [K,2]."""
    p, q = polygon, np.roll(polygon, -1, axis=0)
    d = q - p  # [K,2]
    rel = points[:, None, :] - p[None]  # [N,K,2]
    s = np.clip((rel * d[None]).sum(-1) / np.maximum((d * d).sum(-1), 1e-12)[None], 0, 1)
    return np.linalg.norm(rel - s[..., None] * d[None], axis=-1).min(axis=1)
