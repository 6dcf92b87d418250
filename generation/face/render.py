"""Software renderer of the textured head (numpy rasteriser), in the aligned-crop frame.

Used by single-photo mode, the GAN evaluation (G's texture on the fitted head at a sample's
pose) and the geometry benchmark. Torch-free and display-free.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from assets.mesh import vertex_normals

from assets import expression
from .errors import GeometryError
from .pose import matrix_from_euler, project
from .raster import rasterize


@dataclass(frozen=True)
class Light:
    """Lambert light on top of the texture's baked-in lighting: the shading is normalised so a
    surface facing the camera keeps its texture colour."""

    direction: tuple[float, float, float] = (0.0, 0.0, 1.0)  # towards the light; x right, y up, z to the viewer
    strength: float = 0.5  # 0 = unlit (texture as is), 1 = fully Lambertian
    colour: tuple[float, float, float] = (1.0, 1.0, 1.0)


@dataclass(frozen=True)
class Rendered:
    rgb: np.ndarray  # [S,S,3] uint8
    mask: np.ndarray  # [S,S] bool, head pixels
    depth: np.ndarray  # [S,S] float32, image-z (px, smaller = nearer), inf off the head
    landmarks: np.ndarray  # [478,3] float32 projected landmark vertices in pixels


def render(head, texture: np.ndarray, code: np.ndarray, pose: np.ndarray, size: int = 256,
           light: Light | None = None, background: np.ndarray | tuple = (128, 128, 128)) -> Rendered:
    """Draw the head at `pose` ([6], frame side = size) and expression `code` ([E])."""
    import cv2

    tex = np.asarray(texture)
    if tex.ndim != 3 or tex.shape[2] != 3 or tex.dtype != np.uint8:
        raise GeometryError(f"texture must be RGB uint8 [H,W,3], got {tex.dtype} {list(tex.shape)}")
    code = np.asarray(code, np.float32)
    pose = np.asarray(pose, np.float32)
    if code.shape != (expression.E,) or pose.shape != (6,) or not (np.isfinite(code).all() and np.isfinite(pose).all()):
        raise GeometryError(f"need a code [{expression.E}] and a pose [6] of finite numbers, "
                            f"got {list(code.shape)} and {list(pose.shape)}")
    verts = head.deform(code)
    xyz = project(verts, pose, size)
    fid, bary, depth = rasterize(xyz[:, :2], xyz[:, 2], head.faces, size, size, cull_backfaces=True)
    hit = fid >= 0
    f = head.faces[np.maximum(fid, 0)]  # [S,S,3]
    uv = np.einsum("hwk,hwkc->hwc", bary, head.uvs[f])
    th, tw = tex.shape[:2]
    mx = (uv[..., 0] * tw - 0.5).astype(np.float32)
    my = ((1 - uv[..., 1]) * th - 0.5).astype(np.float32)
    col = cv2.remap(tex, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE).astype(np.float32)
    if light is not None and light.strength > 0:
        rot = matrix_from_euler(*pose[:3])
        n = vertex_normals(verts, head.faces, np.float64) @ rot.T  # [V,3] camera axes
        npx = np.einsum("hwk,hwkc->hwc", bary, n[f])
        npx /= np.maximum(np.linalg.norm(npx, axis=-1, keepdims=True), 1e-9)
        ldir = np.asarray(light.direction, np.float64)
        ldir /= np.linalg.norm(ldir)
        lam = np.clip(npx @ ldir, 0, 1)
        ref = max(ldir[2], 0.25)  # what a camera-facing surface receives, kept at the texture colour
        shade = (1 - light.strength) + light.strength * lam / ref
        col = col * shade[..., None] * np.asarray(light.colour)
    if isinstance(background, np.ndarray):
        bg = np.asarray(background, np.float32)
        assert bg.shape == (size, size, 3), bg.shape
    else:
        bg = np.broadcast_to(np.asarray(background, np.float32), (size, size, 3))
    rgb = np.where(hit[..., None], col, bg).clip(0, 255).astype(np.uint8)
    return Rendered(rgb, hit, depth, xyz[head.landmark_vertices])


def render_head(head, texture: np.ndarray, code: np.ndarray, pose: np.ndarray, size: int = 256,
                light: Light | None = None) -> np.ndarray:
    """RGB [size,size,3] uint8 of the textured head; see `render` for the mask and depth too."""
    return render(head, texture, code, pose, size, light).rgb


def move_face(head, image: np.ndarray, code_from: np.ndarray, code_to: np.ndarray, pose: np.ndarray) -> np.ndarray:
    """RGB [H,W,3] uint8: a photo `image` of the face at `code_from` ([E], posed at `pose` [6], the image
    width as frame side) with its face moved to `code_to` by the head's own motion, and nothing else
    changed: each pixel of the head at `code_to` shows the photo where that point of the surface was.

    It tells what a face detector can read of a motion on the person's real skin, with no texture,
    lighting or eyes of ours in the picture (tests/benchmarks/rest_readings.py)."""
    import cv2

    img = np.asarray(image)
    if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8:
        raise GeometryError(f"image must be RGB uint8 [H,W,3], got {img.dtype} {list(img.shape)}")
    h, w = img.shape[:2]
    pose = np.asarray(pose, np.float32)
    before = project(head.deform(np.asarray(code_from, np.float32)), pose, w)
    after = project(head.deform(np.asarray(code_to, np.float32)), pose, w)
    fid, bary, _ = rasterize(after[:, :2], after[:, 2], head.faces, w, h, cull_backfaces=True)
    hit = fid >= 0
    src = np.einsum("hwk,hwkc->hwc", bary, before[head.faces[np.maximum(fid, 0)]][..., :2])  # [H,W,2] px
    gx, gy = np.meshgrid(np.arange(w, dtype=np.float32) + 0.5, np.arange(h, dtype=np.float32) + 0.5)
    mx = np.where(hit, src[..., 0], gx) - 0.5  # pixel centres at integer + 0.5 (as `rasterize`)
    my = np.where(hit, src[..., 1], gy) - 0.5
    return cv2.remap(img, mx.astype(np.float32), my.astype(np.float32), cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_REPLICATE)
