"""The inside of the mouth: upper and lower teeth, a tongue and a dark cavity behind the lips.

The fitted head closes its mouth with a shallow pocket textured from the photos (a smear of lips
and teeth, a dark hole when the jaw drops). The rig replaces it with geometry: an arch of upper
teeth fixed to the skull, lower teeth and the tongue carried by the jaw (they move with the
chin), and a cavity whose rim is fastened just behind the face's surface around the mouth (each
rim point rides on the face triangle in front of it), so the cavity seals the opening however
far the lips part and is never seen from outside.

All positions are in the rig's pivot frame, head axes (x: subject's left, y: up, z: out of the
face), metres; `to_panda` turns them into Panda3D's axes.
"""

from __future__ import annotations

import numpy as np
from panda3d.core import Material, NodePath

from assets import expression
from assets import landmarks as L
from scenes.geom import MeshGeom, from_panda, to_panda

# Widths of the upper teeth from the middle outwards (central incisor, lateral, canine, two
# premolars), an adult's average in metres; scaled to the person's mouth.
UPPER_WIDTHS = np.array([0.0086, 0.0066, 0.0076, 0.0070, 0.0068])
LOWER_WIDTHS = np.array([0.0054, 0.0059, 0.0068, 0.0070, 0.0071])
# How far each tooth's biting edge sits above (upper row) or below (lower row) the central incisors'.
UPPER_EDGES = np.array([0.0, 0.0007, 0.0002, 0.0010, 0.0014])
LOWER_EDGES = np.array([0.0, 0.0, 0.0003, 0.0008, 0.0012])
ROOT_HEIGHT = 0.011  # the band reaches this far from the incisors' edge into the gum (behind the lip)
TOOTH_ROUNDING = 0.0006  # a tooth's edge rises this much at its corners
MOUTH_WIDTH = 0.046  # metres between the inner mouth corners that the widths above belong to
TOOTH_DEPTH = 0.0065
ARCH_BACK = 0.026  # metres the arch curves back from the incisors to the last premolar
BEHIND_LIP = 0.0035  # the incisors' front sits this far behind the upper lip's inner edge
INCISOR_SHOW = 0.0015  # upper incisal edge below the upper lip's inner edge at rest
OVERBITE, OVERJET = 0.0020, 0.0015
SURFACE_CLEARANCE = 0.003  # no tooth, tongue or cavity rim comes nearer the face's surface than this
CAVITY_DEPTH = 0.042
MOUTH_CONTROLS = ("jaw_open", "mouth_smile_l", "mouth_smile_r", "mouth_funnel", "mouth_pucker")
TEETH_RGB = np.array([0.93, 0.90, 0.83])  # enamel: ivory, never paper white
TONGUE_RGB = np.array([0.80, 0.42, 0.42])
CAVITY_RIM_RGB, CAVITY_BACK_RGB = np.array([0.42, 0.18, 0.17]), np.array([0.20, 0.06, 0.06])  # throat: dark red
# The colours above were chosen on the software renderer, which multiplies a lit vertex's colour in twice
# (measured: a 0.5 grey under a white ambient light draws 0.25 there, 0.5 on GL); GL draws them squared
# (`MouthInterior.colour_twice` for fixed-function GL; vr_app/shaders/lit.frag does it for every lit colour).


def front_surface(verts: np.ndarray, faces: np.ndarray, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For points xy [N,2] (head x, y): the front-most triangle over each (face index [N], -1 where none)
    and the barycentric coordinates [N,3] of the point in it, seen straight from the front."""
    tri = verts[faces]  # [F,3,3]
    a, b, c = tri[:, 0, :2], tri[:, 1, :2], tri[:, 2, :2]
    v0, v1 = b - a, c - a
    det = v0[:, 0] * v1[:, 1] - v0[:, 1] * v1[:, 0]  # [F]
    ok = np.abs(det) > 1e-12
    rel = xy[:, None, :] - a[None]  # [N,F,2]
    with np.errstate(divide="ignore", invalid="ignore"):
        u = (rel[..., 0] * v1[None, :, 1] - rel[..., 1] * v1[None, :, 0]) / det[None]
        w = (v0[None, :, 0] * rel[..., 1] - v0[None, :, 1] * rel[..., 0]) / det[None]
    bary = np.stack([1 - u - w, u, w], -1)  # [N,F,3]
    inside = ok[None] & (bary >= -1e-6).all(-1)
    z = np.where(inside, (bary * tri[None, :, :, 2]).sum(-1), -np.inf)
    best = np.argmax(z, axis=1)
    found = np.isfinite(z[np.arange(len(xy)), best])
    return np.where(found, best, -1), bary[np.arange(len(xy)), best]


def pair_motions(head, controls) -> list[np.ndarray]:
    """[V,3] offsets of each one-sided pair (`head.meta["pairs"]`) of `controls` with both at their full:
    its two shapes (each one side's share) and the motion shown only while both move (`pair_shapes`).
    Each shape alone moves one mouth corner; both together are the pair's joint motion, her real smile."""
    if head.pair_shapes is None:
        return []
    return [head.blendshapes[expression.index(a)] + head.blendshapes[expression.index(b)] + head.pair_shapes[p]
            for p, (a, b) in enumerate(head.meta.get("pairs", [])) if a in controls and b in controls]


def arch_mesh(front: np.ndarray, widths: np.ndarray, edges: np.ndarray, scale: float, top: bool):
    """One row of teeth as a solid band along a parabola through `front` [3] (the middle of the incisors'
    front face at their biting edge): (vertices [C,4,3] per column: front edge, front root, back edge,
    back root; faces [F,3] into the flattened vertices; colours [C*4,3]). `widths` [5] and `edges` [5]
    (how far each tooth's edge sits above (upper row) or below (lower row) the incisors') go from the
    middle outwards; each tooth's edge is a little rounded (its corners rise towards its neighbours)."""
    half = float(np.sum(widths)) * scale
    k = ARCH_BACK / half ** 2
    bounds = np.concatenate([[0.0], np.cumsum(widths * scale)])
    xs, rank, gap = [], [], []
    for i in range(len(widths)):  # per tooth: its near boundary, then three points across it
        for f in (0.0, 0.25, 0.5, 0.75):
            xs.append(bounds[i] + f * (bounds[i + 1] - bounds[i]))
            rank.append(i)
            gap.append(f == 0.0)
    xs.append(bounds[-1]), rank.append(len(widths) - 1), gap.append(True)
    xm, rank, gap = np.array(xs), np.array(rank), np.array(gap)
    xm = np.concatenate([-xm[:0:-1], xm])  # mirrored: right side, middle, left side
    rank = np.concatenate([rank[:0:-1], rank])
    gap = np.concatenate([gap[:0:-1], gap])
    sign = 1.0 if top else -1.0
    rounding = np.where(gap, TOOTH_ROUNDING, 0.0)
    edge_y = front[1] + sign * (edges[rank] + rounding)
    root_y = front[1] + sign * ROOT_HEIGHT
    x = front[0] + xm
    z = front[2] - k * xm ** 2
    normal = np.stack([2 * k * xm, np.zeros_like(xm), np.ones_like(xm)], 1)  # across the arch, outwards
    normal /= np.linalg.norm(normal, axis=1, keepdims=True)
    fe = np.stack([x, edge_y, z], 1)
    fr = np.stack([x, np.full_like(x, root_y), z], 1)
    cols = np.stack([fe, fr, fe - TOOTH_DEPTH * normal, fr - TOOTH_DEPTH * normal], 1)  # [C,4,3]
    faces = []
    for c in range(len(xm) - 1):
        a, b = 4 * c, 4 * (c + 1)
        for p, q in ((0, 1), (2, 3), (0, 2)):  # front face, back face, biting edge
            faces += [(a + p, b + p, b + q), (a + p, b + q, a + q)]
    shade = (1.0 - 0.09 * rank) * np.where(gap, 0.88, 1.0)  # further back darker; a shadow between teeth
    colours = np.stack([TEETH_RGB * s for s in shade])  # [C,3]
    colours = np.repeat(colours[:, None], 4, 1) * np.array([0.9, 1.0, 0.55, 0.6])[None, :, None]
    return cols, np.array(faces, np.int32), colours.reshape(-1, 3)


def _outward(verts: np.ndarray, faces: np.ndarray, centre: np.ndarray) -> np.ndarray:
    """Triangles wound counter-clockwise seen from outside a convex-ish solid around `centre` [N,3] per face."""
    tri = verts[faces]
    normal = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    out = ((tri.mean(1) - centre) * normal).sum(1) > 0
    return np.where(out[:, None], faces, faces[:, ::-1])


class MouthInterior:
    """Teeth, tongue and cavity under the rig's pivot; `update(verts)` with the deformed head vertices."""

    def __init__(self, head, pivot: NodePath, offset: np.ndarray, face_faces: np.ndarray):
        """`offset` [3]: head coordinates of the pivot (rig origin + neck point); `face_faces`: the head's
        triangles the cavity may fasten to (the face surface, without the pocket)."""
        self.offset = np.asarray(offset, np.float32)
        base = head.vertices.astype(np.float32) - self.offset  # [V,3] head axes, pivot frame
        lv = head.landmark_vertices
        upper, lower = base[lv[L.LIP_UPPER_INNER]], base[lv[L.LIP_LOWER_INNER]]
        corner_r, corner_l = base[lv[L.LIP_INNER_CORNER_R]], base[lv[L.LIP_INNER_CORNER_L]]
        self.lip = int(lv[L.LIP_LOWER_INNER])
        self.faces = face_faces
        self._surfaces = [base] + [base + head.blendshapes[expression.index(name)] for name in MOUTH_CONTROLS]
        self._surfaces += [base + shape for shape in pair_motions(head, MOUTH_CONTROLS)]
        width = float(abs(corner_l[0] - corner_r[0]))
        scale = float(np.clip(width / MOUTH_WIDTH, 0.8, 1.2))
        mid_x = 0.5 * float(corner_l[0] + corner_r[0])
        front = np.array([mid_x, upper[1] - INCISOR_SHOW, upper[2] - BEHIND_LIP])

        self.root = pivot.attach_new_node("mouth-inside")
        low_front = front + np.array([0.0, OVERBITE, -OVERJET - TOOTH_DEPTH])
        upper_teeth = self._teeth("upper-teeth", front, UPPER_WIDTHS, UPPER_EDGES, scale, base, top=True)
        self.upper = self.root.attach_new_node(upper_teeth.node)
        self.jaw = self.root.attach_new_node("jaw")
        lower_teeth = self._teeth("lower-teeth", low_front, LOWER_WIDTHS, LOWER_EDGES, scale, base, top=False)
        tongue = self._tongue(low_front, width, base)
        self.jaw.attach_new_node(lower_teeth.node)
        self.jaw.attach_new_node(tongue.node)
        self._rim_setup(base, upper, lower, width, mid_x, head)
        self.cavity = MeshGeom("mouth-cavity", to_panda(self._cavity_points(base)), self._cavity_faces,
                               colors=self._cavity_colors, dynamic=True)
        self.parts = (upper_teeth, lower_teeth, tongue, self.cavity)
        cav = self.root.attach_new_node(self.cavity.node)
        cav.set_two_sided(True)
        for node, spec in ((self.upper, 0.35), (self.jaw, 0.25), (cav, 0.05)):
            mat = Material("mouth")  # the vertex colours are the colour; a wet sheen on teeth and tongue
            mat.set_specular((spec, spec, spec, 1))
            mat.set_shininess(40)
            node.set_material(mat)
        self.lip_rest = base[self.lip].copy()

    def _clear_of_surface(self, pts: np.ndarray, base: np.ndarray) -> np.ndarray:
        """Push points [N,3] back (along -z) until they are SURFACE_CLEARANCE behind the face, at rest and
        with each mouth control at its full (the corners of the mouth move back as the jaw drops)."""
        out = pts.copy()
        for surface in self._surfaces:
            fid, bary = front_surface(surface, self.faces, pts[:, :2])
            z = np.where(fid >= 0, (bary * surface[self.faces[np.maximum(fid, 0)]][..., 2]).sum(-1), np.inf)
            out[:, 2] = np.minimum(out[:, 2], z - SURFACE_CLEARANCE)
        return out

    def _teeth(self, name: str, front: np.ndarray, widths, edges, scale: float, base: np.ndarray, top: bool):
        cols, faces, colours = arch_mesh(front, widths, edges, scale, top)
        # Each column of the band moves back until it clears the face (the arch's ends behind the cheeks).
        shift = (self._clear_of_surface(cols.reshape(-1, 3), base)[:, 2] - cols.reshape(-1, 3)[:, 2]).reshape(-1, 4)
        cols[..., 2] += shift.min(axis=1)[:, None]
        verts = cols.reshape(-1, 3)
        inner = cols[:, 0] - 0.5 * (cols[:, 0] - cols[:, 2]) + np.array([0, (ROOT_HEIGHT / 2) * (1 if top else -1), 0])
        centre = np.repeat(inner, 4, 0)[faces[:, 0]]  # a point inside the band beside each face
        faces = _outward(verts, faces, centre)
        return MeshGeom(name, to_panda(verts), faces, colors=np.c_[colours, np.ones(len(verts))])

    def _tongue(self, low_front: np.ndarray, width: float, base: np.ndarray):
        import trimesh

        blob = trimesh.creation.icosphere(subdivisions=2, radius=1.0)
        v = np.asarray(blob.vertices) * np.array([0.45 * width, 0.0085, 0.026])
        v += low_front + np.array([0.0, -0.0025, -0.0305])  # its top a little above the lower teeth
        v = self._clear_of_surface(v, base)
        shade = np.clip(0.55 + 0.45 * (v[:, 2] - v[:, 2].min()) / max(np.ptp(v[:, 2]), 1e-6), 0, 1)
        rgb = TONGUE_RGB[None] * shade[:, None]
        # trimesh winds outwards in head axes; Panda's (x, -z, y) keeps the handedness.
        return MeshGeom("tongue", to_panda(v), np.asarray(blob.faces), colors=np.c_[rgb, np.ones(len(v))])

    def _rim_setup(self, base, upper, lower, width, mid_x, head) -> None:
        """The cavity's rim: an ellipse around the mouth, large enough for the open jaw, each point
        fastened to the face triangle in front of it."""
        drop = float(abs(head.blendshapes[expression.index("jaw_open"), head.landmark_vertices[L.LIP_LOWER_INNER], 1]))
        centre_y = 0.5 * float(upper[1] + lower[1])
        a = 0.5 * width + 0.010
        up = float(upper[1]) - centre_y + 0.010
        down = centre_y - float(lower[1]) + drop + 0.008
        phi = np.linspace(0, 2 * np.pi, 40, endpoint=False)
        ray = np.stack([a * np.cos(phi), np.where(np.sin(phi) > 0, up, down) * np.sin(phi)], 1)
        centre = np.array([mid_x, centre_y])
        # A rim point beyond the face mesh (below a short chin) comes in along its ray until it is on it.
        reach = np.ones(len(phi))
        for _ in range(12):
            fid, _ = front_surface(base, self.faces, centre + reach[:, None] * ray)
            if (fid >= 0).all():
                break
            reach = np.where(fid >= 0, reach, reach * 0.9)
        xy = centre + reach[:, None] * ray
        self._rim_fid, self._rim_bary = front_surface(base, self.faces, xy)
        self._rim_xy = xy
        self._back = np.array([mid_x, centre_y - 0.004, float(upper[2]) - CAVITY_DEPTH])
        self._jaw = np.zeros(3, np.float32)
        rings = 5
        n = len(phi)
        ids = np.arange(rings * n).reshape(rings, n)
        nxt = np.roll(ids, -1, axis=1)
        tris = []
        for k in range(rings - 1):
            tris += [np.stack([ids[k], nxt[k], nxt[k + 1]], 1), np.stack([ids[k], nxt[k + 1], ids[k + 1]], 1)]
        back_id = rings * n
        tris.append(np.stack([ids[-1], nxt[-1], np.full(n, back_id)], 1))
        self._rings = rings
        self._cavity_faces = np.concatenate(tris).astype(np.int32)
        t = np.repeat(np.linspace(0, 1, rings), n)
        rgb = CAVITY_RIM_RGB[None] * (1 - t[:, None]) + CAVITY_BACK_RGB[None] * t[:, None]
        rgb = np.concatenate([rgb, CAVITY_BACK_RGB[None]])
        self._cavity_colors = np.c_[rgb, np.ones(len(rgb))].astype(np.float32)

    def _cavity_points(self, verts: np.ndarray) -> np.ndarray:
        """Cavity vertices [K,3] (head axes) for the current face `verts` [V,3] (head axes, pivot frame)."""
        tri = verts[self.faces[np.maximum(self._rim_fid, 0)]]  # [n,3,3]
        rim = (self._rim_bary[..., None] * tri).sum(1)
        rim[:, 2] -= SURFACE_CLEARANCE
        missing = self._rim_fid < 0  # off the face mesh: a point straight behind the mouth instead
        rim[missing] = np.c_[self._rim_xy[missing], np.full(missing.sum(), self._back[2] + 0.02)]
        back = self._back + 0.5 * self._jaw  # the floor of the mouth drops with the jaw
        out = []
        for k in range(self._rings):
            s = np.sin(0.5 * np.pi * k / (self._rings - 1))
            ring = rim + (back - rim) * np.array([s ** 3, s ** 3, s])[None]  # goes back before it narrows
            out.append(ring)
        out.append(back[None])
        return np.concatenate(out)

    def colour_twice(self) -> None:
        """Square the parts' vertex colours: fixed-function GL then draws them as the software renderer does
        (see CAVITY_RIM_RGB). Only for a GL renderer without our shader (which does it itself); once."""
        for part in self.parts:
            part.data[:, 8:11] **= 2
            part.update_vertices(part.data[:, 0:3].copy(), part.data[:, 3:6].copy())

    def update(self, verts_panda: np.ndarray) -> None:
        """Follow the deformed head (`verts_panda` [V,3], Panda axes, pivot frame)."""
        verts = from_panda(verts_panda)
        # The lower teeth keep their place behind the lower lip: as much of them shows as the lip uncovers.
        jaw = np.minimum(verts[self.lip] - self.lip_rest, 0.0)  # down and back only
        jaw[0] = 0.0
        self._jaw = jaw
        self.jaw.set_pos(*to_panda(jaw))
        self.cavity.update_vertices(to_panda(self._cavity_points(verts)))
