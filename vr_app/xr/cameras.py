"""Per-eye cameras with the runtime's asymmetric field of view.

A PerspectiveLens with focal length 1 whose film spans [tan(left), tan(right)] x
[tan(down), tan(up)] is exactly the off-axis frustum OpenXR asks for; the film offset moves
the centre of projection off the image centre.
"""

from __future__ import annotations

import math

from panda3d.core import Camera, NodePath, PerspectiveLens

from scenes.camera import FAR, NEAR
from .adapter import Fov


def film_for_fov(fov: Fov) -> tuple[tuple[float, float], tuple[float, float]]:
    """(film size, film offset) at focal length 1 for the given XrFovf."""
    left, right = math.tan(fov.angle_left), math.tan(fov.angle_right)
    down, up = math.tan(fov.angle_down), math.tan(fov.angle_up)
    if not (right > left and up > down):
        raise ValueError(f"degenerate field of view: {fov}")
    return (right - left, up - down), ((right + left) / 2.0, (up + down) / 2.0)


def apply_fov(lens: PerspectiveLens, fov: Fov) -> None:
    size, offset = film_for_fov(fov)
    lens.set_focal_length(1.0)
    lens.set_film_size(*size)
    lens.set_film_offset(*offset)


def make_eye_lens(fov: Fov, near: float = NEAR, far: float = FAR) -> PerspectiveLens:
    lens = PerspectiveLens()
    lens.set_near_far(near, far)
    apply_fov(lens, fov)
    return lens


def make_eye_camera(name: str, parent: NodePath, fov: Fov, scene: NodePath) -> NodePath:
    """A camera under an eye anchor: it inherits the eye pose and renders `scene`."""
    cam = Camera(name, make_eye_lens(fov))
    cam.set_scene(scene)
    return parent.attach_new_node(cam)
