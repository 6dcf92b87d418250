"""Eyeballs textured with the person's own eyes.

A procedural ball (white sclera, flat iris disc) reads as a doll's stare: the sclera of a real
eye in a photo is greyer than paper, shaded by the lids and lashes, and the iris is large and
textured. So each eyeball carries a small texture cut from the face texture's eye region, mapped
front-on (orthographically along the eye's axis, as the face texture was seen): at rest the
rendered eye is the photographed eye, and when the ball turns with the gaze the iris turns with
it. What the lids hid in the photo (the iris under the upper lid, the sclera in the corners) is
filled with the iris's and the sclera's own colours, so a glance never uncovers skin.

The lashes and the lid's wet rim lie inside the fitted lid ring: on the ball they would turn with the
gaze (a dark arc across the white), and the ball's own colours there drew the photo's black lash line as
a grey band (a doll's stare: the iris ringed by grey-white). So a narrow band along the lids (`lid_band`)
carries them, as photographed, just in front of the ball: it stays with the lids while the ball turns
under it, and at rest band and ball together are the photographed eye.

The highlight that makes an eye look moist comes from its surface on GL (the GLSL shader's eye
surface, on a ball tessellated finely over the cornea, where the highlight sits); the software
renderer's specular vanishes on a dark iris, so there a small bright disc stands where the
photographed catchlight was (`catchlight`).
"""

from __future__ import annotations

import numpy as np
from panda3d.core import Material, NodePath, SamplerState

from assets.blend import smoothstep
from assets.mesh import inside_polygon, polygon_distance
from scenes.bins import EYES, cull_bin
from scenes.geom import MeshGeom
from scenes.panda_textures import make_texture

from .colour import LUMA

EYE_TEXTURE = 64  # texels across the ball's front (an eye is ~60 texels wide in a 512 face texture)
IRIS_RADIUS_M = 0.0059  # an adult's visible iris, when the fit does not say
FRONT_RINGS, FRONT_DEG = 24, 60.0  # fine rings over the cornea and the visible white
BACK_RINGS, SEGMENTS = 8, 48
# A muted off-white for a sclera the photo did not show (eyes almost shut in every picture).
DEFAULT_SCLERA = np.array([205, 196, 186], np.float32)
DRAWN_IRIS, DRAWN_PUPIL = np.array([96, 66, 44], np.float32), np.array([16, 12, 10], np.float32)
# Of the iris radius: how far in from the lid the lid band reaches (and the ball, hidden under it,
# shows its own colours). On her face texture with the fitted ring drawn on it, the lashes reach up to
# ~1.5 mm into the opening along the upper lid (their wing, and over the iris's top); the lower lid's wet
# rim is narrower, and a wider band there would keep a fixed dark patch of the iris's foot as the gaze rose.
LID_RIM = 0.25
LOWER_RIM = 0.1
LID_BAND_TUCK_M = 0.0004  # the band reaches this far under the lids (no crack at the lid's edge)
LID_BAND_LIFT_M = 0.0002  # and lies this far in front of the ball
LID_BAND_TEXTURE = 128  # texels across the band's square (~0.25 mm each: a lash line is ~1 mm)
BAND_STEPS = 4  # points per lid ring edge along the band's inner edge
LID_SHADE = 0.3  # how much darker the ball is right at the lid
UPPER_LID_SHADE = 0.75  # right under the upper lid, in the lashes' shadow
UNDER_LID = 4.0  # of LID_RIM: how far under the lids their shade reaches (a glance down uncovers it)
# The ball's texture keeps the open eye's shade; a closing lid brings its shadow and lashes down over
# what is left of the ball, so the ball (and its socket) darken as the lid comes down over the iris,
# over CLOSING_DIMS of the blink (a slight blink in speech barely dims the eye), by CLOSING_SHADE when
# shut: a narrowed eye lit as brightly as an open one read as half open. Her training frames with blinks
# 0.3-0.95 show a black slit under the lid from ~0.45 on; the ball dimmed with the blink's square (0.78
# at 0.5) left a grey white there. Over (0.25, 0.75) the opening's mean luma in the room matches hers on
# those frames (0.27 / 0.30 of her cheek, L / R; with the square 0.29 / 0.32), and the room reads her
# blinks closer to her own readings (|room - hers| 0.080 / 0.134 -> 0.058 / 0.112).
CLOSING_SHADE = 0.9
CLOSING_DIMS = (0.25, 0.75)
# A head whose lashes hang over a closing eye (meta "lash_hang", vr_app.lids.LashLine) has the slit's dark drawn by
# them: the ball dimmed by CLOSING_SHADE as well left a dark grey slit where her half-closed frames show black lashes
# over her whites. On her training frames (clip, L / R) with blinks 0.3-0.6 the slit's brightest tenth reads 0.79 /
# 0.85 of her cheek, the room 0.70 / 0.72 with 0.9 and 0.81 / 0.84 with this and the hung lashes darker (lids.py
# HUNG_LASH_BRIGHTEST); the slit's mean at 0.6-0.85 0.18 / 0.16 (room 0.15 / 0.17 either way), shut 0.12 / 0.12
# (0.13 / 0.14 -> 0.12 / 0.13); the room's blink readings of those frames as before (within 0.005).
HUNG_CLOSING_SHADE = 0.6
IRIS_CONTRAST = 0.8  # a photographed iris is at most this bright against its sclera, or it is no iris
SOCKET_GROW = 0.15  # the socket card reaches this much (of the opening's size) past the lid ring
SOCKET_MARGIN_M = 0.001  # its texture's square reaches this far past the card
NASAL_REACH_M = 0.01  # and this much further towards the nose, inside the head
GLOSS = dict(specular=(0.55, 0.55, 0.55, 1), shininess=70.0)  # the software path's per-vertex sheen
# The software renderer modulates its specular by the texture and clamps its lighting at 1: on a dark
# iris the highlight was gone, and the eye read as a black disc. There a small bright disc on the
# cornea is the catchlight her real frames show (near white, above the pupil): it stays where the
# light's reflection is while the ball turns under it. The GL shader draws its own from the light.
CATCHLIGHT_RADIUS_M = 0.0007
CATCHLIGHT_DIR = np.array([0.10, 0.17])  # (x: the viewer's right, y: up) on the unit ball, when the photo has none
CATCHLIGHT_OVER_IRIS = 60.0  # 8-bit levels over the iris's median: a photographed catchlight
# A closing upper lid covers the catchlight above the pupil early, and the disc stands in front of the
# ball: from this blink on it is not drawn (a bright spot left on a closing eye read as an open one; a
# dimmed disc would draw a dark spot on the white).
CATCHLIGHT_GONE = 0.25
CATCHLIGHT_RGB = (0.96, 0.96, 0.96, 1.0)
# The eye's parts draw in their own bin (scenes.bins.EYES: they tie in depth, and the opaque bin's order
# followed the states' addresses, ~0.01 of identity), each before what it is meant to lie on.
EYE_ORDER = {"catchlight": 0, "band": 2, "ball": 4, "socket": 6}  # + 0/1 for the eye: no two parts share a value


def ball_mesh(radius: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(vertices [V,3] Panda coords, faces [F,3], uvs [V,2]) of a sphere looking down -Y, with rings
    of constant angle from its front pole: dense where the lids open, coarse behind. UVs are the
    front-on projection: u along +X, v along +Z, (0.5, 0.5) on the axis, 0/1 at the ball's rim."""
    front = np.linspace(0.0, np.radians(FRONT_DEG), FRONT_RINGS + 1)
    back = np.linspace(np.radians(FRONT_DEG), np.pi, BACK_RINGS + 1)[1:]
    polar = np.concatenate([front, back])[1:]  # the pole itself is one vertex
    az = np.linspace(0, 2 * np.pi, SEGMENTS, endpoint=False)
    p, a = np.meshgrid(polar, az, indexing="ij")  # [R,S]
    ring = np.stack([np.sin(p) * np.cos(a), -np.cos(p), np.sin(p) * np.sin(a)], -1).reshape(-1, 3)
    unit = np.concatenate([[[0.0, -1.0, 0.0]], ring[:-SEGMENTS], [[0.0, 1.0, 0.0]]])  # last ring -> back pole
    n_rings = len(polar) - 1
    ids = 1 + np.arange(n_rings * SEGMENTS).reshape(n_rings, SEGMENTS)
    back_pole = len(unit) - 1
    nxt = np.roll(ids, -1, axis=1)
    # Counter-clockwise seen from outside (Panda's front faces).
    faces = [np.stack([np.zeros(SEGMENTS, int), ids[0], nxt[0]], 1)]
    for k in range(n_rings - 1):
        faces += [np.stack([ids[k], nxt[k + 1], nxt[k]], 1), np.stack([ids[k], ids[k + 1], nxt[k + 1]], 1)]
    faces.append(np.stack([ids[-1], np.full(SEGMENTS, back_pole), nxt[-1]], 1))
    uvs = 0.5 + 0.5 * unit[:, [0, 2]]
    return (radius * unit).astype(np.float32), np.concatenate(faces).astype(np.int32), uvs.astype(np.float32)


def front_on(face: np.ndarray, points: np.ndarray, uvs: np.ndarray, centre: np.ndarray, radius: float,
             size: int) -> tuple[np.ndarray, np.ndarray]:
    """(RGB [size*size,3] float, head x, y [size*size,2]) of the face texture `face` [H,W,3] seen front-on
    over the square centre +- radius (row 0 = top), through the affine map that takes `points` [K,2]
    (head x, y) to their face-texture `uvs` [K,2]."""
    h, w = face.shape[:2]
    a = np.c_[points, np.ones(len(points))]
    affine, *_ = np.linalg.lstsq(a, uvs, rcond=None)  # [3,2]: (x, y, 1) -> (u, v)
    xy = np.asarray(centre[:2], np.float64) + texel_xy(radius, size)
    uv = np.c_[xy, np.ones(len(xy))] @ affine
    px = np.clip(uv[:, 0] * (w - 1), 0, w - 1)
    py = np.clip((1 - uv[:, 1]) * (h - 1), 0, h - 1)
    x0, y0 = np.floor(px).astype(int), np.floor(py).astype(int)
    x1, y1 = np.minimum(x0 + 1, w - 1), np.minimum(y0 + 1, h - 1)
    fx, fy = (px - x0)[:, None], (py - y0)[:, None]
    f = face.astype(np.float32)
    rgb = ((f[y0, x0] * (1 - fx) + f[y0, x1] * fx) * (1 - fy) + (f[y1, x0] * (1 - fx) + f[y1, x1] * fx) * fy)
    return rgb, xy


def rim_width(y: np.ndarray, ring: np.ndarray, iris_radius: float) -> np.ndarray:
    """How far in from the lid (metres) the lid band reaches at head heights `y` [N] on the opening
    `ring` [R,2]: LID_RIM of the iris radius along the upper lid, LOWER_RIM along the lower one, in
    between across the middle half of the opening's height."""
    mid, half_h = ring[:, 1].mean(), max(float(np.ptp(ring[:, 1])) / 2, 1e-6)
    up = np.clip((np.asarray(y) - mid) / half_h + 0.5, 0.0, 1.0)
    return iris_radius * (LOWER_RIM + (LID_RIM - LOWER_RIM) * up)


def eye_texture(face: np.ndarray, points: np.ndarray, uvs: np.ndarray, ring: np.ndarray, centre: np.ndarray,
                iris: np.ndarray, radius: float, iris_radius: float = IRIS_RADIUS_M,
                size: int = EYE_TEXTURE, card_nasal: float | None = None) -> np.ndarray:
    """RGB [size,size,3] for one eyeball from the face texture `face` [H,W,3], or for its socket card when
    `card_nasal` (+1 or -1: the side along x the nose lies on) is given.

    points [K,2] / uvs [K,2]: head x, y and face-texture uv of the vertices around the eye (lid ring
    and iris), which fix the front-on map from the eye's plane to the face texture; ring [R,2]: the lid
    opening (head x, y); centre [2], iris [2]: the ball's axis and the iris centre (head x, y);
    radius: the ball's. Texel (row 0 = top) covers head x, y = centre + radius * [-1, 1] on each side.

    The socket card lies in the plane of the ball's centre, about a centimetre behind the lids, so a view
    off its axis looks through the opening at the card's part beyond the lid ring (~1 mm of it at a lid
    corner 3 cm off the axis of a camera 0.42 m away). The ball's fill there was a sclera-white shard in
    the dark outer corner, a bright speck at the end of the lash line. So beyond the ring the card shows
    the photo, the lids' own skin around it, except on the nose's half: a turned head is seen past its
    inner corner into the socket (see `socket`), where the photo's skin was a light wedge inside the eye
    and what the photo shows just inside that corner, continued, a dark red one; there it keeps the fill.
    """
    rgb, xy = front_on(face, points, uvs, centre, radius, size)
    colours = eye_colours(rgb, xy, ring, iris, iris_radius)
    if colours is None:  # no eye to copy (closed in the picture, or a texture without eyes): a drawn one, same size
        return drawn_eye(xy, iris, iris_radius, size)
    white, iris_rgb = colours
    seen = inside_polygon(xy, ring)
    in_iris = np.hypot(*(xy - iris).T) < iris_radius
    to_lid = polygon_distance(xy, ring)
    fill = np.where(in_iris[:, None], iris_rgb[None], white[None])
    # Right along the lids the photo shows lashes and the lid's edge: painted on the ball they would
    # turn with the gaze and draw a dark arc across the white. There (under the lid band, which shows
    # them at rest) the ball has its fill colours, shaded darker towards the lid, for a turned gaze.
    rim = np.clip(to_lid / rim_width(xy[:, 1], ring, iris_radius), 0.0, 1.0)[:, None]
    # The upper lashes shade the ball below them as darkly as the lash line the photo shows there (a
    # lighter band drew a pale line along the upper lid); the lower lid shades it less.
    upper = (xy[:, 1] > ring[:, 1].mean())[:, None]
    shade = np.where(upper, UPPER_LID_SHADE, LID_SHADE)
    near_lid = fill * (1.0 - shade * (1.0 - rim))
    # Under the upper lid the shade goes on, fading to the plain fill: the ball sits behind the lids, so
    # a view from a little above sees a sliver of it outside the opening (a pale line when plain white).
    under = np.clip(to_lid / (UNDER_LID * LID_RIM * iris_radius), 0.0, 1.0)[:, None]
    hidden = fill * (1.0 - np.where(upper, UPPER_LID_SHADE * (1.0 - under), 0.0))
    if card_nasal is not None:
        nasal = (card_nasal * (xy[:, 0] - ring[:, 0].mean()) > 0)[:, None]
        hidden = np.where(nasal, hidden, rgb)
    out = np.where(seen[:, None], rim * rgb + (1.0 - rim) * near_lid, hidden)
    return out.reshape(size, size, 3).clip(0, 255).astype(np.uint8)


def eye_colours(rgb: np.ndarray, xy: np.ndarray, ring: np.ndarray, iris: np.ndarray,
                iris_radius: float) -> tuple[np.ndarray, np.ndarray] | None:
    """(sclera RGB [3], iris RGB [3]) of the photographed eye in front-on texels `rgb` [N,3] at head
    x, y `xy` [N,2], or None where the photo shows no eye there (closed, or no eye in the texture)."""
    seen = inside_polygon(xy, ring)
    in_iris = np.hypot(*(xy - iris).T) < iris_radius
    # The lid margin and lashes line the opening: the eye's colours come from further in.
    margin = polygon_distance(xy, ring) > 0.12 * iris_radius
    sclera = seen & ~in_iris & margin & (np.hypot(*(xy - iris).T) > 1.15 * iris_radius)
    iris_seen = seen & in_iris & margin
    white = np.median(rgb[sclera], axis=0) if sclera.sum() >= 4 else DEFAULT_SCLERA
    iris_rgb = np.median(rgb[iris_seen], axis=0) if iris_seen.sum() >= 4 else None
    if iris_rgb is None or iris_rgb @ LUMA > IRIS_CONTRAST * (white @ LUMA):
        return None
    return white, iris_rgb


def lid_band_texture(face: np.ndarray, points: np.ndarray, uvs: np.ndarray, ring: np.ndarray, centre: np.ndarray,
                     iris: np.ndarray, half: float, ball_radius: float, iris_radius: float = IRIS_RADIUS_M,
                     size: int = LID_BAND_TEXTURE) -> np.ndarray:
    """RGB [size,size,3] for the lid band (arguments as eye_texture's for a ball of `ball_radius`; the
    texture covers centre +- `half`): the photo itself, lashes and lid rims as they are; where the ball
    gets a drawn eye (eye_texture decides it on the ball's own cut), that eye (a band of closed lid's
    skin along an open drawn eye, or drawn white beside a photographed iris, would show)."""
    rgb, xy = front_on(face, points, uvs, centre, ball_radius, EYE_TEXTURE)
    photographed = eye_colours(rgb, xy, ring, iris, iris_radius) is not None
    rgb, xy = front_on(face, points, uvs, centre, half, size)
    if not photographed:
        return drawn_eye(xy, iris, iris_radius, size)
    return rgb.reshape(size, size, 3).clip(0, 255).astype(np.uint8)


def texel_xy(half: float, size: int) -> np.ndarray:
    """[size*size,2] head x, y relative to the eye's axis of the texels of an eye image covering the axis
    +- `half` (row 0 = top: image rows go down, head y up): every eye image's layout."""
    t = (np.arange(size) + 0.5) / size * 2 - 1
    gx, gy = np.meshgrid(half * t, -half * t)
    return np.stack([gx.reshape(-1), gy.reshape(-1)], 1)


def ball_normals(radius: float, half: float, size: int) -> np.ndarray:
    """[size,size,3] unit normals (head axes: x, y up, z out of the face) of a ball of `radius` seen front-on
    at the texels of an eye image covering its axis +- `half`; beyond the ball's outline, its rim's."""
    gx, gy = (texel_xy(half, size) / radius).reshape(size, size, 2).transpose(2, 0, 1)
    r = np.hypot(gx, gy)
    k = np.where(r > 0.999, 0.999 / np.maximum(r, 1e-9), 1.0)
    gx, gy = gx * k, gy * k
    return np.stack([gx, gy, np.sqrt(np.maximum(1.0 - gx ** 2 - gy ** 2, 0.0))], -1)


def drawn_eye(xy: np.ndarray, iris: np.ndarray, iris_radius: float, size: int) -> np.ndarray:
    """A plain eye [size,size,3] for texel positions xy [size*size,2]: muted sclera, brown iris with
    a darker limbal ring, pupil."""
    r = np.hypot(*(xy - iris).T)[:, None] / iris_radius
    out = np.where(r < 1.0, DRAWN_IRIS * (1.0 - 0.35 * np.clip((r - 0.75) / 0.25, 0, 1)), DEFAULT_SCLERA)
    out = np.where(r < 0.42, DRAWN_PUPIL, out)
    return out.reshape(size, size, 3).clip(0, 255).astype(np.uint8)


def socket(name: str, outline: np.ndarray, nasal: float, texture: np.ndarray) -> NodePath:
    """A flat card facing -Y (Panda) over the eye's opening: `outline` [K,2] is the lid ring (head x, y
    relative to the ball's axis); the card reaches SOCKET_GROW of it further out, and NASAL_REACH_M more
    towards the nose (at +x when `nasal` is +1, -x when -1), which a side view looks past the inner
    corner to; `texture` covers the square of half side socket_half_width(outline) front-on, as the
    eyeball's does.

    An eyeball's radius is less than half the eye's opening: the inner corner lies ~16 mm from the
    iris, the ball reaches 12 mm, and the hole cut for it showed the dark inside of the head as a black
    wedge at the corner. The card sits in the plane of the ball's centre, where the ball hides all of it
    but the corners, and shows there what the photo shows (the pink corner, the white); shaped like the
    opening, it stays behind the lids from any side (a square's corners showed beside the nose)."""
    outline = np.asarray(outline, np.float64)
    middle = outline.mean(axis=0)
    rim = middle + (1 + SOCKET_GROW) * (outline - middle)  # [K,2]
    away = (rim - middle) / np.maximum(np.linalg.norm(rim - middle, axis=1, keepdims=True), 1e-9)
    rim[:, 0] += nasal * NASAL_REACH_M * np.clip(away[:, 0] * nasal, 0, 1)
    half = socket_half_width(outline)
    k = len(rim)
    xy = np.concatenate([middle[None], rim])
    verts = np.c_[xy[:, 0], np.zeros(k + 1), xy[:, 1]].astype(np.float32)
    ring = 1 + np.arange(k)
    faces = np.stack([np.zeros(k, int), ring, np.roll(ring, -1)], 1)
    uvs = (0.5 + xy / (2 * half)).astype(np.float32)
    normals = np.tile([0, -1, 0], (k + 1, 1)).astype(np.float32)
    geom = MeshGeom(name, verts, faces.astype(np.int32), uvs=uvs, normals=normals)
    return matte(geom, texture, name)  # (two-sided: a fan over a fitted ring may fold where it is not star-shaped)


def matte(geom: MeshGeom, image: np.ndarray, name: str) -> NodePath:
    """`geom` as a node textured with `image` [S,S,3] uint8 (no mipmaps, clamped at its edges), without
    gloss and drawn from both sides: the eye's skin-like parts (socket card, lid band, lash line)."""
    node = NodePath(geom.node)
    tex = make_texture(image, f"{name}-texture", mipmap=False)
    tex.set_wrap_u(SamplerState.WM_clamp)
    tex.set_wrap_v(SamplerState.WM_clamp)
    node.set_texture(tex)
    mat = Material(name)
    mat.set_specular((0, 0, 0, 1))
    node.set_material(mat)
    node.set_two_sided(True)
    return node


def socket_half_width(outline: np.ndarray) -> float:
    """Half the side of the square the socket card's texture covers (about the ball's axis)."""
    return float(np.abs(np.asarray(outline)).max()) * (1 + SOCKET_GROW) + NASAL_REACH_M + SOCKET_MARGIN_M


def clear_of_lids(outline: np.ndarray, radius: float, iris_radius: float, size: int = EYE_TEXTURE) -> np.ndarray:
    """[size,size] bool: the texels of a ball's texture (of `radius`, eye_texture's map) inside the lid
    ring `outline` [K,2] (relative to the ball's axis), at least the upper lid band's width in from every
    lid: a glint nearer a lid is its wet rim's, not a catchlight on the cornea (the ball kept the
    lower rim's glints once its own colours there gave way to the photo's)."""
    xy = texel_xy(radius, size)
    ring = np.asarray(outline, np.float64)
    clear = inside_polygon(xy, ring) & (polygon_distance(xy, ring) > LID_RIM * iris_radius)
    return clear.reshape(size, size)


def lid_band_half_width(outline: np.ndarray) -> float:
    """Half the side of the square the lid band's texture covers (about the ball's axis)."""
    return float(np.abs(np.asarray(outline)).max()) + 2 * LID_BAND_TUCK_M


def lid_band(name: str, outline: np.ndarray, radius: float, iris_radius: float, texture: np.ndarray) -> NodePath:
    """The lids' lashes and wet rim as photographed: a strip along the lid ring `outline` [K,2] (head x, y
    relative to the ball's axis), from LID_BAND_TUCK_M under the lids to rim_width() in from them, lying
    LID_BAND_LIFT_M in front of a ball of `radius` centred at the node's origin (looking down -Y) and
    facing out as it does; `texture` is the photo front-on over lid_band_half_width(outline) about the
    axis. It does not turn with the ball: the lashes stay on the lid while the gaze moves under them."""
    ring = np.asarray(outline, np.float64)
    k = len(ring)
    middle = ring.mean(axis=0)
    tangent = np.roll(ring, -1, axis=0) - np.roll(ring, 1, axis=0)
    normal = np.stack([-tangent[:, 1], tangent[:, 0]], 1)
    normal /= np.maximum(np.linalg.norm(normal, axis=1, keepdims=True), 1e-12)
    inwards = np.sign(np.sum(normal * (middle - ring), axis=1, keepdims=True))
    normal *= np.where(inwards == 0, 1.0, inwards)
    f = np.arange(BAND_STEPS) / BAND_STEPS
    nxt = np.roll(np.arange(k), -1)
    edge = (ring[:, None] * (1 - f[None, :, None]) + ring[nxt][:, None] * f[None, :, None]).reshape(-1, 2)
    n = (normal[:, None] * (1 - f[None, :, None]) + normal[nxt][:, None] * f[None, :, None]).reshape(-1, 2)
    n /= np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-12)
    outer = edge - LID_BAND_TUCK_M * n
    inner = edge + rim_width(edge[:, 1], ring, iris_radius)[:, None] * n
    xy = np.concatenate([outer, inner])  # [2M,2]
    m = len(edge)
    shell = radius + LID_BAND_LIFT_M
    depth = -np.sqrt(np.maximum(shell ** 2 - (xy ** 2).sum(1), 0.0))  # Panda -Y: the ball's front
    verts = np.c_[xy[:, 0], depth, xy[:, 1]].astype(np.float32)
    normals = verts / np.maximum(np.linalg.norm(verts, axis=1, keepdims=True), 1e-9)
    a, b = np.arange(m), (np.arange(m) + 1) % m
    faces = np.concatenate([np.stack([a, b, m + b], 1), np.stack([a, m + b, m + a], 1)]).astype(np.int32)
    half = lid_band_half_width(outline)
    uvs = (0.5 + xy / (2 * half)).astype(np.float32)
    geom = MeshGeom(name, verts, faces, uvs=uvs, normals=normals.astype(np.float32))
    return matte(geom, texture, name)  # lashes and a lid's rim: no gloss


def eyeball(name: str, radius: float, texture: np.ndarray) -> NodePath:
    """A textured, glossy eyeball looking down -Y (its local forward)."""
    verts, faces, uvs = ball_mesh(radius)
    geom = MeshGeom(name, verts, faces, uvs=uvs, normals=verts / radius)
    node = NodePath(geom.node)
    tex = make_texture(texture, f"{name}-texture", mipmap=False)
    tex.set_wrap_u(SamplerState.WM_clamp)
    tex.set_wrap_v(SamplerState.WM_clamp)
    node.set_texture(tex)
    mat = Material("eye")  # no ambient/diffuse: the texture (x white vertex colour) is the eye's colour
    mat.set_specular(GLOSS["specular"])
    mat.set_shininess(GLOSS["shininess"])
    node.set_material(mat)
    return node


def catchlight_direction(ball: np.ndarray, iris_reach: float, where: np.ndarray | None = None) -> np.ndarray:
    """Where the photo's own catchlight lies on a ball texture `ball` [S,S,3] (eye_texture's front-on
    map, the iris at its middle): (x right, y up) on the unit ball, its brightest texel within
    `iris_reach` (of the ball's radius) of the middle, and among the texels `where` [S,S] (bool) when
    given, when that stands out of the iris, else CATCHLIGHT_DIR. Her real frames' catchlight sits
    where her light was: a disc elsewhere on the iris is a stranger's."""
    size = ball.shape[0]
    gx, gy = texel_xy(1.0, size).reshape(size, size, 2).transpose(2, 0, 1)  # row 0 is the top: y up
    near = np.hypot(gx, gy) < iris_reach
    if where is not None:
        near &= where
    luma = ball.astype(np.float32) @ LUMA
    if not near.any():
        return CATCHLIGHT_DIR.copy()
    best = np.argmax(np.where(near, luma, -1.0))
    if luma.flat[best] < np.median(luma[near]) + CATCHLIGHT_OVER_IRIS:
        return CATCHLIGHT_DIR.copy()
    return np.array([gx.flat[best], gy.flat[best]])


def catchlight(name: str, radius: float, direction: np.ndarray = CATCHLIGHT_DIR) -> NodePath:
    """A small unlit bright disc on the front of a ball of `radius` (centred at the node's origin,
    looking down -Y), facing the viewer, at `direction` (x right, y up on the unit ball from its axis):
    the eye's moist highlight on the software path."""
    k = 12
    a = np.linspace(0, 2 * np.pi, k, endpoint=False)
    x, z = direction
    y = -np.sqrt(max(1.0 - x * x - z * z, 0.0))
    centre = radius * np.array([x, y, z]) + np.array([0.0, -0.0002, 0.0])  # just in front of the ball
    ring = centre + CATCHLIGHT_RADIUS_M * np.stack([np.cos(a), np.zeros(k), np.sin(a)], 1)
    verts = np.concatenate([centre[None], ring]).astype(np.float32)
    ids = 1 + np.arange(k)
    faces = np.stack([np.zeros(k, int), ids, np.roll(ids, -1)], 1)[:, ::-1].astype(np.int32)
    geom = MeshGeom(name, verts, faces, colors=np.tile(CATCHLIGHT_RGB, (k + 1, 1)),
                    normals=np.tile([0, -1, 0], (k + 1, 1)).astype(np.float32))
    node = NodePath(geom.node)
    node.set_light_off(1)
    node.set_texture_off(1)
    node.set_two_sided(True)
    return node


def order_eye(k: int, **parts: NodePath) -> None:
    """Put eye number `k`'s parts (named as in EYE_ORDER) in the eyes' bin, in their fixed order."""
    name = cull_bin(EYES)
    for part, node in parts.items():
        node.set_bin(name, EYE_ORDER[part] + k)


def catchlight_shown(blink: float) -> bool:
    """Whether a catchlight disc shows behind a lid at `blink` (0 open .. 1 shut)."""
    return blink < CATCHLIGHT_GONE


def closing_shade(blink: float, hung: bool = False) -> float:
    """Colour scale of an eyeball and its socket behind a lid at `blink` (0 open .. 1 shut); `hung`: the lid's
    lashes hang over the eye as it closes (they darken the slit, the ball less)."""
    low, high = CLOSING_DIMS
    most = HUNG_CLOSING_SHADE if hung else CLOSING_SHADE
    return 1.0 - most * float(smoothstep(float(np.clip((blink - low) / (high - low), 0.0, 1.0))))
