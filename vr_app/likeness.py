"""Renders of the bust for measuring its likeness: turntable views under a plain studio light, and
the re-render from a photo's own camera (orthographic, the weak-perspective pose the head was fitted
with) for silhouette and colour comparisons against that photo."""

from __future__ import annotations

import numpy as np
from panda3d.core import AmbientLight, DirectionalLight, LMatrix4f, NodePath, OrthographicLens

from assets.artifacts import BustModel, HeadModel
from scenes.panda_textures import TextureStream

from .offscreen import OffscreenRenderer
from .portrait import photo_pose
from .rig import HeadRig

CLEAR = (1.0, 0.0, 1.0)  # magenta: no bust pixel is this colour, so the silhouette is the rest


def studio_light(render: NodePath) -> None:
    amb = AmbientLight("studio-ambient")
    amb.set_color((0.62, 0.62, 0.62, 1))
    render.set_light(render.attach_new_node(amb))
    key = DirectionalLight("studio-key")
    key.set_color((0.45, 0.44, 0.42, 1))
    np_key = render.attach_new_node(key)
    np_key.set_hpr(15, -15, 0)
    render.set_light(np_key)


class BustCamera:
    """One offscreen renderer with a bust in it (with or without its BustModel)."""

    def __init__(self, head: HeadModel, texture: np.ndarray, bust: BustModel | None, size=(512, 512),
                 backend: str = "software"):
        self.r = OffscreenRenderer(size, backend=backend, fov=30.0)
        self.stage = self.r.stage
        self.rig = HeadRig(head, self.stage.render, TextureStream(texture, 1.0), bust=bust)
        if backend != "software" and self.rig.inside is not None:  # fixed-function GL: the mouth as in software
            self.rig.inside.colour_twice()
        studio_light(self.stage.render)

    def turntable(self, yaw: float, distance: float = 0.75, height: float = -0.04, lit: bool = True) -> np.ndarray:
        """RGB [H,W,3] of the bust turned by `yaw` degrees (+ = the subject turns to their left), under
        the studio light or unlit (the textures' own, photographed light)."""
        self.r.buffer.set_clear_color((0.5, 0.5, 0.5, 1))
        self.rig.root.set_mat(LMatrix4f.ident_mat())
        self.rig.root.set_h(yaw)
        self.stage.camera.node().set_lens(self.stage.lens)
        self.stage.camera.set_pos(0, -distance, height)
        self.stage.camera.look_at(0, 0, height)
        self.rig.root.clear_light()
        if not lit:
            self.rig.root.set_light_off(1)
        self.rig.set_viewer(self.stage.camera)
        self._delight(lit)
        return self.r.frame()

    def photo_view(self, pose: np.ndarray, photo_size: tuple[int, int], lit: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """(RGB [H,W,3], silhouette [H,W] bool) of the bust seen from the camera of the photo the head was
        posed in (`pose` [6] with the photo width as frame side; `photo_size` (w, h)), unlit by default
        so the colours are the textures' own."""
        w, h = photo_size
        assert self.r.size == (w, h), (self.r.size, photo_size)
        _, s, ox, oy, m = photo_pose(pose, w, self.rig.origin)  # pixels per metre, root's image position
        self.rig.root.set_mat(m)
        lens = OrthographicLens()
        lens.set_film_size(w / s, h / s)
        lens.set_near_far(-10, 10)
        self.stage.camera.node().set_lens(lens)
        self.stage.camera.set_hpr(0, 0, 0)
        self.stage.camera.set_pos((w / 2 - ox) / s, -2.0, -(h / 2 - oy) / s)
        self.r.buffer.set_clear_color((*CLEAR, 1))
        self.rig.set_viewer(self.stage.camera)
        if lit:
            self.rig.root.clear_light()
        else:
            self.rig.root.set_light_off(1)
        self._delight(lit)
        img = self.r.frame()
        diff = np.abs(img.astype(np.int16) - np.array(CLEAR, np.int16) * 255).sum(-1)
        return img, diff > 60

    def expression(self, code: np.ndarray, texture: np.ndarray, distance: float = 0.42, lit: bool = True) -> np.ndarray:
        """RGB [H,W,3] of the face seen from the front, as the room shows it: expression `code` [E]
        (the eyeballs turned by its gaze, teeth and cavity behind the lips) and face `texture`
        [H,W,3] (a generator frame; over the bust's detailed texture when there is a bust)."""
        return self.expression_views(code, texture, (0.0,), (distance,), lit)[0]

    def expression_views(self, code: np.ndarray, texture: np.ndarray, yaws=(-1.0, -0.5, 0.0, 0.5, 1.0),
                         distances=(0.41, 0.42, 0.43), lit: bool = True) -> list[np.ndarray]:
        """`expression`'s face from each of `yaws` (degrees) at each of `distances` (metres): views a
        family member's small head movements give, for a reading steadier than one view's."""
        self.rig.set_stream(TextureStream(texture, 1.0))
        self.rig.set_code(code)
        return [self.turntable(yaw, distance=d, height=0.0, lit=lit) for yaw in yaws for d in distances]

    def _delight(self, lit: bool) -> None:
        """Lit views show the face with the capture's light taken out (as the rooms do); unlit ones the
        textures as photographed (the still: texture time 0)."""
        self.rig.set_delighting(lit)
        self.rig.set_texture_time(0.0)

    def close(self) -> None:
        self.r.close()


def iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.logical_or(a, b).sum()
    return float(np.logical_and(a, b).sum() / union) if union else 0.0


def masked_psnr_ssim(render: np.ndarray, photo: np.ndarray, mask: np.ndarray) -> tuple[float, float]:
    """PSNR (dB) and mean SSIM of two RGB images over a mask [H,W] bool."""
    from skimage.metrics import structural_similarity

    diff = render.astype(np.float64)[mask] - photo.astype(np.float64)[mask]
    mse = float(np.mean(diff ** 2)) if diff.size else 0.0
    psnr = 10 * np.log10(255.0 ** 2 / max(mse, 1e-10))
    _, full = structural_similarity(render, photo, channel_axis=2, full=True, data_range=255)
    return float(psnr), float(full.mean(-1)[mask].mean()) if mask.any() else 0.0
