"""Anchor NodePaths that tracked poses land on. Scene code parents things to these (a label
to the head, a held photo to a hand) and never calls OpenXR.

Hierarchy: parent -> xr-origin (the recentering / teleport transform) -> head, left_eye,
right_eye, left_hand, right_hand, left_aim, right_aim. Hand anchors follow the grip pose,
aim anchors the pointing ray (+Y forward in Panda3D axes).
"""

from __future__ import annotations

from dataclasses import dataclass

from panda3d.core import NodePath, TransformState

from .adapter import Pose
from .spaces import pose_to_transform


@dataclass
class XrAnchors:
    origin: NodePath
    head: NodePath
    left_eye: NodePath
    right_eye: NodePath
    left_hand: NodePath
    right_hand: NodePath
    left_aim: NodePath
    right_aim: NodePath

    @classmethod
    def create(cls, parent: NodePath) -> "XrAnchors":
        origin = parent.attach_new_node("xr-origin")
        names = ["head", "left_eye", "right_eye", "left_hand", "right_hand", "left_aim", "right_aim"]
        nodes = {n: origin.attach_new_node(f"xr-{n.replace('_', '-')}") for n in names}
        for hand in ("left_hand", "right_hand", "left_aim", "right_aim"):
            nodes[hand].hide()  # until the controller is tracked
        return cls(origin=origin, **nodes)

    def eye(self, index: int) -> NodePath:
        return (self.left_eye, self.right_eye)[index]

    def hand(self, side: str) -> NodePath:
        return self.left_hand if side == "left" else self.right_hand

    def aim(self, side: str) -> NodePath:
        return self.left_aim if side == "left" else self.right_aim

    def set_pose(self, node: NodePath, pose: Pose | None) -> None:
        """Place a tracked node; an untracked hand is hidden rather than frozen in mid-air."""
        if pose is None:
            node.hide()
            return
        node.set_transform(pose_to_transform(pose))
        node.show()

    def set_origin(self, transform: TransformState) -> None:
        self.origin.set_transform(transform)
