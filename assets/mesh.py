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
