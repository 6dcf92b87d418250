"""Offscreen rendering without a window: software (p3tinydisplay) or GL through EGL (p3headlessgl).

No ShowBase and no builtins: this module owns its GraphicsEngine, buffer, cameras and
scene roots and hands them to the scene code as a `Stage`; the desktop viewer builds the
same `Stage` from its window, so the room has one code path for every display.
"""

from __future__ import annotations

import numpy as np
from panda3d.core import (Camera, FrameBufferProperties, GraphicsEngine, GraphicsOutput, GraphicsPipe,
                          GraphicsPipeSelection, NodePath, loadPrcFileData, OrthographicLens, PerspectiveLens, Texture,
                          WindowProperties)

from scenes.camera import FAR, NEAR

from .errors import RenderError
from .stage import Stage, ask_for_multisampling

BACKENDS = {"software": "p3tinydisplay", "gl": "p3headlessgl"}


class OffscreenRenderer:
    """An offscreen buffer of `size` (w, h); `frame()` renders and returns RGB uint8 [H,W,3], top row first."""

    def __init__(self, size: tuple[int, int], backend: str = "software", fov: float = 55.0, multisample: int = 0):
        if backend not in BACKENDS:
            raise RenderError(f"unknown render backend {backend!r} (choose from {', '.join(BACKENDS)})")
        w, h = size
        self.size = (int(w), int(h))
        if w < 16 or h < 16 or w > 8192 or h > 8192:
            raise RenderError(f"offscreen size {w}x{h} is out of range (16..8192 pixels a side)")
        # The software pipe probes X11 first and logs an error when there is none; that is expected here.
        loadPrcFileData("memorial-offscreen", "notify-level-x11display fatal\nnotify-level-glxdisplay fatal")
        self.pipe = GraphicsPipeSelection.get_global_ptr().make_module_pipe(BACKENDS[backend])
        if self.pipe is None:
            raise RenderError(f"the {backend} render backend ({BACKENDS[backend]}) could not be loaded")
        self.engine = GraphicsEngine(self.pipe)
        # The frame is drawn into a framebuffer object owned by a tiny host, never into the host's
        # EGL pbuffer itself: drivers disagree on a pbuffer's default draw/read buffers (Mesa gives it a
        # back buffer, others need not), while an FBO's colour attachment behaves alike everywhere.
        host_fb = FrameBufferProperties()
        host_fb.set_rgb_color(True)
        self.host = self.engine.make_output(self.pipe, "memorial-offscreen-host", -100, host_fb,
                                            WindowProperties.size(16, 16), GraphicsPipe.BF_refuse_window)
        if self.host is None:
            raise RenderError(f"could not create an offscreen context with the {backend} backend")
        self.host.set_active(False)  # it only carries the GL context
        fb = FrameBufferProperties()
        fb.set_rgb_color(True)
        fb.set_color_bits(24)
        fb.set_depth_bits(24)
        if multisample:
            fb.set_multisamples(multisample)
        self.buffer = self.engine.make_output(self.pipe, "memorial-offscreen", 0, fb, WindowProperties.size(*self.size),
                                              GraphicsPipe.BF_refuse_window, self.host.get_gsg(), self.host)
        if self.buffer is None:
            raise RenderError(f"could not create a {w}x{h} offscreen buffer with the {backend} backend")
        self.buffer.set_clear_color((0.0, 0.0, 0.0, 1.0))
        self.texture = Texture("readback")
        self.buffer.add_render_texture(self.texture, GraphicsOutput.RTM_copy_ram)

        render = NodePath("render")
        lens = PerspectiveLens()
        lens.set_min_fov(fov)  # the narrower side sees `fov` degrees
        lens.set_aspect_ratio(self.size[0] / self.size[1])
        lens.set_near_far(NEAR, FAR)
        cam_node = Camera("camera", lens)
        if multisample:
            ask_for_multisampling(cam_node)
        camera = render.attach_new_node(cam_node)
        region = self.buffer.make_display_region()
        region.set_camera(camera)

        render2d = NodePath("render2d")
        render2d.set_depth_test(False)
        render2d.set_depth_write(False)
        render2d.set_two_sided(True)
        lens2d = OrthographicLens()
        lens2d.set_film_size(2, 2)
        lens2d.set_near_far(-1000, 1000)
        cam2d = render2d.attach_new_node(Camera("camera2d", lens2d))
        region2d = self.buffer.make_display_region()
        region2d.set_sort(10)
        region2d.set_clear_depth_active(True)
        region2d.set_camera(cam2d)
        aspect2d = render2d.attach_new_node("aspect2d")
        aspect2d.set_scale(self.size[1] / self.size[0], 1, 1)
        self.stage = Stage(render=render, aspect2d=aspect2d, camera=camera, lens=lens, size=self.size)
        self._render2d = render2d

    def frame(self) -> np.ndarray:
        """Render one frame and read it back, RGB uint8 [H,W,3], top row first."""
        import cv2

        self.engine.render_frame()
        tex, (w, h) = self.texture, self.size
        # Panda's own buffer (BGR or BGRA, bottom row first), viewed and turned round by OpenCV in one
        # copy each: a third of the time of get_ram_image_as("RGB") and a numpy flip, same pixels.
        nc = tex.get_num_components()
        raw = tex.get_ram_image() if tex.get_component_type() == Texture.T_unsigned_byte and nc in (3, 4) else None
        if raw is None or tex.get_ram_image_compression() != Texture.CM_off:
            raw, nc = tex.get_ram_image_as("BGR"), 3
        if not raw or len(raw) < w * h * nc:
            raise RenderError("offscreen read-back returned no image")
        img = np.frombuffer(raw, dtype=np.uint8).reshape(tex.get_y_size(), tex.get_x_size(), nc)[:h, :w]
        return cv2.flip(cv2.cvtColor(img, cv2.COLOR_BGRA2RGB if nc == 4 else cv2.COLOR_BGR2RGB), 0)  # bottom-up

    def close(self) -> None:
        self.engine.remove_all_windows()

    def __enter__(self) -> "OffscreenRenderer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
