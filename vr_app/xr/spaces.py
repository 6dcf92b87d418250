"""OpenXR poses to Panda3D transforms, and recentering.

OpenXR is right-handed with +Y up and -Z forward; Panda3D is right-handed with +Z up and
+Y forward. The change of basis is a +90 degree turn about X: (x, y, z)_xr -> (x, -z, y)_panda.
"""

from __future__ import annotations

import math

from panda3d.core import LPoint3f, LQuaternionf, TransformState

from .adapter import Pose


def xr_point(p) -> LPoint3f:
    x, y, z = p
    return LPoint3f(x, -z, y)


def xr_quat(q) -> LQuaternionf:
    """The same rotation expressed in Panda3D axes (vector part transformed like a point)."""
    x, y, z, w = q
    return LQuaternionf(w, x, -z, y)


def pose_to_transform(pose: Pose) -> TransformState:
    return TransformState.make_pos_quat_scale(xr_point(pose.position), xr_quat(pose.orientation), (1, 1, 1))


def yaw_of(pose: Pose) -> float:
    """Heading in degrees around the vertical axis (Panda3D H), ignoring pitch and roll."""
    forward = xr_quat(pose.orientation).get_forward()
    return math.degrees(math.atan2(-forward.x, forward.y))


def recenter_transform(head: Pose, seated: bool = True) -> TransformState:
    """The transform for the tracking-origin node that puts the current head at the scene's
    viewpoint facing +Y. Only yaw and horizontal position are undone: tilting the world would
    make people sick, and a standing user's floor height stays true."""
    heading = yaw_of(head)
    pos = xr_point(head.position)
    undo_yaw = TransformState.make_hpr((-heading, 0, 0))
    undo_pos = TransformState.make_pos((-pos.x, -pos.y, -pos.z if seated else 0.0))
    return undo_yaw.compose(undo_pos)
