"""The "living portrait" presentation: the person's best photo as a relief on an easel.

The bust (head mesh + shell lifted from that photo) is turned into the pose it had in the photo
and pressed into a shallow relief in front of the photo's own background (the person painted
out), inside a wooden frame on a stand. Seen from the seat it is the photograph, and the face in
it is the animated head mesh, driven by the same track, label and voice as a free-standing bust.
Unlit: the photo already carries its light, so it looks the same in every room.
"""

from __future__ import annotations

import numpy as np
import trimesh
from panda3d.core import LMatrix4f, NodePath

from assets.artifacts import BustModel
from generation.face.pose import matrix_from_euler

from scenes.geom import MeshGeom, trimesh_geom
from scenes.panda_textures import make_texture

RELIEF_DEPTH = 0.6  # the relief keeps this fraction of the bust's depth
BACKDROP_BEHIND = 0.16  # metres behind the eyes (after pressing): just behind the back of the head
FRAME_WOOD = (0.36, 0.25, 0.15)
FRAME_BORDER = 0.045  # metres


def photo_pose(pose, width: int, origin: np.ndarray):
    """The head's pose in a photo (`pose` [6], photo width `width` as frame side) around the rig's
    root (`origin`, head coordinates): (rotation [3,3] in head axes, photo pixels per metre, the root's
    image x and y in pixels, the rotation as a Panda row-vector LMatrix4f)."""
    pose = np.asarray(pose, np.float64)
    rot = matrix_from_euler(*pose[:3])
    s = float(pose[5]) * width
    at = rot @ np.asarray(origin, np.float64)
    ox, oy = pose[3] * width + s * at[0], pose[4] * width - s * at[1]
    axes = np.array([[1, 0, 0], [0, 0, -1], [0, 1, 0]], np.float64)  # head -> Panda axes
    world = axes @ rot @ axes.T
    m = LMatrix4f(LMatrix4f.ident_mat())
    for i in range(3):
        for j in range(3):
            m.set_cell(i, j, float(world[j, i]))  # row-vector convention
    return rot, s, ox, oy, m


def _quad(name: str, x0: float, x1: float, z0: float, z1: float) -> MeshGeom:
    """A rectangle facing -Y (the visitor), UVs over the whole texture."""
    v = np.array([[x0, 0, z0], [x1, 0, z0], [x1, 0, z1], [x0, 0, z1]], np.float32)
    uv = np.array([[0, 0], [1, 0], [1, 1], [0, 1]], np.float32)
    return MeshGeom(name, v, np.array([[0, 1, 2], [0, 2, 3]]), uvs=uv,
                    normals=np.tile(np.array([0, -1, 0], np.float32), (4, 1)))


class LivingPortrait:
    """Frame, backdrop and stand under `anchor` (the subject's eye midpoint); the HeadRig goes under
    `photo_space`, which turns it into the photo's pose and presses it into a relief."""

    def __init__(self, anchor: NodePath, bust: BustModel, origin: np.ndarray):
        self.root = anchor.attach_new_node("living-portrait")
        w, h = bust.meta["photo_size"]
        origin = np.asarray(origin, np.float64)
        rot, s, ox, oy, m = photo_pose(bust.meta["photo_pose"], w, origin)
        press = self.root.attach_new_node("relief-press")
        press.set_scale(1.0, RELIEF_DEPTH, 1.0)
        self.photo_space = press.attach_new_node("photo-pose")
        self.photo_space.set_mat(m)
        self._rot = rot
        self._origin = origin

        # The photo's extent at life size around the eyes, in metres (x right, z up).
        x0, x1 = -ox / s, (w - ox) / s
        z0, z1 = -(h - oy) / s, oy / s
        self.extent = (x0, x1, z0, z1)
        back = self.root.attach_new_node(_quad("portrait-backdrop", x0, x1, z0, z1).node)
        back.set_y(BACKDROP_BEHIND)
        back.set_texture(make_texture(np.ascontiguousarray(bust.backdrop), "portrait-backdrop"))
        b = FRAME_BORDER
        frame = self.root.attach_new_node("portrait-frame")
        for name, ext, pos in (("top", (x1 - x0 + 2 * b, 0.04, b), ((x0 + x1) / 2, z1 + b / 2)),
                               ("bottom", (x1 - x0 + 2 * b, 0.04, b), ((x0 + x1) / 2, z0 - b / 2)),
                               ("left", (b, 0.04, z1 - z0), (x0 - b / 2, (z0 + z1) / 2)),
                               ("right", (b, 0.04, z1 - z0), (x1 + b / 2, (z0 + z1) / 2))):
            bar = frame.attach_new_node(trimesh_geom(f"frame-{name}", trimesh.creation.box(extents=ext),
                                                     color=(*FRAME_WOOD, 1), flat=True))
            bar.set_pos(pos[0], BACKDROP_BEHIND - 0.01, pos[1])
        self.frame = frame
        self._stand(x0, x1, z0, anchor)
        # The photo carries its own light; the wood is lit by the room like any furniture.
        back.set_light_off(1)
        press.set_light_off(1)
    def trim(self, mesh):
        """A BustModel or HeadModel without the triangles below the picture's bottom edge (a
        free-standing bust's chest and the head's neck continue down; a portrait ends at its frame)."""
        import dataclasses

        z = ((np.asarray(mesh.vertices, np.float64) - self._origin) @ self._rot.T)[:, 1]  # height in the photo, metres
        keep = np.all(z[mesh.faces] >= self.extent[2], axis=1)
        return dataclasses.replace(mesh, faces=mesh.faces[keep], meta={**mesh.meta, "framed": True})

    def _stand(self, x0: float, x1: float, z0: float, anchor: NodePath) -> None:
        """An easel: two legs from the floor to the frame and a ledge under it."""
        floor = -anchor.get_pos(anchor.get_top()).z  # the anchor's height above the room's floor
        stand = self.root.attach_new_node("portrait-stand")
        bottom = z0 - FRAME_BORDER
        leg_h = max(bottom - floor, 0.05)
        for x in (x0 + 0.06, x1 - 0.06):
            leg = stand.attach_new_node(trimesh_geom("easel-leg", trimesh.creation.box(extents=(0.035, 0.035, leg_h + 0.3)),
                                                     color=(*FRAME_WOOD, 1), flat=True))
            leg.set_pos(x, BACKDROP_BEHIND + 0.04, floor + (leg_h + 0.3) / 2)
        ledge = stand.attach_new_node(trimesh_geom("easel-ledge", trimesh.creation.box(extents=(x1 - x0 + 0.12, 0.07, 0.03)),
                                                   color=(*FRAME_WOOD, 1), flat=True))
        ledge.set_pos((x0 + x1) / 2, BACKDROP_BEHIND - 0.02, bottom - 0.015)
        self.stand = stand
