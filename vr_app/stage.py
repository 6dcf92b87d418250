"""The scene roots and cameras that scene code draws into, passed explicitly (no builtins)."""

from __future__ import annotations

from dataclasses import dataclass

from panda3d.core import NodePath, PerspectiveLens

# Clip range of every 3D view (window, offscreen, headset eyes), metres. The visitor sits 0.9 m
# from the face: a near plane past that (ShowBase's default is 1 m) cuts the face off and leaves
# the inside of the back of the head in view.
NEAR = 0.05
FAR = 100.0


@dataclass
class Stage:
    render: NodePath  # 3D scene root
    aspect2d: NodePath  # 2D overlay root, x in -aspect..aspect, y in -1..1
    camera: NodePath  # the visitor's eyes; parent of the lens
    lens: PerspectiveLens
    size: tuple[int, int]  # (width, height) in pixels

    @property
    def aspect(self) -> float:
        return self.size[0] / self.size[1]
