"""Closing lids that read as skin with a lash line, not as her open eye's lash band stretched.

The face texture is cut from photos with the eyes open: the few texels just above each upper
lid's edge hold the lashes (dark hairs over her pale lid, or over the white of the eye). A blink
pulls that edge down over the eye and stretches those texels three or four times, so a closed
eye showed a comb of pale and dark streaks. As a lid closes, its edge's texture coordinates
slide up past the lash band into the lid's own skin, and the edge darkens to a lash line. How
far is read from the texture per eye: the row above the edge that looks most like even skin --
past a pale, uneven eyeshadow band too, which closed over the eye read as its white to the
landmark detector (a glasses frame just above the eye is not skin and is never crossed: there
the edge stays where it is).
"""

from __future__ import annotations

import numpy as np

from assets import expression
from assets.blend import smoothstep

from .colour import LUMA

SLIDES = np.linspace(0.0, 0.6, 13)  # candidate slides, of the eye's opening height in texture space
LASH_BAND = 0.15  # the open eye's lashes lie within this share of the opening above the edge
DARK_ROW = 0.35  # a row beyond the lashes darker than this share of skin is no lid (a glasses frame): never crossed
SPREAD_WEIGHT = 3.0  # an even row (skin) before a like-coloured uneven one (lashes over a pale lid, eyeshadow)
LASH_SHADE = 0.7  # vertex colour of a closed lid's edge: the lash line's shadow
CLOSING = (0.1, 0.6)  # blink codes over which the change eases in; an open eye keeps its lashes
BLINK = {side: expression.index(f"blink_{side}") for side in ("l", "r")}  # code index of each eye's blink


class ClosingLids:
    """Texture coordinates and colours of the upper lids' edges for a blink; `changes` per code."""

    def __init__(self, uvs: np.ndarray, vertices: np.ndarray, openings: dict[str, dict], texture: np.ndarray,
                 skin_rgb: np.ndarray):
        self.ids: dict[str, np.ndarray] = {}
        self.rest: dict[str, np.ndarray] = {}
        self.shift: dict[str, np.ndarray] = {}
        for side, eye in openings.items():
            ring = np.asarray(eye["ring"])
            pts = vertices[ring]
            a, b = pts[np.argmin(pts[:, 0])], pts[np.argmax(pts[:, 0])]  # the corners
            corner_y = a[1] + (pts[:, 0] - a[0]) / max(b[0] - a[0], 1e-9) * (b[1] - a[1])
            upper = ring[(pts[:, 1] > corner_y + 1e-4)]
            if len(upper) == 0:
                continue
            up = np.sign(np.polyfit(vertices[ring, 1], uvs[ring, 1], 1)[0]) or 1.0  # which way v runs up the face
            height = float(np.ptp(uvs[ring, 1]))
            self.ids[side] = upper
            self.rest[side] = uvs[upper].copy()
            self.shift[side] = _slide(texture, self.rest[side], np.array([0.0, up * height], np.float32), skin_rgb)
        self._level = {side: -1.0 for side in self.ids}

    def changes(self, code: np.ndarray) -> list[tuple[np.ndarray, np.ndarray, float]]:
        """(vertex ids, their uvs [K,2], their grey) of each upper lid edge whose look changes at
        `code` [E] since the last call; empty while the lids stay as they were."""
        out = []
        for side, ids in self.ids.items():
            b = float(code[BLINK[side]])
            t = float(np.clip((b - CLOSING[0]) / (CLOSING[1] - CLOSING[0]), 0, 1))
            s = float(smoothstep(t))
            if s != self._level[side]:
                self._level[side] = s
                out.append((ids, self.rest[side] + s * self.shift[side], 1.0 - s * (1.0 - LASH_SHADE)))
        return out


def _slide(texture: np.ndarray, edge: np.ndarray, opening: np.ndarray, skin_rgb: np.ndarray) -> np.ndarray:
    """The uv shift [2] that takes a lid's edge (`edge` uvs [K,2]) to the row above it that looks most
    like even skin, up to SLIDES x `opening` (the opening's height, pointing up the face), never across
    a row far darker than skin beyond the lash band. A pale lid (eyeshadow) above the lashes is not
    skin: closed over the eye it read as the white of an open eye."""
    skin_luma = float(skin_rgb @ LUMA)
    best, best_score = np.zeros(2, np.float32), np.inf
    for k in SLIDES:
        rgb = _row(texture, edge + k * opening)
        if k > LASH_BAND and float(rgb.mean(0) @ LUMA) < DARK_ROW * skin_luma:
            break
        score = float(np.linalg.norm(rgb.mean(0) - skin_rgb) + SPREAD_WEIGHT * rgb.std(0).mean())
        if score < best_score:
            best, best_score = (k * opening).astype(np.float32), score
    return best



def _row(texture: np.ndarray, uv: np.ndarray) -> np.ndarray:
    """RGB [N,3] (float) of the texels at `uv` [N,2]."""
    h, w = texture.shape[:2]
    x = np.clip((uv[:, 0] * (w - 1)).round().astype(int), 0, w - 1)
    y = np.clip(((1 - uv[:, 1]) * (h - 1)).round().astype(int), 0, h - 1)
    return texture[y, x, :3].astype(np.float64)
