"""Smooth completion of never-seen face texels: a membrane (harmonic) fill over the head's surface.

Filling each unseen texel from its nearest seen texels (unwrap.complete_texture) extrudes the rim of
what the photo saw: the colour jumps wherever the nearest rim point changes, and those jumps are
straight bisector lines. Between the cheek and the ear, where a frontal photo sees the head only
at a grazing angle, that drew flat, straight-edged skin wedges. Here the unseen texels instead
solve Laplace's equation with the seen texels as boundary values: every unseen texel is the mean of
its neighbours, so colours change smoothly and nothing has an edge the photo did not have. The
neighbours are the texel grid's within a UV island plus links across the UV seams (texels of two
islands that lie on the same spot of the surface), so the fill runs round the head as one surface.
"""

from __future__ import annotations

import numpy as np

SEAM_TEXELS = 3  # texels farther apart than this in UV but touching in 3D are joined across a seam
SEAM_M = 0.004  # metres: two island-border texels this close on the surface are one spot of it
SCREEN = 1e-4  # pull towards the seen mean, so texels with no path to a seen one are still defined


def eye_height(head) -> float:
    """Height (metres, head axes) of the line through the neutral head's irises."""
    from assets import landmarks as L

    return float(head.vertices[head.landmark_vertices[[L.EYE_L["iris"], L.EYE_R["iris"]]], 1].mean())


def texel_positions(head, fid: np.ndarray, bary: np.ndarray) -> np.ndarray:
    """[S,S,3] point on the neutral head's surface of each texel (undefined where fid < 0)."""
    corners = head.vertices[head.faces[np.maximum(fid, 0)]]  # [S,S,3,3]
    return np.einsum("hwk,hwkc->hwc", bary, corners)


def texel_graph(head, fid: np.ndarray, bary: np.ndarray, nodes: np.ndarray) -> np.ndarray:
    """Undirected edges [K,2] (flat texel ids) between `nodes` [S,S] bool: grid neighbours, and each
    island-border texel joined to the nearest border texel of the other side of its UV seam."""
    from scipy.spatial import cKDTree

    s = fid.shape[0]
    idx = np.arange(s * s).reshape(s, s)
    edges = [np.stack([idx[:, :-1][nodes[:, :-1] & nodes[:, 1:]], idx[:, 1:][nodes[:, :-1] & nodes[:, 1:]]], 1),
             np.stack([idx[:-1][nodes[:-1] & nodes[1:]], idx[1:][nodes[:-1] & nodes[1:]]], 1)]
    pad = np.pad(nodes, 1)
    border = nodes & ~(pad[:-2, 1:-1] & pad[2:, 1:-1] & pad[1:-1, :-2] & pad[1:-1, 2:])
    ids = idx[border]
    if len(ids) > 1:
        pos = texel_positions(head, fid, bary).reshape(-1, 3)[ids]
        uv = np.stack(np.divmod(ids, s), 1).astype(np.float64)
        tree = cKDTree(pos)
        dist, nn = tree.query(pos, k=min(12, len(ids)))
        far = np.linalg.norm(uv[nn] - uv[:, None], axis=-1) > SEAM_TEXELS
        ok = far & (dist <= SEAM_M)
        first = np.where(ok.any(1), ok.argmax(1), -1)
        has = first >= 0
        edges.append(np.stack([ids[has], ids[nn[has, first[has]]]], 1))
    e = np.concatenate(edges)
    e = np.sort(e, 1)
    return np.unique(e, axis=0)


def harmonic_fill(img: np.ndarray, known: np.ndarray, todo: np.ndarray, head, fid: np.ndarray,
                  bary: np.ndarray) -> np.ndarray:
    """`img` [S,S,3] float with its `todo` texels replaced by the membrane through the `known` ones
    (texels in neither set take no part: e.g. the mouth pocket's own colour)."""
    import scipy.sparse as sp
    from scipy.sparse.linalg import splu

    s = img.shape[0]
    if not todo.any():
        return img
    if not known.any():
        out = img.copy()
        out[todo] = 128.0
        return out
    e = texel_graph(head, fid, bary, known | todo)
    flat_known, flat_todo = known.reshape(-1), todo.reshape(-1)
    unk = np.flatnonzero(flat_todo)
    pos = -np.ones(s * s, np.int64)
    pos[unk] = np.arange(len(unk))
    colours = img.reshape(-1, 3).astype(np.float64)
    mean = colours[flat_known].mean(0)
    # Each edge adds to the degree of its unknown ends; unknown-unknown edges join them, unknown-known
    # edges put the known colour on the right-hand side.
    both = np.concatenate([e, e[:, ::-1]])
    a, b = both[:, 0], both[:, 1]
    sel = flat_todo[a]
    a, b = a[sel], b[sel]
    deg = np.bincount(pos[a], minlength=len(unk)).astype(np.float64) + SCREEN
    uu = flat_todo[b]
    m = sp.csc_matrix((np.r_[deg, -np.ones(int(uu.sum()))],
                       (np.r_[np.arange(len(unk)), pos[a[uu]]], np.r_[np.arange(len(unk)), pos[b[uu]]])),
                      shape=(len(unk), len(unk)))
    rhs = np.zeros((len(unk), 3))
    kk = flat_known[b]
    np.add.at(rhs, pos[a[kk]], colours[b[kk]])
    rhs += SCREEN * mean
    solved = splu(m).solve(rhs)
    out = img.reshape(-1, 3).astype(np.float64).copy()
    out[unk] = solved
    return out.reshape(img.shape)
