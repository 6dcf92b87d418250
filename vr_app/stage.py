"""The scene roots and cameras that scene code draws into, passed explicitly (no builtins)."""

from __future__ import annotations

from dataclasses import dataclass

from panda3d.core import AntialiasAttrib, NodePath, PerspectiveLens, RenderState


def ask_for_multisampling(camera) -> None:
    """Make a camera (a Camera node) drawing into a multisampled buffer ask for multisampling: left to GL's
    default, it was lost once the key light's shadow-map pass (a buffer without samples) had run, and a 4x
    buffer drew plain pixels. On the camera, not the scene, so the software renderer's state (and pixels)
    stay as they are."""
    camera.set_initial_state(RenderState.make(AntialiasAttrib.make(AntialiasAttrib.M_multisample)))


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
