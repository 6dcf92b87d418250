"""Closing lids that read as her lid with its lash line, not as her open eye's lashes stretched.

The face texture is cut from photos with the eyes open. Along each upper lid's edge lies her lash
line: a few dark texels over the edge (on a made-up eye, the liner and the lashes' roots) and, inside
the fitted lid ring, the lashes themselves (the eyes' lid band shows those at rest, in front of the
ball). A blink pulls the edge down over the eye; the head mesh's lid is one row of triangles fanned
from the edge up to the brow's row of vertices, and it stretches two to three times. So, from the
moment a lid starts to close:

- a surface of its own takes the lid's place (`LidSurface`: several rows, its own image of the lid);
  its edge slides up her texture past the lash line's dark texels (stretched, they drew a comb of dark
  streaks; where a fitted edge lies a little inside her photographed lid, they start a few texels
  over it) to the first texel of her lid's own skin, and her skin is evened along the lid (her
  lashes' strokes over it, stretched, drew vertical stripes): the lid shows her lid, eyeshadow and
  crease. (The slide used to run on past the crease to the skin under the brow, up to 0.6 of the
  opening -- past the next row of vertices: the lid showed the brow's, or a hat's, texels upside down.)
- her lash line goes down with the edge (`LashLine`): a strip hanging from the edge that carries
  the lid band's texels of the lash line, from its top above the edge to its foot inside the ring.
  Her frames at a half blink show just that: a dark line along the closing lid's edge.
The slide and the lash line are measured per edge vertex from the texture, on the column of texels
through it. The head mesh itself is not changed (stored subjects and the generator's UV data keep its
topology), and an open eye draws the head's own lid: the rest face is exactly as it was.
"""

from __future__ import annotations

import numpy as np

from assets import expression
from assets.blend import smoothstep
from scenes.geom import MeshGeom, to_panda
from scenes.panda_textures import set_texture_image

from .colour import LUMA
from .eyes import IRIS_RADIUS_M, matte

LASH_BAND = 0.15  # the lash line starts within this share of the opening above the edge
LASH_REACH = 0.6  # a dark run still going this far over the edge is no lash line (a glasses frame): not crossed
LASH_DARK = 0.6  # a texel darker than this share of the skin's luma is lash line (lashes, liner)
LASH_FOOT = 0.25  # of the iris radius: how far inside the ring the lashes reach at most (eyes.LID_RIM)
LASH_BRIGHTEST = 0.3  # of the skin's luma: the brightest texel the lash line that goes down with a lid shows
# and when it hangs over the eye (meta "lash_hang"): stretched over the slit, texels of 0.3 drew a dark grey band
# where her half-closed frames show black lashes (see eyes.HUNG_CLOSING_SHADE, chosen with it)
HUNG_LASH_BRIGHTEST = 0.25
LASH_LIFT_M = 0.0003  # the strip lies this far in front of the edge (over the lid, the ball and the band)
# Closing, her lashes turn down over the eye: the strip's foot goes down by the head's meta "lash_hang" (measured on
# her own blinking frames, generation.face.lashes; on the shared clip 0.33 of the open lids' gap) as a lid closes
# (`closing`), at each point of the lid that share of the gap there; and forward by LASH_FORWARD of it, as lashes
# stand out from the lid (over the lower lid). A head without blinking frames keeps the lash line's own foot.
LASH_FORWARD = 0.5
# Shut, they lie along the shut lid's line: no lower than the lower lid under them plus LASH_SHUT of the deepest hang,
# the same along the lid (as deep as the point's own hang towards the corners). Hung by each point's own share of the
# gap, a shut lid drew a thick black lens over the lower lid, where her shut frames show a thin dark line.
LASH_SHUT = 0.5
LASH_STEPS = 4  # the strip's columns per stretch of the lid's edge: its foot a smooth curve, not a polyline
CLOSING = (0.1, 0.6)  # blink codes over which the change eases in; an open eye keeps its lashes
LID_STEPS = 4  # the lid surface's columns per stretch of the lid's edge between two vertices
LID_ROWS = 8  # and its rows from the edge up to the brow's row of vertices
LID_IMAGE = (32, 128)  # texels (up the lid, along it) of the lid surface's own image
LID_SLIDE = 0.8  # of its height: how far up its image a shut lid's edge slides at most
LID_EVEN = 0.12  # of the lid's length: the window along it over which a closing lid's skin is evened
BALL_CLEAR_M = 0.0006  # a closing lid stays at least this far outside the eyeball
BLINK = {side: expression.index(f"blink_{side}") for side in ("l", "r")}  # code index of each eye's blink


class ClosingLids:
    """Per eye, the upper lid's edge (`ids`), how far up her texture a closing lid's edge slides past its
    lash line (`shift`, for its `LidSurface`), the lash line that hangs from the edge (`lash`) and how far her
    lashes hang below it when shut (`hang`: `hang` x the open lids' gap at each point, metres)."""

    def __init__(self, uvs: np.ndarray, vertices: np.ndarray, openings: dict[str, dict], texture: np.ndarray,
                 skin_rgb: np.ndarray, iris_radius: dict[str, float] | None = None, hang: float = 0.0):
        self.ids: dict[str, np.ndarray] = {}
        self.shift: dict[str, np.ndarray] = {}  # side: [2] uv shift of the edge when shut
        # side: (vertex ids [N] corner to corner along the upper lid, lash line's top and foot [N] in
        # metres above and below each, head y)
        self.lash: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self.hang: dict[str, np.ndarray] = {}  # side: [N] metres the lashes hang below each edge vertex when shut
        self.lower: dict[str, np.ndarray] = {}  # side: vertex ids of the rest of the lid ring (the lower lid, corners)
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
            # One slide for the whole edge: edge vertices sliding by different rows drew the lid's pale
            # band as stripes, one per triangle of the lid's fan.
            self.shift[side] = np.array([0.0, up * texel * float(np.median(top[1:-1]))], np.float32)
            rows_m = texel / per_metre
            # The strip reaches over the edge only as far as a lash line starts (a long dark run over a
            # fitted edge inside her photographed lid is her eye's top and the lid's shadow: a tall dark band)
            over = np.minimum(top, LASH_BAND * height / texel)
            self.lash[side] = (line, _smooth(over) * rows_m, _smooth(foot) * rows_m)
            self.lower[side] = ring[~above]
            self.hang[side] = hang * open_gap(vertices[line], vertices[self.lower[side]])


def open_gap(upper: np.ndarray, lower: np.ndarray) -> np.ndarray:
    """[N] metres (head y) from each point of an open upper lid `upper` [N,3] down to the lower lid under it
    (`lower` [M,3]: the rest of the lid ring, corners included), 0 past the lower lid's ends."""
    order = np.argsort(lower[:, 0])
    x, y = lower[order, 0], lower[order, 1]
    inside = (upper[:, 0] >= x[0]) & (upper[:, 0] <= x[-1])
    return np.where(inside, np.maximum(upper[:, 1] - np.interp(upper[:, 0], x, y), 0.0), 0.0)


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


def lash_texture(band: np.ndarray, skin_luma: float, hung: bool = False) -> np.ndarray:
    """The lid band's image `band` [S,S,3] uint8 with no texel brighter than a lash line (LASH_BRIGHTEST of
    the skin's luma, HUNG_LASH_BRIGHTEST when `hung`: the strip hangs over the eye), for the strip that goes
    down with a closing lid: where a fitted edge lies inside her photographed lid, the texels over it hold
    the iris's top and its catchlight, a bright speck on a closed lid; a drawn eye's white would be a pale line."""
    rgb = band.astype(np.float32)
    luma = rgb @ LUMA.astype(np.float32)
    brightest = HUNG_LASH_BRIGHTEST if hung else LASH_BRIGHTEST
    scale = np.minimum(1.0, brightest * skin_luma / np.maximum(luma, 1e-3))[..., None]
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
    the lid starts to close (CLOSING[0]): an open eye is exactly the band's. Closing, the foot goes down by
    `hang` [N] (metres under each edge vertex), no lower than the lower lid (`lower`: its vertex ids, corners
    included) plus LASH_SHUT of the deepest hang. The strip has LASH_STEPS columns per stretch of the edge: its
    top row on the edge's own polyline (it lies on the lid), its foot a curve through the vertices' feet."""

    def __init__(self, name: str, vertices: np.ndarray, line: np.ndarray, top: np.ndarray, foot: np.ndarray,
                 centre: np.ndarray, band_half: float, image: np.ndarray, hang: np.ndarray | None = None,
                 lower: np.ndarray | None = None):
        self.ids = np.asarray(line)
        n = len(self.ids)
        self._lower = None if lower is None else np.asarray(lower)
        self._foot = np.asarray(foot, np.float64)
        lift = np.full(n, LASH_LIFT_M)
        # head-coordinate offsets from each edge vertex: the top leans forward with the lid above the edge
        self._off = to_panda(np.concatenate([np.stack([np.zeros(n), top, lift + top], 1),
                                             np.stack([np.zeros(n), -foot, lift], 1)]))
        # and what a shut lid adds to the foot's: her lashes turned down (and out) past the lash line's foot
        self._hang = np.zeros(n) if hang is None else np.asarray(hang, np.float64)
        deepest = float(self._hang.max(initial=0.0))
        self._shut = LASH_SHUT * np.minimum(deepest, 2.0 * self._hang)  # metres they may lie below the lower lid
        self._line = _spline_weights(n, LASH_STEPS, linear=True)  # [M,N] the top row: on the edge
        self._curve = _spline_weights(n, LASH_STEPS)  # the foot row: a smooth curve through the vertices' feet
        xy = vertices[self.ids, :2] - centre
        xy = np.concatenate([self._line @ (xy + np.c_[np.zeros(n), top]),
                             self._curve @ (xy - np.c_[np.zeros(n), foot])])
        uvs = (0.5 + xy / (2 * band_half)).astype(np.float32)
        m = len(self._line)
        a, b = np.arange(m - 1), np.arange(1, m)
        faces = np.concatenate([np.stack([a, m + a, m + b], 1), np.stack([a, m + b, b], 1)]).astype(np.int32)
        self.geom = MeshGeom(name, self._rows(to_panda(vertices[self.ids]), 0.0), faces, uvs=uvs, dynamic=True)
        self.node = matte(self.geom, image, name)  # lashes do not shine
        self.node.hide()

    def drop(self, edge: np.ndarray, lower: np.ndarray | None, blink: float) -> np.ndarray:
        """[N] metres her lashes go down past the lash line's own foot at `blink`, the edge at `edge` [N,3] and the
        lower lid at `lower` [K,3] (Panda coords; None: not capped)."""
        drop = closing(blink) * np.maximum(self._hang - self._foot, 0.0)
        if lower is not None:  # the foot no lower than the lower lid under each point, plus what lies over it shut
            now = open_gap(edge[:, [0, 2, 1]], lower[:, [0, 2, 1]])  # (head x, y: Panda x, z)
            drop = np.minimum(drop, np.maximum(now + self._shut - self._foot, 0.0))
        return drop

    def _rows(self, edge: np.ndarray, blink: float, lower: np.ndarray | None = None) -> np.ndarray:
        """[2M,3] the strip's top row then its foot row (Panda coords) for the edge at `edge` [N,3]."""
        n = len(self.ids)
        drop = self.drop(edge, lower, blink) if blink > 0 else np.zeros(n)
        down = to_panda(np.stack([np.zeros(n), -drop, LASH_FORWARD * drop], 1))
        return np.concatenate([self._line @ (edge + self._off[:n]), self._curve @ (edge + self._off[n:] + down)])

    def update(self, vertices: np.ndarray, normals: np.ndarray, blink: float) -> None:
        """Follow the lid's edge (`vertices`, `normals` [V,3]: the head's, Panda coords) at `blink`."""
        if closing(blink) <= 0.0:
            self.node.hide()
            return
        self.node.show()
        lower = None if self._lower is None else vertices[self._lower]
        n = normals[self.ids]
        n = np.concatenate([self._line @ n, self._curve @ n])
        n /= np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-12)
        self.geom.update_vertices(self._rows(vertices[self.ids], blink, lower), n)


def _spline_weights(n: int, steps: int, linear: bool = False) -> np.ndarray:
    """[(n-1)*steps+1, n] weights that give `steps` points per stretch between n points along a line, from the
    first point to the last: on the straight stretches (`linear`) or on a curve through them (Catmull-Rom; the
    ends continued straight)."""
    t = np.arange(steps) / steps
    if linear:
        w = np.stack([np.zeros_like(t), 1 - t, t, np.zeros_like(t)], 1)
    else:
        w = 0.5 * np.stack([-t + 2 * t**2 - t**3, 2 - 5 * t**2 + 3 * t**3, t + 4 * t**2 - 3 * t**3, -t**2 + t**3], 1)
    ext = np.zeros((n + 2, n))  # the points with one more at each end, continuing the line straight on
    ext[1:-1] = np.eye(n)
    ext[0, :2], ext[-1, -2:] = (2.0, -1.0), (-1.0, 2.0)
    return np.concatenate([w @ ext[k:k + 4] for k in range(n - 1)] + [ext[n:n + 1]])


def _row(texture: np.ndarray, uv: np.ndarray) -> np.ndarray:
    """RGB [N,3] (float) of the texels at `uv` [N,2]."""
    h, w = texture.shape[:2]
    x = np.clip((uv[:, 0] * (w - 1)).round().astype(int), 0, w - 1)
    y = np.clip(((1 - uv[:, 1]) * (h - 1)).round().astype(int), 0, h - 1)
    return texture[y, x, :3].astype(np.float64)


def lid_top(faces: np.ndarray, line: np.ndarray) -> np.ndarray | None:
    """Vertex ids [K] of the upper lid's top, from one corner `line[0]` to the other `line[-1]`: the border
    of the lid's faces [F,3] that is not its edge `line` [N]; None where that border is no such path."""
    edges = np.sort(np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]]), axis=1)
    border, count = np.unique(edges, axis=0, return_counts=True)
    on_edge = {(min(a, b), max(a, b)) for a, b in zip(line[:-1].tolist(), line[1:].tolist())}
    links: dict[int, list[int]] = {}
    for a, b in border[count == 1].tolist():
        if (a, b) not in on_edge:
            links.setdefault(a, []).append(b)
            links.setdefault(b, []).append(a)
    path = [int(line[0])]
    while path[-1] != int(line[-1]):
        ahead = [v for v in links.get(path[-1], []) if v not in path]
        if len(ahead) != 1 or len(path) > len(links):
            return None
        path.append(ahead[0])
    return np.array(path) if len(path) > 2 else None


def _along(points: np.ndarray) -> np.ndarray:
    """[N] each point's share of the way along the polyline `points` [N,2]."""
    run = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(points, axis=0), axis=1))])
    return run / max(float(run[-1]), 1e-12)


def _at(points: np.ndarray, share: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """[M,2] the points `wanted` [M] of the way along the polyline `points` [N,2] (`share` [N]: _along's)."""
    return np.stack([np.interp(wanted, share, points[:, k]) for k in range(2)], 1)


def _locate(points: np.ndarray, corners: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(triangle [P], barycentric weights [P,3]) of each point [P,2] in the triangles `corners` [F,3,2] that
    holds it (or, just outside them all, the nearest, weights clipped)."""
    a, b, c = corners[:, 0], corners[:, 1], corners[:, 2]  # [F,2]
    e1, e2 = b - a, c - a
    det = e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0]
    det = np.where(np.abs(det) < 1e-15, 1e-15, det)
    d = points[:, None] - a[None]  # [P,F,2]
    w1 = (d[..., 0] * e2[None, :, 1] - d[..., 1] * e2[None, :, 0]) / det
    w2 = (e1[None, :, 0] * d[..., 1] - e1[None, :, 1] * d[..., 0]) / det
    w = np.stack([1 - w1 - w2, w1, w2], -1)  # [P,F,3]
    best = np.argmax(w.min(-1), axis=1)
    weights = np.clip(w[np.arange(len(points)), best], 0.0, None)
    return best, weights / weights.sum(1, keepdims=True)


def _zip(low: np.ndarray, low_at: np.ndarray, high: np.ndarray, high_at: np.ndarray) -> np.ndarray:
    """Triangles [K,3] joining two rows of vertex ids, `low` [A] and `high` [B], each from one end to the
    other at shares `low_at` [A] and `high_at` [B] of the way along."""
    out, i, j = [], 0, 0
    while i < len(low) - 1 or j < len(high) - 1:
        if j == len(high) - 1 or (i < len(low) - 1 and low_at[i + 1] <= high_at[j + 1]):
            out.append((low[i], low[i + 1], high[j]))
            i += 1
        else:
            out.append((low[i], high[j + 1], high[j]))
            j += 1
    return np.array(out, np.int64).reshape(-1, 3)


def _sample(texture: np.ndarray, uv: np.ndarray) -> np.ndarray:
    """RGB [...,3] float of `texture` [H,W,3] at `uv` [...,2] (bilinear; v up from the bottom row)."""
    from scipy.ndimage import map_coordinates

    h, w = texture.shape[:2]
    rows, cols = (1 - uv[..., 1]) * (h - 1), uv[..., 0] * (w - 1)
    return np.stack([map_coordinates(texture[..., k].astype(np.float32), [rows, cols], order=1, mode="nearest")
                     for k in range(3)], -1)


class LidSurface:
    """An upper lid of its own, finer than the head's: in the head mesh the closing lid is one row of
    triangles fanned between its edge and the brow's row of vertices ~6 mm up; a blink stretches it two
    to three times, and each triangle of the fan drew her few texels of eyeshadow as its own slanted
    stripe. This surface covers the same faces (`faces` [F,3], the head's `uvs` [V,2]) with a grid of
    LID_ROWS rows along the edge `line` [N] (corner to corner) and its top (`lid_top`), every border
    vertex a column: shown in their place while the lid closes (the rig hides them), it follows the
    head's vertices as they move, keeps clear of the eyeball (`ball`: centre [3] in the vertices' frame,
    radius) and shows its own image of the lid (cut from `face`, the face texture [H,W,3]; `set_face`):
    as photographed when it starts to close, slid up past the lash line (`slide`: texture v,
    ClosingLids.shift) and evened along the lid when shut, the smooth skin of her closing lid instead of
    her open eye's lashes and eyeshadow stretched into stripes. None of it is drawn at rest: the open eye
    is the head's own."""

    def __init__(self, name: str, uvs: np.ndarray, faces: np.ndarray, line: np.ndarray, top: np.ndarray,
                 slide: float, ball: tuple[np.ndarray, float], face: np.ndarray):
        edge_uv, top_uv = uvs[line], uvs[top]
        edge_at, top_at = _along(edge_uv), _along(top_uv)
        spots = np.union1d(edge_at, top_at)
        steps = np.linspace(0.0, 1.0, LID_STEPS * (len(line) - 1) + 1)
        self.along = np.union1d(spots, steps)  # [C] every border vertex is a column: no crack at the seams
        up = np.linspace(0.0, 1.0, LID_ROWS + 1)  # [R]
        self._ends = (_at(edge_uv, edge_at, self.along), _at(top_uv, top_at, self.along))  # [C,2] each
        grid = self._uv(self.along, up)  # [C,R,2] in the face texture
        cols, rows = len(self.along), len(up)
        # Only the faces between the edge and the top carry it: a face from the edge to the iris's top vertex
        # (the fit puts it just over the edge on some lids) lies under them, ~5 mm back on the ball, and
        # points placed on it dented the lid.
        faces = faces[np.isin(faces, np.concatenate([line, top])).all(axis=1)]
        tri, weights = _locate(grid.reshape(-1, 2), uvs[faces])
        middle = float(np.interp(0.5, top_at, top_uv[:, 1]) - np.interp(0.5, edge_at, edge_uv[:, 1]))
        # of the lid's height; its top rows (her crease, the brow's skin) stay
        self.slide = float(np.clip(slide / middle, 0.0, LID_SLIDE)) if abs(middle) > 1e-9 else 0.0
        self.ball = ball
        ids = np.arange(cols * rows).reshape(cols, rows)
        a, b, c, d = ids[:-1, :-2], ids[1:, :-2], ids[1:, 1:-1], ids[:-1, 1:-1]
        quads = np.concatenate([np.stack([a, b, c], -1).reshape(-1, 3), np.stack([a, c, d], -1).reshape(-1, 3)])
        # The top row has the top's own vertices only: the brow's faces meet it there, and grid columns
        # ending mid-edge on them left pixel cracks along the seam (specks of the head's dark inside).
        tops = np.isin(self.along, top_at)
        seam = _zip(ids[:, -2], self.along, ids[tops, -1], self.along[tops])
        self._corners, self._weights = faces[tri], weights  # [P,3] head vertices carrying each point, [P,3]
        self._along = np.repeat(self.along, rows)  # [P] each point's share of the way along the lid
        self._up = np.tile(up, cols)  # [P] and up it
        self.geom = MeshGeom(name, np.zeros((len(self._up), 3)), np.concatenate([quads, seam]).astype(np.int32),
                             uvs=self._image_uvs(0.0), dynamic=True)
        self.level = 0.0
        self.node = matte(self.geom, np.zeros((*LID_IMAGE, 3), np.uint8), name)
        self.node.hide()
        self.set_face(face)

    def _uv(self, along: np.ndarray, up: np.ndarray) -> np.ndarray:
        """[C,R,2] face-texture uv of the lid's points `along` [C] its length and `up` [R] its height."""
        edge, top = (np.stack([np.interp(along, self.along, end[:, k]) for k in range(2)], 1) for end in self._ends)
        return edge[:, None] + up[None, :, None] * (top - edge)[:, None]

    def _image_uvs(self, level: float) -> np.ndarray:
        """[P,2] uvs in the lid's image at closing `level` (0..1): shut, the edge shows the first texels of
        her lid over the lash line (which goes down as the LashLine strip) and the rows above close up
        over the rest up to the brow's row, which shows its own."""
        shown = self._up + level * self.slide * (1.0 - self._up)
        rows, cols = LID_IMAGE
        u = (self._along * (cols - 1) + 0.5) / cols
        return np.stack([u, (shown * (rows - 1) + 0.5) / rows], 1).astype(np.float32)

    def set_face(self, face: np.ndarray) -> None:
        """Cut the lid's image from the face texture `face` [H,W,3] as shown (lit or delit)."""
        from scipy.ndimage import median_filter, uniform_filter1d

        rows, cols = LID_IMAGE
        grid = self._uv(np.linspace(0.0, 1.0, cols), np.linspace(1.0, 0.0, rows))  # [cols,rows,2], row 0 the top
        self._raw = _sample(face, grid).transpose(1, 0, 2)  # [rows,cols,3]
        # Evened along the lid, as a lid stretched over the eye shows its skin: a median (her lashes' dark
        # strokes over the lid's skin go, her crease's line across it stays), then a mean (the median's
        # flat runs ended in steps: light and dark blocks side by side).
        window = max(3, int(LID_EVEN * cols) | 1)
        even = median_filter(self._raw, size=(1, window, 1), mode="nearest")
        self._even = uniform_filter1d(even, window, axis=1, mode="nearest")
        if self.level > 0.0:
            self._show(self.level)

    def _show(self, level: float) -> None:
        """The lid's image and uvs at closing `level`: as photographed at 0, evened and slid at 1."""
        image = (1.0 - level) * self._raw + level * self._even
        set_texture_image(self.node.get_texture(), image.round().clip(0, 255).astype(np.uint8))
        self.geom.data[:, 6:8] = self._image_uvs(level)

    def update(self, vertices: np.ndarray, normals: np.ndarray, level: float) -> None:
        """Follow the head's `vertices` and `normals` [V,3] (Panda coords, the ball's frame) at closing
        `level` (`closing(blink)`)."""
        if level <= 0.0:
            self.level = 0.0
            self.node.hide()
            return
        if level != self.level:
            self.level = level
            self._show(level)
        self.node.show()
        points = np.einsum("pk,pkd->pd", self._weights, vertices[self._corners])
        n = np.einsum("pk,pkd->pd", self._weights, normals[self._corners])
        n /= np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-12)
        centre, radius = self.ball
        out = points - centre
        far = np.linalg.norm(out, axis=1, keepdims=True)
        points = centre + out * np.maximum(1.0, (radius + BALL_CLEAR_M) / np.maximum(far, 1e-12))
        self.geom.update_vertices(points, n)
