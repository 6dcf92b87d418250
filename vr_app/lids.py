"""Closing lids that read as her lid with its lash line, not as her open eye's lashes stretched.

The face texture is cut from photos with the eyes open. Along each upper lid's edge lies her lash
line: a few dark texels over the edge (on a made-up eye, the liner and the lashes' roots) and, inside
the fitted lid ring, the lashes themselves (the eyes' lid band shows those at rest, in front of the
ball). A blink pulls the edge down over the eye; the lid's one row of triangles, from the edge up to
the brow's row of vertices, stretches two to three times. So:

- the edge's texture coordinates slide up past the lash line's dark texels (stretched, they drew a
  comb of dark streaks; where a fitted edge lies a little inside her photographed lid, they start a
  few texels over it) to the first texel of her lid's own skin: the lid shows her lid as
  photographed, eyeshadow and crease, stretched. (The slide used to run on past the crease to the
  skin under the brow, up to 0.6 of the opening -- past the next row of vertices: the lid showed the
  brow's, or a hat's, texels upside down.)
- her lash line goes down with the edge (`LashLine`): a strip hanging from the edge that carries
  the lid band's texels of the lash line, from its top above the edge to its foot inside the ring.
  Her frames at a half blink show just that: a dark line along the closing lid's edge.
Both are measured per edge vertex from the texture, on the column of texels through it.
"""

from __future__ import annotations

import numpy as np

from assets import expression
from assets.blend import smoothstep
from scenes.geom import MeshGeom, to_panda

from .colour import LUMA
from .eyes import IRIS_RADIUS_M, matte

LASH_BAND = 0.15  # the lash line starts within this share of the opening above the edge
LASH_REACH = 0.6  # a dark run still going this far over the edge is no lash line (a glasses frame): not crossed
LASH_DARK = 0.6  # a texel darker than this share of the skin's luma is lash line (lashes, liner)
LASH_FOOT = 0.25  # of the iris radius: how far inside the ring the lashes reach at most (eyes.LID_RIM)
LASH_BRIGHTEST = 0.3  # of the skin's luma: the brightest texel the lash line that goes down with a lid shows
LASH_LIFT_M = 0.0003  # the strip lies this far in front of the edge (over the lid, the ball and the band)
CLOSING = (0.1, 0.6)  # blink codes over which the change eases in; an open eye keeps its lashes
BLINK = {side: expression.index(f"blink_{side}") for side in ("l", "r")}  # code index of each eye's blink


class ClosingLids:
    """Texture coordinates of the upper lids' edges for a blink (`changes` per code), and per eye the
    lash line that hangs from each edge (`lash`)."""

    def __init__(self, uvs: np.ndarray, vertices: np.ndarray, openings: dict[str, dict], texture: np.ndarray,
                 skin_rgb: np.ndarray, iris_radius: dict[str, float] | None = None):
        self.ids: dict[str, np.ndarray] = {}
        self.rest: dict[str, np.ndarray] = {}
        self.shift: dict[str, np.ndarray] = {}  # side: [2] uv shift of the edge when shut
        # side: (vertex ids [N] corner to corner along the upper lid, lash line's top and foot [N] in
        # metres above and below each, head y)
        self.lash: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self.skin_luma = skin_luma = float(np.asarray(skin_rgb, np.float64) @ LUMA)
        for side, eye in openings.items():
            ring = np.asarray(eye["ring"])
            pts = vertices[ring]
            a, b = np.argmin(pts[:, 0]), np.argmax(pts[:, 0])  # the corners
            corner_y = pts[a, 1] + (pts[:, 0] - pts[a, 0]) / max(pts[b, 0] - pts[a, 0], 1e-9) * (pts[b, 1] - pts[a, 1])
            above = pts[:, 1] > corner_y + 1e-4
            upper = ring[above]
            if len(upper) == 0:
                continue
            up = np.sign(np.polyfit(vertices[ring, 1], uvs[ring, 1], 1)[0]) or 1.0  # which way v runs up the face
            height = float(np.ptp(uvs[ring, 1]))
            per_metre = height / max(float(np.ptp(pts[:, 1])), 1e-9)  # texture v per metre of head y
            texel = 1.0 / (texture.shape[0] - 1)
            foot_m = LASH_FOOT * (iris_radius or {}).get(side, IRIS_RADIUS_M)
            line = np.concatenate([[ring[a]], upper[np.argsort(vertices[upper, 0])], [ring[b]]])
            top, foot = lash_rows(texture, uvs[line], up * texel, skin_luma, LASH_BAND * height / texel,
                                  LASH_REACH * height / texel, foot_m * per_metre / texel)
            self.ids[side] = upper
            self.rest[side] = uvs[upper].copy()
            # One slide for the whole edge: edge vertices sliding by different rows drew the lid's pale
            # band as stripes, one per triangle of the lid's fan.
            self.shift[side] = np.array([0.0, up * texel * float(np.median(top[1:-1]))], np.float32)
            rows_m = texel / per_metre
            # The strip reaches over the edge only as far as a lash line starts (a long dark run over a
            # fitted edge inside her photographed lid is her eye's top and the lid's shadow: a tall dark band)
            over = np.minimum(top, LASH_BAND * height / texel)
            self.lash[side] = (line, _smooth(over) * rows_m, _smooth(foot) * rows_m)
        self._level = {side: -1.0 for side in self.ids}

    def changes(self, code: np.ndarray) -> list[tuple[np.ndarray, np.ndarray, float]]:
        """(vertex ids, their uvs [K,2], their grey) of each upper lid edge whose look changes at
        `code` [E] since the last call; empty while the lids stay as they were."""
        out = []
        for side, ids in self.ids.items():
            s = closing(float(code[BLINK[side]]))
            if s != self._level[side]:
                self._level[side] = s
                out.append((ids, self.rest[side] + s * self.shift[side], 1.0))
        return out


def closing(blink: float) -> float:
    """How far (0..1) a lid at `blink` has changed from the open eye's look."""
    return float(smoothstep(float(np.clip((blink - CLOSING[0]) / (CLOSING[1] - CLOSING[0]), 0, 1))))


def lash_rows(texture: np.ndarray, uv: np.ndarray, step: float, skin_luma: float, start_up: float, most_up: float,
              most_down: float) -> tuple[np.ndarray, np.ndarray]:
    """([N], [N]) texels of lash line above and below the points `uv` [N,2] on a lid's edge, on the column
    through each point; a texel of lash line is darker than LASH_DARK of the skin's luma.

    Above: the run of dark texels that starts within `start_up` texels over the edge (a fitted edge may
    lie a little inside her photographed lid: then her lashes, and the iris's top under them, lie just
    above it), going up the face (`step`: v of one texel up); its end is where her lid's skin starts.
    A run still dark `most_up` texels up is no lash line (a glasses frame): none there. Below: the run
    that starts at the edge, into the opening, at most `most_down` texels."""
    def dark(k: int) -> np.ndarray:
        return _row(texture, uv + k * np.array([0.0, step])) @ LUMA < LASH_DARK * skin_luma

    top = np.zeros(len(uv))
    started = np.zeros(len(uv), bool)
    going = np.ones(len(uv), bool)
    for k in range(0, int(np.floor(most_up)) + 1):
        d = dark(k)
        started |= d & (k <= start_up)
        going &= d | ~started  # a gap before the run starts; the run ends at its first light texel
        top = np.where(started & going, k + 1.0, top)
    top[started & going] = 0.0  # dark all the way up: a frame, not lashes
    down = np.zeros(len(uv))
    going = dark(0)
    for k in range(1, int(np.floor(most_down)) + 1):
        going &= dark(-k)
        down += going
    return top, np.where(dark(0), down + 1.0, 0.0)


def lash_texture(band: np.ndarray, skin_luma: float) -> np.ndarray:
    """The lid band's image `band` [S,S,3] uint8 with no texel brighter than a lash line (LASH_BRIGHTEST of
    the skin's luma), for the strip that goes down with a closing lid: where a fitted edge lies inside her
    photographed lid, the texels over it hold the iris's top and its catchlight, a bright speck on a
    closed lid; a drawn eye's white would be a pale line."""
    rgb = band.astype(np.float32)
    luma = rgb @ LUMA.astype(np.float32)
    scale = np.minimum(1.0, LASH_BRIGHTEST * skin_luma / np.maximum(luma, 1e-3))[..., None]
    dark = rgb * scale
    grey = (dark @ LUMA.astype(np.float32))[..., None]
    # as much less coloured as darkened: skin brought down to a lash line's luma read as a red-brown line
    return (grey + (dark - grey) * scale).round().clip(0, 255).astype(np.uint8)


def _smooth(x: np.ndarray) -> np.ndarray:
    """x [N] along a lid, each value averaged with its neighbours' (1, 2, 1): a strip whose height
    jumped from one vertex to the next drew a zigzag at the corners."""
    padded = np.concatenate([x[:1], x, x[-1:]])
    return 0.25 * padded[:-2] + 0.5 * padded[1:-1] + 0.25 * padded[2:]


class LashLine:
    """Her lash line on a strip hanging from a closing upper lid's edge (`ClosingLids.lash`), textured
    from the eye's lid band (`image`: `lash_texture` of the photo front-on over `band_half` about the
    iris `centre` (head x, y)): at rest it lies on the band's own lash line, and it is only drawn once
    the lid starts to close (CLOSING[0]): an open eye is exactly the band's."""

    def __init__(self, name: str, vertices: np.ndarray, line: np.ndarray, top: np.ndarray, foot: np.ndarray,
                 centre: np.ndarray, band_half: float, image: np.ndarray):
        self.ids = np.asarray(line)
        n = len(self.ids)
        lift = np.full(n, LASH_LIFT_M)
        # head-coordinate offsets from each edge vertex: the top leans forward with the lid above the edge
        self._off = to_panda(np.concatenate([np.stack([np.zeros(n), top, lift + top], 1),
                                             np.stack([np.zeros(n), -foot, lift], 1)]))
        xy = vertices[self.ids, :2] - centre
        xy = np.concatenate([xy + np.c_[np.zeros(n), top], xy - np.c_[np.zeros(n), foot]])
        uvs = (0.5 + xy / (2 * band_half)).astype(np.float32)
        a, b = np.arange(n - 1), np.arange(1, n)
        faces = np.concatenate([np.stack([a, n + a, n + b], 1), np.stack([a, n + b, b], 1)]).astype(np.int32)
        start = to_panda(vertices[self.ids])
        self.geom = MeshGeom(name, np.concatenate([start, start]) + self._off, faces, uvs=uvs, dynamic=True)
        self.node = matte(self.geom, image, name)  # lashes do not shine
        self.node.hide()

    def update(self, vertices: np.ndarray, normals: np.ndarray, blink: float) -> None:
        """Follow the lid's edge (`vertices`, `normals` [V,3]: the head's, Panda coords) at `blink`."""
        if closing(blink) <= 0.0:
            self.node.hide()
            return
        self.node.show()
        edge = vertices[self.ids]
        n = normals[self.ids]
        self.geom.update_vertices(np.concatenate([edge, edge]) + self._off, np.concatenate([n, n]))


def _row(texture: np.ndarray, uv: np.ndarray) -> np.ndarray:
    """RGB [N,3] (float) of the texels at `uv` [N,2]."""
    h, w = texture.shape[:2]
    x = np.clip((uv[:, 0] * (w - 1)).round().astype(int), 0, w - 1)
    y = np.clip(((1 - uv[:, 1]) * (h - 1)).round().astype(int), 0, h - 1)
    return texture[y, x, :3].astype(np.float64)
