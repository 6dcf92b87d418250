"""Face-mesh topology and the landmark indices the geometry code names.

mediapipe ships the tesselation only as an edge list; the triangles are its 3-cliques
minus the two "separating" triangles whose three edges each border three cliques. The
result is a disk with three holes (eyes, mouth) whose outer rim is the face oval.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from functools import lru_cache

import numpy as np

from assets import landmarks as L



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
        if L.EYE_L["outer"] in s:
            out["eye_l"] = loop
        elif L.EYE_R["outer"] in s:
            out["eye_r"] = loop
        elif L.LIP_UPPER_INNER in s:
            out["mouth"] = loop
        elif L.CHIN in s:
            out["oval"] = loop
    assert set(out) == {"oval", "eye_l", "eye_r", "mouth"}, sorted(out)
    return out
