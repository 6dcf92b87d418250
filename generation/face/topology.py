"""Face-mesh topology and the landmark indices the geometry code names.

mediapipe ships the tesselation only as an edge list; the triangles are its 3-cliques
minus the two "separating" triangles whose three edges each border three cliques. The
result is a disk with three holes (eyes, mouth) whose outer rim is the face oval.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from functools import lru_cache

import numpy as np

N_MESH = 468  # landmarks 0..467 are mesh vertices, 468..477 the irises

# Subject's left = image right = +x in the model frame. mediapipe "LEFT_*" is the subject's left.
EYE_L = dict(outer=263, inner=362, upper=(386, 385, 387), lower=(374, 380, 373), iris=473, iris_ring=(474, 475, 476, 477))
EYE_R = dict(outer=33, inner=133, upper=(159, 158, 160), lower=(145, 153, 144), iris=468, iris_ring=(469, 470, 471, 472))
BROW_L = (336, 296, 334, 293, 300)  # inner to outer
BROW_R = (107, 66, 105, 63, 70)
MOUTH_CORNER_L, MOUTH_CORNER_R = 291, 61
LIP_INNER_CORNER_L, LIP_INNER_CORNER_R = 308, 78
LIP_UPPER_OUTER, LIP_UPPER_INNER, LIP_LOWER_INNER, LIP_LOWER_OUTER = 0, 13, 14, 17
LIP_INNER_PAIRS = ((13, 14), (82, 87), (312, 317), (81, 178), (311, 402))  # upper, lower inner-lip points
CHEEK_L, CHEEK_R = (425, 280), (205, 50)
CHIN, NOSE_TIP, NOSE_BRIDGE, SUBNASALE, FOREHEAD = 152, 1, 168, 2, 10
# Points that move little with expression: the pose and the canonical frame are fitted on these.
RIGID = (10, 151, 9, 8, 168, 6, 197, 195, 5, 4, 1, 33, 133, 263, 362, 127, 356, 234, 454, 93, 323, 162, 389, 21, 251)


@lru_cache(maxsize=1)
def triangles() -> np.ndarray:
    """The face-mesh triangles [852,3] int32 (unoriented order; see head.py for winding)."""
    from .landmarks import tesselation_edges

    edges = {tuple(sorted(map(int, e))) for e in tesselation_edges()}
    adj = defaultdict(set)
    for a, b in edges:
        adj[a].add(b)
        adj[b].add(a)
    tris = {tuple(sorted((a, b, c))) for a, b in edges for c in adj[a] & adj[b]}
    count = Counter(e for t in tris for e in ((t[0], t[1]), (t[1], t[2]), (t[0], t[2])))
    keep = [t for t in tris if not all(count[e] == 3 for e in ((t[0], t[1]), (t[1], t[2]), (t[0], t[2])))]
    assert len(keep) == 852, f"unexpected face-mesh topology ({len(keep)} triangles); mediapipe changed?"
    return np.array(sorted(keep), dtype=np.int32)


def boundary_loops(faces: np.ndarray) -> list[np.ndarray]:
    """Ordered vertex loops of the boundary edges of a triangle list, longest first."""
    count = Counter(tuple(sorted(e)) for t in faces for e in ((t[0], t[1]), (t[1], t[2]), (t[2], t[0])))
    nxt = defaultdict(list)
    for (a, b), n in count.items():
        if n == 1:
            nxt[a].append(b)
            nxt[b].append(a)
    loops, seen = [], set()
    for start in list(nxt):
        if start in seen:
            continue
        loop, prev, cur = [start], None, start
        seen.add(start)
        while True:
            cand = [v for v in nxt[cur] if v != prev]
            if not cand or cand[0] == start:
                break
            prev, cur = cur, cand[0]
            if cur in seen:
                break
            loop.append(cur)
            seen.add(cur)
        loops.append(np.array(loop, dtype=np.int32))
    return sorted(loops, key=len, reverse=True)


@lru_cache(maxsize=1)
def named_loops() -> dict[str, np.ndarray]:
    """The four rims of the face mesh: 'oval' (36), 'eye_l', 'eye_r' (16 each), 'mouth' (20)."""
    loops = boundary_loops(triangles())
    out = {}
    for loop in loops:
        s = set(loop.tolist())
        if EYE_L["outer"] in s:
            out["eye_l"] = loop
        elif EYE_R["outer"] in s:
            out["eye_r"] = loop
        elif LIP_UPPER_INNER in s:
            out["mouth"] = loop
        elif CHIN in s:
            out["oval"] = loop
    assert set(out) == {"oval", "eye_l", "eye_r", "mouth"}, sorted(out)
    return out
