"""A small vectorised triangle rasteriser (numpy only) shared by the renderer and the unwrap.

All (triangle, pixel) candidates inside each triangle's bounding box are generated at once
with repeat/cumsum, tested with barycentric coordinates, and resolved with a z-buffer by
sorting on (pixel, depth): no per-pixel or per-triangle Python loop.
"""

from __future__ import annotations

import numpy as np


def rasterize(xy: np.ndarray, depth: np.ndarray, faces: np.ndarray, width: int, height: int,
              cull_backfaces: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Face id [H,W] int32 (-1 = empty), barycentrics [H,W,3] float32, depth [H,W] float32.

    xy: [V,2] pixel coordinates (pixel centres at integer + 0.5), depth: [V] (smaller = nearer),
    faces: [F,3]. With culling, triangles whose screen winding is clockwise in a y-down image
    (i.e. facing away for counter-clockwise model winding) are skipped.
    """
    xy = np.asarray(xy, np.float64)
    tri = xy[faces]  # [F,3,2]
    area = ((tri[:, 1, 0] - tri[:, 0, 0]) * (tri[:, 2, 1] - tri[:, 0, 1])
            - (tri[:, 2, 0] - tri[:, 0, 0]) * (tri[:, 1, 1] - tri[:, 0, 1]))  # [F] signed, y-down
    keep = (area < -1e-12) if cull_backfaces else (np.abs(area) > 1e-12)
    lo = np.floor(tri.min(1) - 0.5).astype(np.int64)
    hi = np.ceil(tri.max(1) - 0.5).astype(np.int64)
    lo = np.maximum(lo, 0)
    hi = np.minimum(hi, [width - 1, height - 1])
    keep &= np.all(hi >= lo, axis=1)
    fid = np.nonzero(keep)[0]
    out_id = np.full((height, width), -1, np.int32)
    out_bary = np.zeros((height, width, 3), np.float32)
    out_depth = np.full((height, width), np.inf, np.float32)
    if len(fid) == 0:
        return out_id, out_bary, out_depth
    lo, hi = lo[fid], hi[fid]
    bw, bh = hi[:, 0] - lo[:, 0] + 1, hi[:, 1] - lo[:, 1] + 1
    counts = bw * bh
    owner = np.repeat(np.arange(len(fid)), counts)  # [P]
    local = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    px = lo[owner, 0] + local % bw[owner]
    py = lo[owner, 1] + local // bw[owner]
    t = tri[fid][owner]  # [P,3,2]
    cx, cy = px + 0.5, py + 0.5
    a = area[fid][owner]
    w0 = ((t[:, 1, 0] - cx) * (t[:, 2, 1] - cy) - (t[:, 2, 0] - cx) * (t[:, 1, 1] - cy)) / a
    w1 = ((t[:, 2, 0] - cx) * (t[:, 0, 1] - cy) - (t[:, 0, 0] - cx) * (t[:, 2, 1] - cy)) / a
    w2 = 1.0 - w0 - w1
    inside = (w0 >= -1e-6) & (w1 >= -1e-6) & (w2 >= -1e-6)
    owner, px, py = owner[inside], px[inside], py[inside]
    bary = np.stack([w0[inside], w1[inside], w2[inside]], axis=1)
    z = np.einsum("pk,pk->p", bary, np.asarray(depth, np.float64)[faces[fid[owner]]])
    pix = py * width + px
    order = np.lexsort((z, pix))
    pix, first = pix[order], np.ones(len(order), bool)
    first[1:] = pix[1:] != pix[:-1]
    sel = order[first]
    flat = pix[first]
    out_id.reshape(-1)[flat] = fid[owner[sel]]
    out_bary.reshape(-1, 3)[flat] = bary[sel]
    out_depth.reshape(-1)[flat] = z[sel]
    return out_id, out_bary, out_depth
