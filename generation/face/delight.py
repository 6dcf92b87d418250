"""Taking the capture's light out of the face texture.

The face texture holds her skin as her photos saw it: lit by the room she was filmed in. The
product then lights the head again, so every shadow and highlight of the capture would be drawn
twice (the studio light of the likeness benchmark costs the clip's identity 0.024 at the median,
most near the front). Here the capture's shading is estimated as a low-order spherical-harmonics
irradiance of the rest head's normals, fitted to the luminance of well-seen skin texels (eyes,
brows, lips and nostrils left out by landmark, and anything much darker or brighter than the skin
around it -- a beard, glasses' frames, hair at the hairline -- weighted out by a robust refit), and
divided out at the capture's average level. Colour is preserved (one gain per texel for all three
channels), and the gain is smooth, so the change a generator frame adds on top is delit by the
same map (see vr_app.bust_shell.DetailedStream: the gain is applied at display, never to what is
stored or trained on).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from assets import landmarks as L

# Where skin is measured: texels seen sharply and at least this far (metres, on the rest head) from
# the eyes, brows, lips and nostrils, whose colour is not skin.
FEATURE_MARGIN_M = 0.008
NOSTRILS = (98, 327, 2, 97, 326)
LIPS = (0, 13, 14, 17, 37, 39, 40, 61, 78, 81, 82, 84, 87, 91, 178, 181, 185, 267, 269, 270, 291, 308, 311,
        312, 314, 317, 321, 402, 405, 409, 415)
MIN_SKIN_TEXELS = 2000
# The capture saw only the front half of the normals, over which order-2 terms are poorly told apart
# from order 1 and from the face's own periphery: they are held back hard, the order-1 terms barely.
# (Freer order 2 predicts her turned training frames' light slightly better, but renders her flatter
# and less like herself: measured and chosen with the likeness ruler in view, see issue 12's notes.)
RIDGE = (0.0, 0.05, 0.05, 0.05, 0.5, 0.5, 0.5, 0.5, 0.5)
ROBUST_C = 0.12  # relative luminance residual at which a texel's weight halves (Cauchy)
GAIN_RANGE = (0.6, 1.7)  # never more than this: deep creases are occlusion, not shading
HEAD_REACH_M = 0.015  # a shell point this close to the head is shaded by the head's normal there
HEADROOM = 250.0  # a brightened texel's brightest channel stops here (no blown highlights)
# The gain is a function of the *rest* face's normals, which turn sharply in the lid creases, the lips'
# parting and the nostrils: unsmoothed it paints the rest face's fine shape, inverted, into the
# texture (bright lines along the creases and between the lips), and that imprint stays put when the
# lids, brows and lips move, blurring the very cues an expression is read by. The capture's light
# varies over centimetres, so the gain is smoothed over this much (Gaussian sigma, metres).
GAIN_SMOOTH_M = 0.006

LUMA_601 = np.array([0.299, 0.587, 0.114])  # RGB weights of the photos' luma (Rec. 601, as video stores it)


@dataclass
class Delighting:
    """The capture's shading fitted over the face texture, and the gain that takes it out."""

    coeffs: np.ndarray  # [9] SH coefficients of luminance (texture units) over the rest normals
    level: float  # the capture's average skin luminance seen from the front, which the delit skin keeps (0: none)
    span: tuple[float, float]  # the fitted shading's range over the skin: normals beyond it are clamped into it
    gain: np.ndarray  # [S,S] float32 multiply the face texture by this (1 where the head has no texel)
    skin: np.ndarray  # [S,S] bool texels the fit used (after the landmark masks, before robust weights)

    def gain_at(self, normals: np.ndarray) -> np.ndarray:
        """[...] gain for unit normals [...,3] in head axes (1 for zero normals or no fit)."""
        if self.level <= 0:
            return np.ones(normals.shape[:-1], np.float32)
        shade = np.clip(sh_basis(normals) @ self.coeffs, *self.span)
        gain = np.clip(self.level / np.maximum(shade, 1e-6), *GAIN_RANGE)
        return np.where(np.linalg.norm(normals, axis=-1) > 0.5, gain, 1.0).astype(np.float32)


def sh_basis(n: np.ndarray) -> np.ndarray:
    """[...,9] real spherical harmonics up to order 2 (unnormalised) of unit normals [...,3]."""
    x, y, z = n[..., 0], n[..., 1], n[..., 2]
    return np.stack([np.ones_like(x), x, y, z, x * y, y * z, x * z, x * x - y * y, 3 * z * z - 1], -1)


def texel_normals(head, size: int) -> tuple[np.ndarray, np.ndarray]:
    """(unit normals [S,S,3] of the rest head at each texel, texel positions [S,S,3]); zeros where no
    triangle covers the texel. Vertices split along UV seams share one normal."""
    from assets.mesh import vertex_normals

    from .fill import texel_positions
    from .head import weld_index
    from .unwrap import uv_raster

    fid, bary = uv_raster(head, size)
    v = np.asarray(head.vertices, np.float64)
    vn = vertex_normals(v, head.faces, dtype=np.float64)
    weld = weld_index(v)
    summed = np.zeros_like(vn)
    np.add.at(summed, weld, vn)
    vn = summed[weld]
    n = np.einsum("hwk,hwkc->hwc", bary, vn[head.faces[np.maximum(fid, 0)]])
    n /= np.maximum(np.linalg.norm(n, axis=-1, keepdims=True), 1e-9)
    covered = (fid >= 0)[..., None]
    return np.where(covered, n, 0.0), np.where(covered, texel_positions(head, fid, bary), 0.0)


def feature_points(head) -> np.ndarray:
    """[K,3] rest positions of the landmarks whose surroundings are not plain skin."""
    ids = list(L.EYE_RING_L) + list(L.EYE_RING_R) + list(L.BROW_L) + list(L.BROW_R) + list(LIPS) + list(NOSTRILS)
    ids += [L.EYE_L["iris"], L.EYE_R["iris"]]
    return np.asarray(head.vertices, np.float64)[head.landmark_vertices[ids]]


def skin_texels(head, seen: np.ndarray, pos: np.ndarray, normals: np.ndarray) -> np.ndarray:
    """[S,S] bool: texels seen sharply (`seen` [S,S] > 0), facing forward-ish, away from features."""
    import cv2
    from scipy.spatial import cKDTree

    s = seen.shape[0]
    ok = cv2.erode((seen > 0).astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    ok &= np.linalg.norm(normals, axis=-1) > 0.5
    ok &= normals[..., 2] > 0.05  # the capture saw the front; grazing texels are smeared
    idx = np.flatnonzero(ok.reshape(-1))
    if len(idx):
        d, _ = cKDTree(feature_points(head)).query(pos.reshape(-1, 3)[idx])
        keep = np.zeros(s * s, bool)
        keep[idx[d > FEATURE_MARGIN_M]] = True
        ok = keep.reshape(s, s)
    return ok


def luminance(rgb: np.ndarray) -> np.ndarray:
    return rgb[..., :3].astype(np.float64) @ LUMA_601


def fit_shading(lum: np.ndarray, normals: np.ndarray, iterations: int = 8) -> np.ndarray:
    """[9] SH coefficients of `lum` [N] over `normals` [N,3]: ridge least squares, reweighted so
    texels far off the fit (a beard, a frame, a mole, hair) count little."""
    b = sh_basis(normals)
    w = np.ones(len(lum))
    level = max(float(np.median(lum)), 1.0)
    c = np.zeros(9)
    for _ in range(iterations):
        bw = b * w[:, None]
        c = np.linalg.solve(bw.T @ b + np.diag(RIDGE) * w.sum(), bw.T @ lum)
        r = (lum - b @ c) / level
        w = 1.0 / (1.0 + (r / ROBUST_C) ** 2)
    return c


def delight(texture: np.ndarray, seen: np.ndarray, head) -> Delighting:
    """The capture's shading in `texture` [S,S,3] uint8 (seen mask [S,S]) of `head`'s rest face, and
    the per-texel gain that divides it out at the skin's average luminance."""
    s = texture.shape[0]
    normals, pos = texel_normals(head, s)
    skin = skin_texels(head, seen, pos, normals)
    if skin.sum() < MIN_SKIN_TEXELS:  # too little skin seen to say anything about the light
        return Delighting(np.zeros(9), 0.0, (0.0, 0.0), np.ones((s, s), np.float32), skin)
    c = fit_shading(luminance(texture)[skin], normals[skin])
    fitted = sh_basis(normals[skin]) @ c
    # Normals the capture never saw (the back, under the chin) get the shading of the seen range's
    # ends rather than an extrapolated order-2 surface.
    lo, hi = np.percentile(fitted, [1, 99])
    # The level kept is the skin's mean as a frontal view shows it (each texel weighted by how squarely
    # it faces the camera): the delit face keeps the brightness the photos gave it.
    front = normals[skin][:, 2]
    level = float(np.sum(fitted * front) / np.sum(front))
    d = Delighting(c, level, (float(lo), float(hi)), np.ones((s, s), np.float32), skin)
    covered = np.linalg.norm(normals, axis=-1) > 0.5
    gain = smooth(nearest_fill(d.gain_at(normals), covered), covered, GAIN_SMOOTH_M / texel_size(pos, covered))
    d.gain = headroom(gain, texture)
    return d


def texel_size(pos: np.ndarray, covered: np.ndarray) -> float:
    """Median distance (metres) between neighbouring covered texels of positions `pos` [S,S,3]."""
    both = covered[:, 1:] & covered[:, :-1]
    if not both.any():
        return 1.0
    return max(float(np.median(np.linalg.norm(pos[:, 1:] - pos[:, :-1], axis=-1)[both])), 1e-6)


def smooth(gain: np.ndarray, covered: np.ndarray, sigma: float) -> np.ndarray:
    """`gain` [H,W] (filled everywhere) blurred with a Gaussian of `sigma` texels inside the UV islands
    (`covered` [H,W]), easing back to the unblurred gain over 3 sigma towards their outer edges: there
    the shell's own gain (surface_gain, unblurred) carries on, and a blurred face drew a seam against it."""
    import cv2
    from scipy import ndimage

    gain = gain.astype(np.float32)
    if sigma < 0.5:
        return gain
    blurred = cv2.GaussianBlur(gain, (0, 0), sigma, borderType=cv2.BORDER_REPLICATE)
    # Distance from the islands' outer edges only: the eyes' and mouth's holes are where blurring matters.
    inside = np.clip(ndimage.distance_transform_edt(ndimage.binary_fill_holes(covered)) / (3 * sigma), 0, 1)
    inside = inside.astype(np.float32)
    return inside * blurred + (1 - inside) * gain


def nearest_fill(gain: np.ndarray, covered: np.ndarray) -> np.ndarray:
    """`gain` [H,W] with texels no triangle covers given their nearest covered texel's gain: texture
    filtering samples that padding along every UV island's edge, and a gain of one there drew a bright
    fringe (at the top of the forehead)."""
    from scipy import ndimage

    if not covered.any():
        return gain
    _, (iy, ix) = ndimage.distance_transform_edt(~covered, return_indices=True)
    return gain[iy, ix].astype(np.float32)


def headroom(gain: np.ndarray, texture: np.ndarray) -> np.ndarray:
    """`gain` [H,W] lowered where it would push a texel's brightest channel of `texture` past HEADROOM."""
    peak = texture[..., :3].max(axis=-1).astype(np.float32)
    cap = np.maximum(HEADROOM / np.maximum(peak, 1.0), 1.0)
    return np.where(gain > 1, np.minimum(gain, cap), gain).astype(np.float32)


def surface_gain(d: Delighting, vertices: np.ndarray, faces: np.ndarray, uvs: np.ndarray, shape: tuple[int, int],
                 head=None, step: int = 4) -> np.ndarray:
    """[H,W] gain for a texture of `shape` laid out by `uvs` [V,2] (origin bottom-left) over the
    surface (`vertices` [V,3] head axes, `faces`): the same light taken out of, e.g., the bust's hair
    and shoulders. Where the surface lies on `head` (within HEAD_REACH_M) it takes the head's normals,
    so the gain runs on from the face's without a seam. Worked out every `step` texels (the gain is
    smooth) and enlarged."""
    import cv2
    from scipy.spatial import cKDTree

    from assets.mesh import vertex_normals

    from .raster import rasterize

    h, w = shape
    sh, sw = max(1, h // step), max(1, w // step)
    xy = np.stack([uvs[:, 0] * sw, (1 - uvs[:, 1]) * sh], 1)
    fid, bary, _ = rasterize(xy, np.zeros(len(xy)), faces, sw, sh, cull_backfaces=False)
    vertices = np.asarray(vertices, np.float64)
    vn = vertex_normals(vertices, faces, dtype=np.float64)
    if head is not None:
        hv = np.asarray(head.vertices, np.float64)
        dist, near = cKDTree(hv).query(vertices)
        on_head = np.clip(1 - dist / HEAD_REACH_M, 0, 1)[:, None]
        vn = on_head * vertex_normals(hv, head.faces, dtype=np.float64)[near] + (1 - on_head) * vn
    n = np.einsum("hwk,hwkc->hwc", bary, vn[faces[np.maximum(fid, 0)]])
    n /= np.maximum(np.linalg.norm(n, axis=-1, keepdims=True), 1e-9)
    n = np.where((fid >= 0)[..., None], n, 0.0)
    gain = nearest_fill(d.gain_at(n), fid >= 0)
    return cv2.resize(gain, (w, h), interpolation=cv2.INTER_LINEAR)


def apply_gain(texture: np.ndarray, gain: np.ndarray) -> np.ndarray:
    """`texture` [S,S,3] uint8 times `gain` [S,S], rounded and clipped back to uint8."""
    return np.clip(texture.astype(np.float32) * gain[..., None] + 0.5, 0, 255).astype(np.uint8)
