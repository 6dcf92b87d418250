"""Register each frame's UV unwrap to the subject's reference texture.

The unwrap puts a feature where the fitted head (pose + expression code) says it is; the fit
is off by a pixel or two per frame (landmark noise), so brows, lids, nostrils and lip
contours land a texel or two apart from frame to frame. That jitter is no function of the
expression code, yet it dominated the held-out texture error. Here a dense optical flow
(DIS) from the reference texture to the frame's unwrap, on shading-free structure, on the
texels the frame showed, smoothed (a smoothness prior) and bounded, resamples the frame so
its features sit on the reference's texels.

A new frame is registered with the stored reference only (nothing learned from the frame
itself but its own flow), so training samples and any later frame are treated alike.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import GeometryError

MAX_SHIFT = 0.02  # bound on the displacement, as a fraction of the texture side (5 texels at 256²)
SMOOTH = 0.012  # Gaussian sigma of the smoothness prior on the flow, fraction of the side (3 texels at 256²)
DETAIL = 0.03  # shading scale removed before matching (sigma, fraction of the side)
PASSES = 2  # reference -> register -> reference again


@dataclass(frozen=True)
class Registration:
    uv: np.ndarray  # [S,S,3] uint8 resampled onto the reference's texels
    mask: np.ndarray  # [S,S] uint8, 255 = seen (resampled the same way)
    flow: np.ndarray  # [S,S,2] float32 texels: reference texel (x, y) shows frame texel (x, y) + flow


def _structure(uv: np.ndarray, size: int) -> np.ndarray:
    """Grey level minus its local mean, over its local contrast: edges, not lighting. [S,S] uint8."""
    import cv2

    g = cv2.cvtColor(uv, cv2.COLOR_RGB2GRAY).astype(np.float32)
    s = DETAIL * size
    hp = g - cv2.GaussianBlur(g, (0, 0), s)
    dev = np.sqrt(cv2.GaussianBlur(hp * hp, (0, 0), 2 * s)) + 4.0
    return np.clip(128 + 40 * hp / dev, 0, 255).astype(np.uint8)


def _weighted_blur(x: np.ndarray, w: np.ndarray, sigma: float) -> np.ndarray:
    """Normalised convolution: a Gaussian mean of x [S,S,C] with weights w [S,S]."""
    import cv2

    num = cv2.GaussianBlur(x * w[..., None], (0, 0), sigma)
    den = cv2.GaussianBlur(w, (0, 0), sigma)[..., None]
    return num / np.maximum(den, 1e-3)


def flow_to(reference: np.ndarray, uv: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """[S,S,2] float32: where each reference texel's content sits in this unwrap (offsets in texels)."""
    import cv2

    size = uv.shape[0]
    seen = mask > 127
    # texels the frame did not show take the reference's colour, so they match at zero flow
    filled = np.where(seen[..., None], uv, reference).astype(np.uint8)
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    flow = dis.calc(_structure(reference, size), _structure(filled, size), None)  # [S,S,2]
    # trust the flow only where the frame showed its surroundings; spread it smoothly elsewhere
    w = cv2.erode(seen.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(np.float32)
    flow = _weighted_blur(flow, w, SMOOTH * size)
    cover = cv2.GaussianBlur(w, (0, 0), SMOOTH * size)[..., None]
    flow *= np.clip(cover * 2, 0, 1)  # fades to no shift far from anything seen
    limit = MAX_SHIFT * size
    mag = np.linalg.norm(flow, axis=2, keepdims=True)
    flow *= np.minimum(1.0, limit / np.maximum(mag, 1e-6))
    return flow.astype(np.float32)


def register(uv: np.ndarray, mask: np.ndarray, reference: np.ndarray) -> Registration:
    """Resample one unwrap (uv [S,S,3] uint8, mask [S,S] uint8) onto the reference [S,S,3] uint8."""
    import cv2

    uv, mask, reference = np.asarray(uv), np.asarray(mask), np.asarray(reference)
    size = uv.shape[0]
    if uv.shape != (size, size, 3) or uv.dtype != np.uint8 or mask.shape != (size, size) \
            or reference.shape != uv.shape or reference.dtype != np.uint8:
        raise GeometryError(f"register needs uv [S,S,3] uint8, mask [S,S] and a reference like uv; got "
                            f"{list(uv.shape)}, {list(mask.shape)}, {list(reference.shape)}")
    flow = flow_to(reference, uv, mask)
    gx, gy = np.meshgrid(np.arange(size, dtype=np.float32), np.arange(size, dtype=np.float32))
    mx, my = gx + flow[..., 0], gy + flow[..., 1]
    out = cv2.remap(uv, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    # a texel is seen only when every source texel it mixes was seen
    seen = cv2.remap((mask > 127).astype(np.float32), mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    new_mask = seen > 0.999
    out[~new_mask] = 0
    return Registration(out, (new_mask * 255).astype(np.uint8), flow)


def reference_texture(uv: np.ndarray, mask: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Visibility- (and optionally quality-) weighted mean [S,S,3] uint8 of uv [N,S,S,3] with mask [N,S,S];
    never-seen texels take the mean colour of the seen ones."""
    w = mask.astype(np.float32) / 255.0
    if weights is not None:
        w = w * np.asarray(weights, np.float32)[:, None, None]
    total = w.sum(0)
    tex = np.einsum("nhw,nhwc->hwc", w, uv.astype(np.float32)) / np.maximum(total, 1e-6)[..., None]
    seen = total > 0
    tex[~seen] = tex[seen].mean(0) if seen.any() else 128.0
    return np.clip(tex + 0.5, 0, 255).astype(np.uint8)


def register_all(uv: np.ndarray, mask: np.ndarray, weights: np.ndarray | None = None,
                 passes: int = PASSES) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Register a set of unwraps to their own reference, refining the reference `passes` times.

    uv [N,S,S,3] uint8, mask [N,S,S] uint8 -> (registered uv, registered mask, reference [S,S,3]);
    the reference is the weighted mean of the registered set (what `register` takes later)."""
    uv, mask = np.asarray(uv), np.asarray(mask)
    out_uv, out_mask = uv, mask
    for _ in range(passes):
        ref = reference_texture(out_uv, out_mask, weights)
        regs = [register(u, m, ref) for u, m in zip(uv, mask)]
        out_uv = np.stack([r.uv for r in regs])
        out_mask = np.stack([r.mask for r in regs])
    return out_uv, out_mask, reference_texture(out_uv, out_mask, weights)


def dataset_reference(uv: np.ndarray, mask: np.ndarray, quality: np.ndarray, synthetic: np.ndarray) -> np.ndarray:
    """The reference a registered dataset's real samples were registered to, [S,S,3] uint8 (the
    quality-weighted mean of their registered unwraps), for registering a later frame the same way."""
    real = ~np.asarray(synthetic, bool)
    return reference_texture(uv[real], mask[real], np.asarray(quality)[real])
