"""The subject's head model: neutral face mesh completed into a closed head, one UV layout,
and one blendshape per expression-code entry.

Layout of the vertex array (recorded in meta["layout"]):
  [0, 478)        the face-mesh landmarks (468 surface points + 10 iris points, used to fill the eyes)
  mouth pocket    copies of the 20 inner-lip rim vertices + a recessed centre, with their own UV island
  skull sock      rings swept from a copy of the face oval over an ellipsoid-plus-neck surface to a pole
Copies share positions with their originals, so the welded surface is closed (watertight);
they exist only so that the UV layout can have seams. UVs: the face takes the top 78% of the
square, the skull and neck a strip at the bottom, the mouth interior a disk in the corner.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from assets import landmarks as L
from assets import expression
from assets.mesh import inside_polygon, polygon_distance
from assets.blend import smoothstep
from . import topology as T
from .controls import (EYEBALL_RADIUS_M, GAZE_DEG, GAZE_SLICE, GENERIC_RANGE, MIN_SAMPLES_CALIBRATED, Calibration,
                       codes_from_landmarks, detector_scale, fit_calibration, raw_measures)
from .errors import GeometryError, check_landmarks
from .pose import canonical, head_pose
from .lashes import lash_hang
from .one_sided import SIDED, split_pairs

SKULL_CENTRE = np.array([0.0, 0.0, -0.09])
SKULL_RADII = np.array([0.076, 0.125, 0.10])  # an average adult's, used when the landmarks cannot tell
NECK_RADIUS, NECK_AXIS_Z, NECK_BOTTOM = 0.055, -0.075, -0.23
N_RINGS = 18
FACE_V0, FACE_V1 = 0.22, 0.99  # v range of the face island
SOCK_U1, SOCK_V1 = 0.86, 0.20
MOUTH_UV_CENTRE, MOUTH_UV_RADIUS = np.array([0.93, 0.10]), 0.06
MIN_ACTIVE_SAMPLES = 3  # samples with a control above 0.3 needed to fit its blendshape from data
LID_REACH_M = 0.008  # the rest lids' shape reaches this far out from the lid opening, fading
LIP_LOWER = (95, 88, 178, 87, 14, 317, 402, 318, 324, 146, 91, 181, 84, 17, 314, 405, 321, 375)


def skull_radii(shape: np.ndarray) -> np.ndarray:
    """Half-axes (x width, y height, z depth) of the skull ellipsoid from this face's landmarks [478,3].

    The skull is about 1.1x as wide as the face at the cheekbones (landmarks 234/454), its crown is
    about as far above the eyes as the chin is below them, and its length follows its width. Each is
    bounded to adult anthropometric ranges so a bad fit cannot make a melon or a blade.
    """
    half_face = 0.5 * abs(float(shape[454, 0] - shape[234, 0]))
    width = float(np.clip(1.1 * half_face, 0.068, 0.088))
    height = float(np.clip(0.98 * abs(float(shape[L.CHIN, 1])), 0.10, 0.125))
    depth = float(np.clip(width * SKULL_RADII[2] / SKULL_RADII[0], 0.092, 0.11))
    return np.array([width, height, depth])


def _skull_radius(d: np.ndarray, radii: np.ndarray = SKULL_RADII) -> np.ndarray:
    """Distance from SKULL_CENTRE to the head surface along unit directions d [...,3].

    The surface is the union of an ellipsoid and a vertical neck cylinder (both convex and
    containing the centre, so the union is star-shaped), plus two ear bumps.
    """
    r_ell = 1.0 / np.sqrt(np.sum((d / radii) ** 2, axis=-1))
    off = SKULL_CENTRE[2] - NECK_AXIS_Z
    a = d[..., 0] ** 2 + d[..., 2] ** 2
    b = 2 * off * d[..., 2]
    c = off ** 2 - NECK_RADIUS ** 2
    t_side = (-b + np.sqrt(np.maximum(b * b - 4 * a * c, 0))) / np.maximum(2 * a, 1e-9)
    down = d[..., 1] < -1e-6
    t_bottom = np.where(down, (NECK_BOTTOM - SKULL_CENTRE[1]) / np.where(down, d[..., 1], -1), 0)
    r_cyl = np.where(down, np.minimum(t_side, t_bottom), 0)
    side = smoothstep((np.abs(d[..., 0]) - 0.6) / 0.2)
    ear = 0.013 * np.exp(-((d[..., 1] + 0.12) ** 2 / 0.05 + (d[..., 2] + 0.05) ** 2 / 0.012)) * side
    return np.maximum(r_ell, r_cyl) + ear


def _slerp(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    omega = np.arccos(np.clip(np.sum(a * b, -1), -1, 1))[..., None]
    so = np.maximum(np.sin(omega), 1e-9)
    return np.sin((1 - t) * omega) / so * a + np.sin(t * omega) / so * b


def _zipper(outer: np.ndarray, inner: np.ndarray, pts: np.ndarray) -> list[tuple[int, int, int]]:
    """Triangles between two loops of vertex ids ordered by angle about their common centre."""
    centre = pts[inner].mean(0)
    ang = lambda ids: np.arctan2(pts[ids, 1] - centre[1], pts[ids, 0] - centre[0])  # noqa: E731
    outer = outer[np.argsort(ang(outer))]
    inner = inner[np.argsort(ang(inner))]
    ao, ai = ang(outer), ang(inner)
    tris = []
    events = sorted([(a, 0, i) for i, a in enumerate(ao)] + [(a, 1, i) for i, a in enumerate(ai)])
    cur_o, cur_i = outer[-1], inner[-1]
    for _, kind, i in events:
        if kind == 0:
            tris.append((cur_o, outer[i], cur_i))
            cur_o = outer[i]
        else:
            tris.append((cur_o, inner[i], cur_i))
            cur_i = inner[i]
    return tris


def build_topology(shape: np.ndarray) -> dict:
    """Vertices [V,3], faces, UVs, the source landmark of each copy, and region ids for a neutral
    canonical face shape [478,3] (metres)."""
    loops = T.named_loops()
    verts = [shape.astype(np.float64)]
    faces = [T.triangles().astype(np.int64)]
    source = list(range(478))
    n = 478
    # Eyes: lid rim -> iris ring -> iris centre, so the iris vertices are part of the surface.
    for eye, rim in ((L.EYE_L, loops["eye_l"]), (L.EYE_R, loops["eye_r"])):
        ring = np.array(eye["iris_ring"])
        faces.append(np.array(_zipper(rim, ring, shape), np.int64))
        rel = shape[ring] - shape[eye["iris"]]
        ring_sorted = ring[np.argsort(np.arctan2(rel[:, 1], rel[:, 0]))]
        faces.append(np.array([(ring_sorted[i], ring_sorted[(i + 1) % 4], eye["iris"]) for i in range(4)], np.int64))
    # Mouth pocket: rim copies + a recessed centre.
    rim = loops["mouth"]
    mouth_ids = np.arange(n, n + len(rim) + 1)
    centre = shape[rim].mean(0) + np.array([0, 0, -0.012])
    verts.append(np.concatenate([shape[rim], centre[None]]))
    source += rim.tolist() + [-1]
    k = len(rim)
    faces.append(np.array([(mouth_ids[i], mouth_ids[(i + 1) % k], mouth_ids[-1]) for i in range(k)], np.int64))
    n += len(rim) + 1
    # Skull sock over the face oval, starting at the forehead so the seam runs over the crown.
    oval = loops["oval"]
    oval = np.roll(oval, -int(np.argmax(shape[oval, 1])))
    m = len(oval)
    d0 = shape[oval] - SKULL_CENTRE
    d0 /= np.linalg.norm(d0, axis=1, keepdims=True)
    pole = -d0.mean(0)
    pole /= np.linalg.norm(pole)
    radii = skull_radii(shape)
    delta = shape[oval] - (SKULL_CENTRE + d0 * _skull_radius(d0, radii)[:, None])
    rings = [shape[oval]]
    for k in range(1, N_RINGS):
        t = k / N_RINGS
        d = _slerp(d0, np.broadcast_to(pole, d0.shape), t)
        blend = 1 - smoothstep(t / 0.3)
        rings.append(SKULL_CENTRE + d * _skull_radius(d, radii)[:, None] + blend * delta)
    pole_pt = SKULL_CENTRE + pole * _skull_radius(pole[None], radii)[0]
    cols = m + 1  # the seam column is duplicated
    sock = np.stack([np.concatenate([r, r[:1]]) for r in rings] + [np.repeat(pole_pt[None], cols, 0)])  # [R+1,cols,3]
    sock_ids = n + np.arange(sock.shape[0] * cols).reshape(sock.shape[0], cols)
    verts.append(sock.reshape(-1, 3))
    source += np.concatenate([oval, oval[:1]]).tolist() + [-1] * ((sock.shape[0] - 1) * cols)
    quads = []
    for k in range(N_RINGS - 1):
        a, b = sock_ids[k], sock_ids[k + 1]
        quads += [np.stack([a[:-1], a[1:], b[1:]], 1), np.stack([a[:-1], b[1:], b[:-1]], 1)]
    a, p = sock_ids[N_RINGS - 1], sock_ids[N_RINGS]
    quads.append(np.stack([a[:-1], a[1:], p[:-1]], 1))
    faces += quads
    n += sock_ids.size
    vertices = np.concatenate(verts).astype(np.float64)
    faces = np.concatenate(faces)

    # UVs: cylindrical projection of the face about a vertical axis behind it.
    uv = np.zeros((len(vertices), 2))
    theta = np.arctan2(shape[:, 0], shape[:, 2] + 0.08)
    span = np.abs(theta[:468]).max() * 1.04
    ys = shape[:468, 1]
    y0, y1 = ys.min() - 0.004, ys.max() + 0.004
    uv[:478, 0] = 0.5 + 0.5 * theta / span
    uv[:478, 1] = FACE_V0 + (FACE_V1 - FACE_V0) * (shape[:, 1] - y0) / (y1 - y0)
    phi = np.linspace(0, 2 * np.pi, len(rim), endpoint=False)
    uv[mouth_ids[:-1]] = MOUTH_UV_CENTRE + MOUTH_UV_RADIUS * np.stack([np.cos(phi), np.sin(phi)], 1)
    uv[mouth_ids[-1]] = MOUTH_UV_CENTRE
    ku, kv = np.meshgrid(np.arange(cols) / m, np.arange(sock.shape[0]) / N_RINGS)
    uv[sock_ids.reshape(-1), 0] = 0.005 + (SOCK_U1 - 0.01) * ku.reshape(-1)
    uv[sock_ids.reshape(-1), 1] = SOCK_V1 - 0.005 - (SOCK_V1 - 0.01) * kv.reshape(-1)
    faces = _orient_outward(vertices, faces)
    return dict(vertices=vertices, faces=faces, uvs=uv, source=np.array(source), mouth_ids=mouth_ids, sock_ids=sock_ids)


def weld_index(vertices: np.ndarray) -> np.ndarray:
    """Index of the first vertex at the same position as each vertex (copies -> originals)."""
    _, first, inverse = np.unique(np.round(vertices, 7), axis=0, return_index=True, return_inverse=True)
    return first[inverse.reshape(-1)]


def _orient_outward(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Consistent, outward (counter-clockwise seen from outside) winding on the welded surface."""
    import trimesh

    weld = weld_index(vertices)
    mesh = trimesh.Trimesh(vertices, weld[faces], process=False)
    trimesh.repair.fix_winding(mesh)
    trimesh.repair.fix_inversion(mesh)
    fixed = mesh.faces
    wf = weld[faces]
    same = np.array([_cyclic_equal(a, b) for a, b in zip(wf, fixed)])
    return np.where(same[:, None], faces, faces[:, ::-1]).astype(np.int32)


def _cyclic_equal(a, b) -> bool:
    return (a[0], a[1], a[2]) in ((b[0], b[1], b[2]), (b[1], b[2], b[0]), (b[2], b[0], b[1]))


def spread(offsets: np.ndarray, shape: np.ndarray, vertices: np.ndarray, source: np.ndarray) -> np.ndarray:
    """Landmark offsets [478,3] -> offsets for every vertex [V,3]: copies take their original's,
    other vertices a Gaussian-weighted mix of nearby landmarks that fades 2 cm from the face."""
    out = np.zeros_like(vertices)
    has = source >= 0
    out[has] = offsets[source[has]]
    rest = np.nonzero(~has)[0]
    d2 = np.sum((vertices[rest, None, :] - shape[None, :468, :]) ** 2, -1)  # [R,468]
    w = np.exp(-(d2 - d2.min(1, keepdims=True)) / (2 * 0.008 ** 2))
    w /= w.sum(1, keepdims=True)
    fade = np.exp(-d2.min(1) / (2 * 0.02 ** 2))
    out[rest] = (w @ offsets[:468]) * fade[:, None]
    return out


def _rotate_about(p, centre, axis, angle):
    """Rodrigues rotation of points [...,3] about an axis through centre; returns offsets."""
    k = np.asarray(axis, np.float64) / np.linalg.norm(axis)
    v = p - centre
    c, s = np.cos(angle), np.sin(angle)
    rot = v * c + np.cross(k, v) * s + np.outer(v @ k, k) * (1 - c)
    return rot - v


def generic_blendshapes(shape: np.ndarray) -> dict[str, np.ndarray]:
    """Hand-designed landmark offsets [478,3] (metres) at code 1 for each semantic control."""
    s = shape.astype(np.float64)
    x, y, z = s[:, 0], s[:, 1], s[:, 2]
    out = {}
    corner_l, corner_r = s[L.MOUTH_CORNER_L], s[L.MOUTH_CORNER_R]
    mouth_c = 0.5 * (s[L.LIP_UPPER_INNER] + s[L.LIP_LOWER_INNER])
    half_w = 0.5 * np.linalg.norm(corner_l - corner_r)
    lower = np.zeros(478, bool)
    lower[list(LIP_LOWER)] = True
    # jaw_open: the lower face rotates 20 degrees about the jaw hinge.
    # Everything below the inner-lip line moves with the mandible; beyond the corners the line
    # drops 1 cm so the cheeks stay, and the skin fades out towards the back of the head.
    rim = T.named_loops()["mouth"]
    rim_lo = rim[np.isin(rim, LIP_LOWER)]
    line = np.interp(x, *_sorted_xy(s[rim_lo]))
    outside = np.clip((np.abs(x - mouth_c[0]) - half_w) / 0.01, 0, 1)
    line = line - 0.01 * outside
    ramp = 0.004 + 0.011 * outside
    w_jaw = smoothstep((line - y) / ramp) * smoothstep((z + 0.06) / 0.04)
    w_jaw = np.where(lower, 1.0, w_jaw)
    w_jaw[[L.MOUTH_CORNER_L, L.MOUTH_CORNER_R, L.LIP_INNER_CORNER_L, L.LIP_INNER_CORNER_R]] = 0.45
    hinge = np.array([0.0, -0.035, -0.085])
    out["jaw_open"] = _rotate_about(s, hinge, [1, 0, 0], np.radians(20)) * w_jaw[:, None]
    below_nose = smoothstep((s[L.SUBNASALE, 1] - 0.001 - y) / 0.003)  # the nose stays put
    near_mouth = np.exp(-np.sum((s[:, :2] - mouth_c[:2]) ** 2, 1) / (2 * (1.1 * half_w) ** 2)) * below_nose
    for name, corner, side in (("mouth_smile_l", corner_l, 1), ("mouth_smile_r", corner_r, -1)):
        w = np.exp(-np.sum((s - corner) ** 2, 1) / (2 * 0.014 ** 2))
        out[name] = w[:, None] * np.array([0.005 * side, 0.006, -0.002])
    to_centre = mouth_c - s
    out["mouth_pucker"] = near_mouth[:, None] * (np.array([0.35, 0.1, 0]) * to_centre + np.array([0, 0, 0.007]))
    updown = np.where(lower, -1.0, 1.0) * (np.abs(x - mouth_c[0]) < half_w * 1.05)
    out["mouth_funnel"] = near_mouth[:, None] * (np.array([0.4, 0, 0]) * to_centre
                                                  + np.stack([0 * x, 0.0065 * updown, 0.006 + 0 * x], 1))
    out["mouth_press"] = near_mouth[:, None] * np.stack([0 * x, -0.7 * (y - mouth_c[1]), -0.001 + 0 * x], 1)
    loops = T.named_loops()
    for name, eye, rim in (("blink_l", L.EYE_L, loops["eye_l"]), ("blink_r", L.EYE_R, loops["eye_r"])):
        centre = 0.5 * (s[eye["outer"]] + s[eye["inner"]])
        width = np.linalg.norm(s[eye["outer"]] - s[eye["inner"]])
        rim_up = rim[y[rim] >= centre[1] - 1e-4]
        rim_lo = rim[y[rim] < centre[1] - 1e-4]
        # The lids meet on a line a quarter of the way up from the lower lid.
        lid_lo, lid_up = np.interp(x, *_sorted_xy(s[rim_lo])), np.interp(x, *_sorted_xy(s[rim_up]))
        line = lid_lo + 0.25 * (lid_up - lid_lo)
        in_x = smoothstep(1 - np.abs(x - centre[0]) / (0.62 * width))
        in_x[rim] = 1.0  # the lid margins meet fully; the skin above follows less at the sides
        above = smoothstep(1 - (y - np.interp(x, *_sorted_xy(s[rim_up]))) / 0.009) * (y >= centre[1] - 1e-4)
        dy = np.zeros(478)
        dy[rim] = line[rim] - y[rim]
        lid_skin = (y > centre[1]) & ~np.isin(np.arange(478), rim)
        dy[lid_skin] = (line - np.interp(x, *_sorted_xy(s[rim_up])))[lid_skin] * above[lid_skin] * 0.9
        iris = [eye["iris"], *eye["iris_ring"]]
        dy[iris] = line[iris] - y[iris]
        off = np.zeros((478, 3))
        off[:, 1] = dy * in_x
        off[iris, 2] = -0.002
        out[name] = off
    for name, brow in (("brow_up_l", L.BROW_L), ("brow_up_r", L.BROW_R)):
        bc = s[list(brow)].mean(0)
        w = np.exp(-(x - bc[0]) ** 2 / (2 * 0.022 ** 2)) * smoothstep((y - bc[1] + 0.012) / 0.012) * smoothstep((0.085 - y) / 0.03)
        out[name] = w[:, None] * np.array([0, 0.008, 0])
    bcs = s[list(L.BROW_L + L.BROW_R)]
    by = bcs[:, 1].mean()
    w = np.exp(-(y - by) ** 2 / (2 * 0.012 ** 2)) * np.exp(-x ** 2 / (2 * 0.04 ** 2)) * smoothstep((y - by + 0.008) / 0.005)
    out["brow_down"] = np.stack([-0.1 * x * w, -0.007 * w, 0.001 * w], 1)
    cheek = s[list(L.CHEEK_L + L.CHEEK_R)]
    w = np.max(np.exp(-np.sum((s[:, None, :2] - cheek[None, :, :2]) ** 2, -1) / (2 * 0.016 ** 2)), 1)
    out["cheek_raise"] = w[:, None] * np.array([0, 0.004, 0.001])
    for side, eye, rim in (("l", L.EYE_L, loops["eye_l"]), ("r", L.EYE_R, loops["eye_r"])):
        iris = [eye["iris"], *eye["iris_ring"]]
        centre = s[eye["iris"]] - np.array([0, 0, EYEBALL_RADIUS_M])
        yaw = np.zeros((478, 3))
        yaw[iris] = _rotate_about(s[iris], centre, [0, 1, 0], np.radians(GAZE_DEG))
        pitch = np.zeros((478, 3))
        pitch[iris] = _rotate_about(s[iris], centre, [1, 0, 0], -np.radians(GAZE_DEG))
        pitch += _lids_follow(s, eye, rim, pitch[eye["iris"], 1])
        out[f"gaze_yaw_{side}"], out[f"gaze_pitch_{side}"] = yaw, pitch
    return out


LID_FOLLOW_UP, LID_FOLLOW_LOW = 0.6, 0.35  # share of the iris's vertical travel each lid follows


def _lids_follow(s: np.ndarray, eye: dict, rim: np.ndarray, lift: float) -> np.ndarray:
    """Offsets [478,3] of the lids for an iris that moves up by `lift` metres: a real upper lid
    rides with vertical gaze (most of the way) and the lower lid a little, so an eye looking up
    shows its iris instead of tucking it under a still lid; the corners stay."""
    x, y = s[:, 0], s[:, 1]
    mid = 0.5 * (s[eye["outer"]] + s[eye["inner"]])
    width = np.linalg.norm(s[eye["outer"]] - s[eye["inner"]])
    along = smoothstep(1 - np.abs(x - mid[0]) / (0.5 * width))  # 1 mid-lid, 0 at the corners
    near = np.exp(-np.sum((s[:, :2] - mid[:2]) ** 2, 1) / (2 * (0.3 * width) ** 2))  # lid skin only, not the brow
    share = np.where(y >= mid[1], LID_FOLLOW_UP, LID_FOLLOW_LOW) * near
    share[rim] = np.where(y[rim] >= mid[1], LID_FOLLOW_UP, LID_FOLLOW_LOW)
    iris = [eye["iris"], *eye["iris_ring"]]
    off = np.zeros((478, 3))
    off[:, 1] = share * along * lift
    off[iris] = 0.0
    return off


def _sorted_xy(p):
    o = np.argsort(p[:, 0])
    return p[o, 0], p[o, 1]


def neutral_shape(landmark_sets: np.ndarray, calibration: Calibration,
                  max_yaw: float = 15.0) -> tuple[np.ndarray, list[int]]:
    """Mean canonical shape [478,3] of the most neutral, most frontal samples, and their indices."""
    lm = check_landmarks(landmark_sets, batch=True)
    codes = codes_from_landmarks(lm, calibration)  # [N,E]
    pose = head_pose(lm, 1.0)
    frontal = (np.abs(pose[:, 0]) < max_yaw) & (np.abs(pose[:, 1]) < max_yaw)
    penalty = 0.02 * np.abs(pose[:, :2]).sum(1) + 100 * ~frontal  # turned or tilted samples rank lower
    score = np.abs(codes[:, :16] * detector_scale(calibration.range)).sum(1) + penalty  # gaze's scale leaves the pick
    k = max(1, min(5, len(lm) // 4))
    pick = np.argsort(score)[:k]
    shape = canonical(lm[pick]).mean(0)
    return _rest_lids(shape, lm, calibration, penalty, k), pick.tolist()


def _rest_lids(shape: np.ndarray, lm: np.ndarray, calibration: Calibration, penalty: np.ndarray, k: int) -> np.ndarray:
    """`shape` [478,3] with each eye's lids taken from the samples whose lid opening is the one code 0
    stands for (the calibration's neutral), so the rest face's eyes are as open as hers.

    The calmest samples overall are picked by their summed codes, which a half-closed eye barely
    moves: on a talking clip they held a mid-blink frame, and the rest lids sat a quarter lower than
    her code-0 opening and than the sharp frames the face texture is cut from (whose lash line then
    landed on the lid skin above the opening). The irises keep their place (gaze 0 is their median)."""
    from .controls import SEM_NAMES

    raw = raw_measures(lm)
    canon = canonical(lm)
    out = shape.copy()
    for name, ring in (("blink_l", L.EYE_RING_L), ("blink_r", L.EYE_RING_R)):
        i = SEM_NAMES.index(name)
        pick = np.argsort(np.abs(raw[:, i] - calibration.neutral[i]) + 0.01 * penalty)[:k]
        ring_xy = shape[list(ring), :2]
        outside = np.where(inside_polygon(shape[:, :2], ring_xy), 0.0, polygon_distance(shape[:, :2], ring_xy))
        w = smoothstep(1 - outside / LID_REACH_M)
        w[L.N_MESH:] = 0.0
        out += w[:, None] * (canon[pick].mean(0) - shape)
    return out


def _linear_codes(shape: np.ndarray, cal: Calibration) -> np.ndarray:
    """(raw - neutral) / range of the 16 raw measures on a canonical landmark shape [478,3], unclipped."""
    return (raw_measures(shape.astype(np.float32)).astype(np.float64) - cal.neutral) / cal.range


def _moved_by(k: float, offset: np.ndarray, shape: np.ndarray, cal: Calibration, base: np.ndarray,
              parts: list[int], target: float) -> float:
    """How far k x target of one control's shape offset [478,3] moves its measure(s) from base."""
    return float(min((_linear_codes(shape + k * target * offset, cal) - base)[parts]))


_PARTS = {"mouth_funnel": ("mouth_pucker", "mouth_funnel")}  # read as min(narrowing, parting): both must move


def self_consistent(offsets: np.ndarray, shape: np.ndarray, generic: dict, cal: Calibration,
                    frames: tuple[np.ndarray, np.ndarray] | None = None,
                    leave: tuple[str, ...] = ()) -> tuple[np.ndarray, dict]:
    """Scale each control's shape so that moving the head by a code moves its measure by that code.

    A blendshape fitted by joint least squares is each control's partial effect given the
    others, so alone it need not move its own measure by its code's worth of the calibrated
    range: on the shared clip funnel (lips narrowing AND parting) moved 0.05 for 0.8, jaw 1.0
    for 0.8. Here each shape is scaled so that 0.8 of it (0.5 for signed controls) changes the
    head's own landmark measure by 0.8 (0.5) of the range, measured as a change from the
    neutral head (whose absolute reading is the calibration's business); a fitted shape that
    cannot get there even at three times its size gives way to the generic one.
    Only the motion away from the rest face scales: code 0 is the neutral shape, untouched. Gaze shapes
    stay as they are: a gaze code is the eye's turn (controls.GAZE_READ), which they make, lids and all.

    With `frames` (her real samples' codes [N,E] and canonical landmarks [N,478,3]) a control keeps
    its fitted shape when the scaled one would rebuild her real frames more than RECONSTRUCTION_SLACK
    (or RECONSTRUCTION_FLOOR_M) worse (`reconstruction_error`): the fitted shapes add up to her real
    combinations, and the head shows those (lip sync, a driving video) far more often than one
    control alone. On the shared clip that keeps funnel (+0.5 mm) and the brows (+0.1-0.3 mm) as
    fitted; scaling all took the render of her held-out frames 0.5 dB further from them.
    Controls named in `leave` keep their shapes as they are (fit_head: the left/right pairs it shows as
    their joint sum split by side, `one_sided.split_pairs`).
    offsets [16,478,3] metres at code 1, shape [478,3]. Returns (offsets, {control: note}).
    """
    fitted = offsets.astype(np.float64)
    offsets = fitted.copy()
    names = [c.name for c in expression.SEMANTIC]
    base = _linear_codes(shape, cal)
    notes = {}
    for i, ctl in enumerate(expression.SEMANTIC):
        if i >= GAZE_SLICE.start or ctl.name in leave:
            continue  # a gaze shape turns the eye by its code's degrees, of which the landmark measure reads a share
        target = 0.8 * ctl.high if ctl.low == 0 else 0.5
        parts = [names.index(n) for n in _PARTS.get(ctl.name, (ctl.name,))]
        moves = partial(_moved_by, shape=shape, cal=cal, base=base, parts=parts, target=target)

        if moves(3.0, offsets[i]) < target and ctl.name in generic:
            offsets[i] = generic[ctl.name] * float(np.clip(cal.range[i] / GENERIC_RANGE[ctl.name], 0.5, 2.0))
            notes[ctl.name] = "; the fitted shape did not move its measure enough, generic used"
        lo, hi = 0.25, 3.0  # bisection on the scale: the measure grows with it
        if moves(hi, offsets[i]) < target:
            k = hi
        elif moves(lo, offsets[i]) > target:
            k = lo
        else:
            for _ in range(14):
                mid = 0.5 * (lo + hi)
                lo, hi = (mid, hi) if moves(mid, offsets[i]) < target else (lo, mid)
            k = 0.5 * (lo + hi)
        offsets[i] *= k
        if abs(k - 1) > 0.05:
            notes[ctl.name] = notes.get(ctl.name, "") + f"; x {k:.2f} so that it moves its measure by its code"
    if frames is None:
        return offsets, notes
    codes, faces = frames
    chosen = fitted.copy()
    err = reconstruction_error(chosen, shape, cal, codes, faces)
    limit = max(RECONSTRUCTION_SLACK * err, RECONSTRUCTION_FLOOR_M)
    for i, ctl in enumerate(expression.SEMANTIC):
        if ctl.name not in notes:
            continue
        trial = chosen.copy()
        trial[i] = offsets[i]
        worse = reconstruction_error(trial, shape, cal, codes, faces) - err
        if worse <= limit:
            chosen, err = trial, err + worse
        else:
            notes[ctl.name] = (f"; kept as fitted: the shape that moves its own measure by its code would rebuild "
                               f"her real frames {1000 * worse:.2f} mm worse")
    return chosen, notes


RECONSTRUCTION_SLACK = 0.05  # each rescaled shape may rebuild her real frames at most 5 % worse
RECONSTRUCTION_FLOOR_M = 1e-4  # or 0.1 mm (invisible), whichever is more; inf: every control scales


def reconstruction_error(offsets: np.ndarray, shape: np.ndarray, cal: Calibration, codes: np.ndarray,
                         target: np.ndarray) -> float:
    """RMS distance (metres) between real faces (canonical landmarks [N,478,3]) and the rest face
    moved by their codes [N,E] with these semantic shapes [16,478,3] and the calibration's PCA."""
    n_sem = len(expression.SEMANTIC)
    pca = cal.components.reshape(-1, 478, 3).astype(np.float64) * cal.stddev.astype(np.float64)[:, None, None]
    codes = np.asarray(codes, np.float64)
    rebuilt = (shape[None, :L.N_MESH] + np.einsum("ne,evc->nvc", codes[:, :n_sem], offsets[:, :L.N_MESH])
               + np.einsum("ne,evc->nvc", codes[:, n_sem:], pca[:, :L.N_MESH]))
    return float(np.sqrt(np.mean(np.sum((rebuilt - np.asarray(target, np.float64)[:, :L.N_MESH]) ** 2, -1))))


BROW_LOWER = (285, 295, 282, 283, 276, 55, 65, 52, 53, 46)  # the brows' lower edges (L.BROW_L/R are the upper)
BROW_REACH_M = 0.006  # the brows' own region: full within half of this of a brow landmark, none beyond 1.5 x
BROW_CONTROLS = ("brow_up_l", "brow_up_r", "brow_down")
LIDS_REACH_BROWS = ("blink_l", "blink_r")  # their lid skin rises towards the brows: kept as fitted there


def brow_weight(shape: np.ndarray) -> np.ndarray:
    """[478] weight 0..1 of the brows' own region on a canonical shape [478,3] (1 on the brows)."""
    brows = shape[list(L.BROW_L + L.BROW_R + BROW_LOWER), :2]
    near = np.min(np.linalg.norm(shape[:, None, :2] - brows[None], axis=-1), axis=1)
    w = smoothstep(1.5 - near / BROW_REACH_M)
    w[L.N_MESH:] = 0.0  # the irises
    return w


def brows_own(offsets: np.ndarray, shape: np.ndarray, cal: Calibration, codes: np.ndarray, faces: np.ndarray,
              refit: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Semantic shapes [16,478,3] in which only the brow controls move the brows.

    Her codes move together (in speech her brows move with her mouth, and brow_up and brow_down read
    one brow height with opposite signs), so the calibration's joint least squares gave the mouth
    controls brow motion: on the shared clip a pucker moved her inner brows 3 mm apart at code 1, and the
    jaw and a smile half that, while brow_down made up for it with a pinch of 4 mm and lowered the
    brows by only 0.04 eye distances per code, where her frames lower them 0.07 and draw them 2 mm
    together as brow_down rises by 0.7. Shown alone, a pucker moved her brows and brow_down was a
    pinch that reads as little of a frown. On the brows (`brow_weight`) the brow controls marked in
    `refit` [16] bool (fitted from data and shown as fitted) are fitted again on their own codes (her
    faces [N,478,3] canonical and codes [N,E], about the calibration's mean shape, with the blinks' and
    the other brow shapes' motion taken out first), and the mouth and cheek controls leave the brows
    still; with no brow shape to refit nothing changes (the brows' motion would have no control left).
    Returns the shapes and the controls whose shapes changed."""
    names = [c.name for c in expression.SEMANTIC]
    own = [names.index(n) for n in BROW_CONTROLS if refit[names.index(n)]]
    if not own:
        return offsets, []
    w = brow_weight(shape)[:, None]
    kept = [i for i in range(len(names)) if names[i] in BROW_CONTROLS + LIDS_REACH_BROWS and i not in own]
    codes = np.asarray(codes, np.float64)[:, :len(names)]
    target = (np.asarray(faces, np.float64) - cal.mean_shape.astype(np.float64)
              - np.einsum("nk,kvc->nvc", codes[:, kept], offsets[kept]))
    a = codes[:, own]
    ridge = 1e-2 * np.eye(len(own))  # as the calibration's joint fit
    fit = np.linalg.solve(a.T @ a + ridge, a.T @ target.reshape(len(a), -1))
    out = offsets.copy()
    for k, i in enumerate(own):
        out[i] = w * fit[k].reshape(478, 3) + (1 - w) * offsets[i]
    for i, name in enumerate(names):
        if name not in BROW_CONTROLS + LIDS_REACH_BROWS and not name.startswith("gaze"):  # the mouth and cheeks
            out[i] = (1 - w) * offsets[i]
    return out, [n for i, n in enumerate(names) if not np.array_equal(out[i], offsets[i])]


def funnel_parts_jaw(cal: Calibration) -> float:
    """Jaw code per funnel code that shows a funnel's parting (HeadModel.shown_code) for a funnel
    shape fitted from her frames and kept as fitted.

    Funnel reads min(narrowing, parting) and the parting is the jaw's own measure (the inner-lip
    gap, same neutral), so in her frames the jaw always carries it and the fitted funnel shape is
    left to narrow; a generic funnel shape, or one scaled to move its own measure, parts the lips
    itself and needs no jaw (fit_head passes those by)."""
    jaw, funnel = expression.index("jaw_open"), expression.index("mouth_funnel")
    return round(float(cal.range[funnel] / cal.range[jaw]), 4)


def fit_head(landmark_sets: np.ndarray, images=None, calibration: Calibration | dict | None = None,
             real: np.ndarray | None = None):
    """HeadModel from a subject's landmark sets [N,478,3] (pixels of any frame).

    `images` (optional, [N] RGB uint8 matching the landmarks) give the skin and hair colour
    used to fill never-seen texels. The semantic blendshapes are fitted from the data where a
    control is active (> 0.3) in at least 3 real samples (`real`: [N] bool, default all) of a
    calibrated set, generic otherwise (rendered single-photo albums only echo the generic
    shapes, so they never count), each scaled to move its own measure by its code
    (`self_consistent`), with the brows moved by the brow controls alone (`brows_own`; `reconstruct`
    keeps the joint fit) and each control of a left/right pair shown on its own side (`one_sided.split_pairs`:
    its share of the pair's joint sum, which is left unscaled);
    the PCA blendshapes are the calibration's components times their standard deviation.
    """
    from assets.artifacts import HeadModel

    lm = check_landmarks(landmark_sets, batch=True)
    if calibration is None:
        cal = fit_calibration(lm)
    else:
        cal = Calibration.from_dict(calibration) if isinstance(calibration, dict) else calibration
    shape, picked = neutral_shape(lm, cal)
    generic = generic_blendshapes(shape)
    real = np.ones(len(lm), bool) if real is None else np.asarray(real, bool)
    assert real.shape == (len(lm),), real.shape
    codes = codes_from_landmarks(lm[real], cal) if real.any() else np.zeros((0, expression.E))
    enough = int(real.sum()) >= MIN_SAMPLES_CALIBRATED
    offsets = np.zeros((len(expression.SEMANTIC), 478, 3))
    how = {}
    from_data = np.zeros(len(expression.SEMANTIC), bool)  # shapes fitted from her frames (else generic)
    for i, ctl in enumerate(expression.SEMANTIC):
        active = int(np.sum(codes[:, i] > 0.3))
        from_data[i] = enough and cal.method.get(ctl.name) == "calibrated" and active >= MIN_ACTIVE_SAMPLES and i < 12
        if from_data[i]:
            offsets[i] = cal.regression[i].reshape(478, 3).astype(np.float64)
            how[ctl.name] = f"fitted: least squares of landmark offsets, {active} real samples show it"
        else:
            # The generic shape moves its raw measure by about GENERIC_RANGE; rescale it to this
            # subject's calibrated range so that code 1 still means "as far as this face goes".
            scale = 1.0
            if i < 12 and not ctl.name.startswith("blink"):
                scale = float(np.clip(cal.range[i] / GENERIC_RANGE[ctl.name], 0.5, 2.0))
            offsets[i] = generic[ctl.name] * scale
            how[ctl.name] = ("generic geometric deformation" + (f" x {scale:.2f} (calibrated range)" if scale != 1 else "")
                             + ("" if i < 12 else " (iris rotation about the eyeball centre)"))
    names = [c.name for c in expression.SEMANTIC]
    fitted_pairs = [p for p in SIDED if any(from_data[names.index(n)] for n in p)]  # generic ones are one-sided
    split_names = tuple(n for pair in fitted_pairs for n in pair if from_data[names.index(n)])
    fitted = None  # the shapes as fitted, kept for reconstructing real frames when shown otherwise
    scaled = offsets  # as `self_consistent` leaves them
    if enough:
        fitted = offsets
        frames = (codes, canonical(lm[real]))
        # A pair shown split by side is shown as its joint sum, which the joint fit already makes move each
        # side's measure by its code (on the shared clip blinks 1.01/0.98, smiles 0.93/1.01 per unit, read on
        # the head's own landmarks). Scaling its members one at a time, each with its cross-side motion,
        # skewed that sum (blinks x1.07/x1.14 read 1.08/1.11; smiles x0.81/x1.17 read 0.65/1.13), and
        # each side alone then showed its share of the skewed sum (smile_l 0.55, blink_r 1.11).
        scaled, notes = self_consistent(offsets, shape, generic, cal, frames, leave=split_names)
        for name, note in notes.items():
            how[name] += note
        as_fitted = from_data & np.all(scaled == fitted, axis=(1, 2))
        offsets, changed = brows_own(scaled, shape, cal, *frames, as_fitted)
        for name in changed:
            how[name] += ("; on the brows fitted on the brow controls alone" if name in BROW_CONTROLS
                          else "; leaves the brows still")
        if np.array_equal(offsets, fitted):
            fitted = None
    read = cal.range[GAZE_SLICE].astype(np.float64)  # the share of a gaze code's turn the detector reads
    if not np.allclose(read, 1.0):
        # Her frames unwrap with the iris where the detector saw it (a larger turn put the iris texels
        # off her iris: the clip's identity distance went 0.296 -> 0.311), so the shapes that rebuild
        # her frames turn the eyes by the share of each code's degrees that the detector reads.
        fitted = (offsets if fitted is None else fitted).copy()
        fitted[GAZE_SLICE] = offsets[GAZE_SLICE] * read[:, None, None]
    funnel = expression.index("mouth_funnel")
    funnel_as_fitted = from_data[funnel] and (fitted is None or np.array_equal(scaled[funnel], fitted[funnel]))
    parts_jaw = funnel_parts_jaw(cal) if funnel_as_fitted else 0.0
    shown, pair_shapes = split_pairs(offsets, shape, fitted_pairs)
    if fitted is None and not np.array_equal(shown, offsets):
        fitted = offsets
    for name in (n for pair in fitted_pairs for n in pair):
        how[name] += "; shown on its own side (its share of the pair's motion; the rest only while both move)"
    offsets = shown
    topo = build_topology(shape)
    verts, source = topo["vertices"], topo["source"]
    blend = np.zeros((expression.E, len(verts), 3))
    for i in range(len(expression.SEMANTIC)):
        blend[i] = spread(offsets[i], shape, verts, source)
    if fitted is not None:
        fitted = np.stack([spread(f, shape, verts, source) for f in fitted]).astype(np.float32)
    if fitted_pairs:
        pair_shapes = np.stack([spread(c, shape, verts, source) for c in pair_shapes]).astype(np.float32)
    else:
        pair_shapes = None
    for j in range(expression.N_PCA):
        off = cal.components[j].reshape(478, 3).astype(np.float64) * float(cal.stddev[j])
        blend[12 + 4 + j] = spread(off, shape, verts, source)
        how[f"pca_{j}"] = ("calibration PCA component x its standard deviation" if cal.stddev[j] > 0
                           else "none (too few samples)")
    eyes = {}
    for side, eye in (("l", L.EYE_L), ("r", L.EYE_R)):
        iris = shape[eye["iris"]].astype(np.float64)
        eyes[side] = {"centre": (iris - [0, 0, EYEBALL_RADIUS_M]).round(5).tolist(), "radius": EYEBALL_RADIUS_M,
                      "iris_radius": float(np.linalg.norm(shape[list(eye["iris_ring"])] - iris, axis=1).mean().round(5))}
    regions = _regions(topo, shape)
    meta = {
        "units": "metres", "axes": "+x subject's left, +y up, +z out of the face; origin between the eye centres",
        "blendshapes": how, "eyes": eyes, "neutral_samples": picked, "n_samples": int(len(lm)),
        "layout": {"landmarks": [0, 478], "mouth_pocket": [int(topo["mouth_ids"][0]), int(topo["mouth_ids"][-1]) + 1],
                   "skull": [int(topo["sock_ids"].min()), int(topo["sock_ids"].max()) + 1]},
        "source": source.astype(int).tolist(), "pivot": [0.0, -0.07, -0.08], "pairs": [list(p) for p in fitted_pairs],
        "skin_rgb": [200, 160, 140], "hair_rgb": [90, 70, 55],
    }
    if parts_jaw:
        meta["funnel_parts_jaw"] = parts_jaw
    if images is not None:
        meta.update(_colours(images, lm))
        if real.any():  # her own blinks: how far her lashes hang over a closing eye (vr_app.lids)
            blinks = codes[:, [expression.index("blink_l"), expression.index("blink_r")]]
            hang = lash_hang([images[i] for i in np.nonzero(real)[0]], lm[real], blinks)
            if hang is not None:
                meta["lash_hang"] = round(hang, 3)
    return HeadModel(vertices=verts.astype(np.float32), faces=topo["faces"].astype(np.int32),
                     uvs=topo["uvs"].astype(np.float32),
                     blendshapes=blend.astype(np.float32), landmark_vertices=np.arange(478, dtype=np.int32),
                     regions=regions, meta=meta, fitted_shapes=fitted, pair_shapes=pair_shapes)


def _regions(topo: dict, shape: np.ndarray) -> dict:
    v = topo["vertices"]
    loops = T.named_loops()
    sock = topo["sock_ids"].reshape(-1)
    import mediapipe as mp

    lips = sorted({i for e in mp.solutions.face_mesh.FACEMESH_LIPS for i in e})
    eyes = [*loops["eye_l"], *loops["eye_r"], *L.EYE_L["iris_ring"], *L.EYE_R["iris_ring"], L.EYE_L["iris"], L.EYE_R["iris"]]
    chin_y = shape[L.CHIN, 1]
    brow_y = shape[list(L.BROW_L + L.BROW_R), 1].mean()
    ids = lambda m: [int(i) for i in m]  # noqa: E731
    return {
        "face": list(range(478)),
        "eyes": ids(sorted(set(eyes))),
        "eye_l": ids([*loops["eye_l"], *L.EYE_L["iris_ring"], L.EYE_L["iris"]]),
        "eye_r": ids([*loops["eye_r"], *L.EYE_R["iris_ring"], L.EYE_R["iris"]]),
        "mouth": ids(lips + list(topo["mouth_ids"])),
        "mouth_interior": ids(topo["mouth_ids"]),
        "neck": ids(sock[v[sock, 1] < chin_y - 0.01]),
        "scalp": ids(sock[v[sock, 1] > brow_y]),
    }


def _colours(images, lm) -> dict:
    """Median skin (cheeks) and hair (above the forehead) colours over the given images."""
    skin, hair = [], []
    for img, p in zip(images, lm):
        img = np.asarray(img)
        if img.ndim != 3 or img.dtype != np.uint8:
            raise GeometryError(f"images must be RGB uint8 [H,W,3], got {img.dtype} {list(img.shape)}")
        h, w = img.shape[:2]
        pick = lambda xy: img[int(np.clip(xy[1], 0, h - 1)), int(np.clip(xy[0], 0, w - 1))]  # noqa: E731
        skin += [pick(p[i]) for i in (*L.CHEEK_L, *L.CHEEK_R)]
        up = p[10, :2] + 0.35 * (p[10, :2] - p[168, :2])
        hair.append(pick(up))
    return {"skin_rgb": np.median(skin, 0).astype(int).tolist(), "hair_rgb": np.median(hair, 0).astype(int).tolist()}


def export_head(head, texture: np.ndarray | None, path) -> None:
    """Write the neutral head as .glb (glTF binary) or .obj (+ .mtl and .png), by suffix."""
    import trimesh
    from PIL import Image

    from pathlib import Path

    path = Path(path)
    if path.suffix.lower() not in (".glb", ".gltf", ".obj"):
        raise GeometryError(f"export format must be .glb, .gltf or .obj, got {path.suffix!r}")
    visual = None
    if texture is not None:
        tex = np.asarray(texture)
        if tex.ndim != 3 or tex.shape[2] != 3 or tex.dtype != np.uint8:
            raise GeometryError(f"texture must be RGB uint8 [H,W,3], got {tex.dtype} {list(tex.shape)}")
        material = trimesh.visual.material.SimpleMaterial(image=Image.fromarray(tex))
        visual = trimesh.visual.TextureVisuals(uv=head.uvs, material=material)
    mesh = trimesh.Trimesh(head.vertices, head.faces, visual=visual, process=False)
    mesh.export(str(path))
