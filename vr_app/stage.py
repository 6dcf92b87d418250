"""The scene roots and cameras that scene code draws into, passed explicitly (no builtins)."""

from __future__ import annotations

from dataclasses import dataclass

from panda3d.core import NodePath, PerspectiveLens


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
