"""Where a texture's held-out error lives: per face region in UV, against the frames' own noise.

A generator conditioned on the expression code can only gain where her real frames are more
predictable than it already predicts them. Two cheap rulers say where that is: the frames' own
frame-to-frame noise (what no predictor of a single frame can remove), and the error split over the
face's regions (a linear code basis may blur the mouth's interior or the eyes while the skin is fine).
"""

from __future__ import annotations

import numpy as np

REGIONS = ("mouth", "eyes", "brows", "cheeks", "rest")
# face-mesh landmark ids of each region (the lips, eye rims and brows as mediapipe's own contours
# list them, the irises, and the cheek surface between the nose, the mouth's corners and the jaw);
# a texel belongs to the region of its nearest landmark in UV, "rest" when that landmark is in none
_GROUPS = {
    "mouth": (0, 13, 14, 17, 37, 39, 40, 61, 78, 80, 81, 82, 84, 87, 88, 91, 95, 146, 178, 181, 185, 191, 267, 269,
              270, 291, 308, 310, 311, 312, 314, 317, 318, 321, 324, 375, 402, 405, 409, 415),
    "eyes": (7, 33, 133, 144, 145, 153, 154, 155, 157, 158, 159, 160, 161, 163, 173, 246, 249, 263, 362, 373, 374,
             380, 381, 382, 384, 385, 386, 387, 388, 390, 398, 466, *range(468, 478)),
    "brows": (46, 52, 53, 55, 63, 65, 66, 70, 105, 107, 276, 282, 283, 285, 293, 295, 296, 300, 334, 336),
    "cheeks": (36, 50, 101, 117, 118, 123, 142, 147, 187, 192, 203, 205, 206, 207, 212, 213, 214, 216,
               266, 280, 330, 346, 347, 352, 371, 376, 411, 416, 423, 425, 426, 427, 432, 433, 434, 436),
}
MIN_TEXELS = 20  # a frame counts in a region's figure only when it saw at least this many of its texels


def region_map(uvs: np.ndarray, landmark_vertices: np.ndarray, side: int) -> np.ndarray:
    """uvs [V,2] in 0..1 (origin bottom-left), landmark_vertices [478] -> [side,side] int8: the index in
    REGIONS of each texel (texel rows run top-down, as the textures are stored)."""
    from scipy.spatial import cKDTree

    lm = uvs[landmark_vertices].astype(np.float64)  # [478,2]
    pts = np.stack([lm[:, 0] * side - 0.5, (1 - lm[:, 1]) * side - 0.5], 1)  # texel x, y
    yy, xx = np.mgrid[0:side, 0:side]
    near = cKDTree(pts).query(np.stack([xx.ravel(), yy.ravel()], 1))[1].reshape(side, side)
    label = np.full(len(lm), REGIONS.index("rest"), np.int8)
    for name, ids in _GROUPS.items():
        label[[i for i in ids if i < len(lm)]] = REGIONS.index(name)
    return label[near]


def _db(mse: float) -> float:
    return float("inf") if mse <= 0 else float(10 * np.log10(255.0 ** 2 / mse))


def _regions(regions: np.ndarray | None, shape: tuple) -> dict[str, np.ndarray]:
    """name -> [H,W] bool, "all" first."""
    out = {"all": np.ones(shape, bool)}
    if regions is not None:
        assert regions.shape == shape, (regions.shape, shape)
        out.update({n: regions == k for k, n in enumerate(REGIONS)})
    return out


def region_psnr(pred: np.ndarray, real: np.ndarray, masks: np.ndarray, regions: np.ndarray | None = None) -> dict:
    """pred, real [T,H,W,3] uint8, masks [T,H,W] bool, regions [H,W] (region_map) ->
    {name: (median PSNR dB over frames, share of the pooled squared error)}, "all" included."""
    assert pred.shape == real.shape and masks.shape == pred.shape[:3], (pred.shape, real.shape, masks.shape)
    err = ((pred.astype(np.float64) - real.astype(np.float64)) ** 2).mean(-1)  # [T,H,W]
    total = float(err[masks].sum()) or 1.0
    out = {}
    for name, reg in _regions(regions, pred.shape[1:3]).items():
        m = masks & reg[None]
        per = [_db(float(e[k].mean())) for e, k in zip(err, m) if k.sum() >= MIN_TEXELS]
        out[name] = (float(np.median(per)) if per else float("nan"), float(err[m].sum()) / total)
    return out


def noise_floor(frames: np.ndarray, masks: np.ndarray, times: np.ndarray | None = None,
                regions: np.ndarray | None = None) -> dict:
    """The frames' own noise as the PSNR a noise-free prediction of each frame would have:
    {name: median dB over frames}, "all" included.

    frames [T,H,W,3] uint8 in time order, masks [T,H,W] bool, times [T] s (triples whose two gaps
    differ are skipped: a missing frame in between). Per frame, sigma² = mean((x[t-1] - 2 x[t] +
    x[t+1])²) / 6 over the texels all three saw: exact for noise independent from frame to frame
    on any motion linear over the two gaps. Faster motion counts as noise, so the figure is a lower
    bound of the ceiling; noise shared by neighbouring frames (a codec holding a block) is not seen."""
    assert frames.ndim == 4 and masks.shape == frames.shape[:3], (frames.shape, masks.shape)
    x = frames.astype(np.float64)
    regs = _regions(regions, frames.shape[1:3])
    per: dict[str, list] = {n: [] for n in regs}
    for t in range(1, len(x) - 1):
        if times is not None and abs((times[t] - times[t - 1]) - (times[t + 1] - times[t])) > 1e-3:
            continue
        d2 = ((x[t - 1] - 2 * x[t] + x[t + 1]) ** 2).mean(-1) / 6  # [H,W]
        seen = masks[t - 1] & masks[t] & masks[t + 1]
        for n, reg in regs.items():
            m = seen & reg
            if m.sum() >= MIN_TEXELS:
                per[n].append(_db(float(d2[m].mean())))
    return {n: float(np.median(v)) if v else float("nan") for n, v in per.items()}


def edge_split(pred: np.ndarray, real: np.ndarray, masks: np.ndarray, px: int = 4) -> dict:
    """The error near the border of what each frame saw (within px texels: grazing, stretched texels
    and the silhouette, which depend on the exact pose and fit) against the error inside it.
    pred, real [T,H,W,3] uint8, masks [T,H,W] bool -> {"edge_db", "inside_db" (pooled over frames),
    "edge_texels" (share of the seen texels), "edge_error" (share of the squared error)}."""
    import cv2

    assert pred.shape == real.shape and masks.shape == pred.shape[:3], (pred.shape, real.shape, masks.shape)
    kernel = np.ones((2 * px + 1, 2 * px + 1), np.uint8)
    # outside the picture counts as unseen, so a texture's own border is an edge too
    inner = np.stack([cv2.erode(m.astype(np.uint8), kernel, borderType=cv2.BORDER_CONSTANT, borderValue=0) > 0
                      for m in masks])
    edge = masks & ~inner
    err = ((pred.astype(np.float64) - real.astype(np.float64)) ** 2).mean(-1)  # [T,H,W]
    total = float(err[masks].sum()) or 1.0
    mean = lambda m: float(err[m].mean()) if m.any() else float("nan")  # noqa: E731
    return {"edge_db": _db(mean(edge)), "inside_db": _db(mean(inner)),
            "edge_texels": float(edge.sum() / max(masks.sum(), 1)), "edge_error": float(err[edge].sum()) / total}
