"""The 2D overlay (the 'AI-generated likeness' label, subtitles, the intro card) shown in the
headset: a headset has no screen-space 2D layer, so the overlay root is rendered into a
texture and shown on a world-locked panel in front of the seat. World-locked, not
head-locked: text glued to the face is uncomfortable and hard to read."""

from __future__ import annotations

from panda3d.core import (BitMask32, Camera, CardMaker, FrameBufferProperties, GraphicsOutput, GraphicsPipe,
                          NodePath, OrthographicLens, Texture, TransparencyAttrib, WindowProperties)


class OverlayPanel:
    def __init__(self, engine, host, overlay_root: NodePath, parent: NodePath, aspect: float = 16 / 9,
                 texture_size=(1024, 512), distance: float = 1.6, width: float = 1.4, drop: float = 0.15):
        """aspect: the overlay's own width/height (its x runs -aspect..aspect). The texture is a
        power of two (software rendering needs it) and is stretched back by the panel's shape."""
        self.engine = engine
        w, h = texture_size
        fb = FrameBufferProperties()
        fb.set_rgba_bits(8, 8, 8, 8)
        self.buffer = engine.make_output(host.get_pipe(), "xr-overlay", -30, fb, WindowProperties.size(w, h),
                                         GraphicsPipe.BF_refuse_window, host.get_gsg(), host)
        if self.buffer is None:
            raise RuntimeError("could not create the overlay buffer")
        self.texture = Texture("xr-overlay")
        self.buffer.add_render_texture(self.texture, GraphicsOutput.RTM_bind_or_copy)
        self.buffer.set_clear_color((0, 0, 0, 0))  # transparent where the overlay draws nothing
        lens = OrthographicLens()
        lens.set_film_size(2 * aspect, 2)
        lens.set_near_far(-100, 100)
        overlay_root.set_depth_test(False)  # as ShowBase's render2d: 2D draws in bin order
        overlay_root.set_depth_write(False)
        cam_np = overlay_root.attach_new_node(Camera("xr-overlay-cam", lens))  # aspect2d lies in X-Z; looks +Y
        self.buffer.make_display_region().set_camera(cam_np)
        maker = CardMaker("xr-overlay-panel")
        maker.set_frame(-width / 2, width / 2, -width / (2 * aspect), width / (2 * aspect))
        self.panel = parent.attach_new_node(maker.generate())
        self.panel.set_pos(0, distance, -drop)
        self.panel.set_texture(self.texture)
        self.panel.set_transparency(TransparencyAttrib.M_alpha)
        self.panel.set_light_off(1)
        self.panel.set_bin("fixed", 90)
        self.panel.set_depth_test(False)
        self.panel.set_depth_write(False)
        self.panel.set_collide_mask(BitMask32.all_off())

    def close(self) -> None:
        self.panel.remove_node()
        self.engine.remove_window(self.buffer)
