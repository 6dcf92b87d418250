"""Applies a session's ClientView to a MemorialScene, the same way on every display (desktop
window or headset): the neutral room, where the likeness stands, dimming, the centred message,
subtitles for authored lines, and the label shown every frame."""

from __future__ import annotations

import numpy as np
import trimesh
from panda3d.core import CardMaker, TextNode, Texture, TransparencyAttrib

from scenes.geom import MeshGeom
from .controller import ClientView

NEUTRAL_RGB = (0.78, 0.78, 0.76)  # a plain, light, empty room
FAR_M = 1.6  # how much farther away the likeness stands in a 'far' step (in front of the rooms' back walls)
NEUTRAL_RADIUS = 40.0


WORLD_DIM_RADIUS = 1.0  # metres around the seat: the head stays inside it


def _inside_sphere(name: str, radius: float, rgba) -> MeshGeom:
    m = trimesh.creation.icosphere(subdivisions=2, radius=radius)
    v = np.asarray(m.vertices, np.float32)
    return MeshGeom(name, v, np.asarray(m.faces)[:, ::-1], colors=np.tile(np.array(rgba, np.float32), (len(v), 1)))


def _disc_texture(size: int = 128):
    """A round, soft-edged white disc (alpha falls off at the rim)."""
    y, x = np.mgrid[-1:1:size * 1j, -1:1:size * 1j]
    alpha = (np.clip((1.0 - np.hypot(x, y)) * 6, 0, 1) * 255).astype(np.uint8)
    bgra = np.dstack([np.full((size, size, 3), 255, np.uint8), alpha])  # Panda3D stores BGRA; white is symmetric
    tex = Texture("session-breath")
    tex.setup_2d_texture(size, size, Texture.T_unsigned_byte, Texture.F_rgba8)
    tex.set_ram_image(np.ascontiguousarray(bgra).tobytes())
    return tex


def _heading(pos, look) -> float:
    """Panda3D heading (degrees) of looking from `pos` towards `look` (forward is +y)."""
    return float(np.degrees(np.arctan2(-(look[0] - pos[0]), look[1] - pos[1])))


def build_safe_room(spec, main_spec, render):
    """The plan's calm room for grounding, placed so its seat and view direction coincide with the
    memorial room's (the visitor does not move; only the room around them changes). Hidden."""
    from scenes.build import build_scene

    room = build_scene(spec, render)
    room.root.set_h(_heading(main_spec.camera_pos, main_spec.camera_look_at) -
                    _heading(spec.camera_pos, spec.camera_look_at))
    seat = render.get_relative_point(room.root, tuple(spec.camera_pos))
    room.root.set_pos(room.root.get_pos() + tuple(np.asarray(main_spec.camera_pos) - np.asarray(seat)))
    room.root.hide()
    return room


class RoomView:
    """`dim_around`: in a headset the overlay is a panel, not the whole view, so dimming there is a
    dark sphere around this node (the seat), drawn over the world but under the label's panel.
    `safe_spec`: the plan's grounding room when it is not the memorial room itself."""

    def __init__(self, scene, dim_around=None, safe_spec=None):
        self.scene = scene
        self.safe = None
        if safe_spec is not None and safe_spec.name != scene.room.spec.name:
            self.safe = build_safe_room(safe_spec, scene.room.spec, scene.stage.render)
        # What comes and goes: the free-standing bust, or the whole easel of a living portrait.
        portrait = getattr(scene, "portrait", None)
        self.likeness = portrait.root if portrait is not None else scene.rig.root
        self.bust_home = self.likeness.get_pos()
        # 'Far' is further along the visitor's line of sight, level with home (in the parent's frame).
        parent = self.likeness.get_parent()
        away = self.bust_home - parent.get_relative_point(scene.stage.camera, (0, 0, 0))
        away.z = 0
        self.far_pos = self.bust_home + away.normalized() * FAR_M if away.length() > 1e-6 else self.bust_home
        # The neutral room: a plain sphere around everything, shown when the room is hidden.
        self.neutral = scene.stage.render.attach_new_node(
            _inside_sphere("neutral-room", NEUTRAL_RADIUS, (*NEUTRAL_RGB, 1)).node)
        self.neutral.set_light_off(1)
        self.neutral.set_pos(scene.room.root.get_pos(scene.stage.render))
        self.neutral.hide()
        aspect = scene.stage.aspect
        cm = CardMaker("session-dim")
        cm.set_frame(-aspect, aspect, -1, 1)
        self.dim = scene.overlay.root.attach_new_node(cm.generate())
        self.dim.set_color(0, 0, 0, 1)
        self.dim.set_transparency(TransparencyAttrib.M_alpha)
        self.dim.set_bin("fixed", 90)  # under the label (bin 100): the label stays readable
        self.dim.hide()
        self.world_dim = None
        if dim_around is not None:
            self.world_dim = dim_around.attach_new_node(_inside_sphere("session-world-dim", WORLD_DIM_RADIUS,
                                                                       (0, 0, 0, 1)).node)
            self.world_dim.set_light_off(1)
            self.world_dim.set_transparency(TransparencyAttrib.M_alpha)
            self.world_dim.set_bin("fixed", 80)  # the headset's label panel draws at 90, over it
            self.world_dim.set_depth_test(False)
            self.world_dim.set_depth_write(False)
            self.world_dim.hide()
        # The breathing cue: a soft disc that grows on the in-breath and shrinks on the out-breath.
        cue = CardMaker("session-breath")
        cue.set_frame(-1, 1, -1, 1)
        self.breath = scene.overlay.root.attach_new_node(cue.generate())
        self.breath.set_texture(_disc_texture())
        self.breath.set_transparency(TransparencyAttrib.M_alpha)
        self.breath.set_color(0.85, 0.92, 1.0, 0.55)
        self.breath.set_pos(0, 0, 0.1)
        self.breath.set_bin("fixed", 92)
        self.breath.hide()
        self.text = TextNode("session-message")
        self.text.set_align(TextNode.A_center)
        self.text.set_wordwrap(26)
        self.text_np = scene.overlay.root.attach_new_node(self.text)
        self.text_np.set_scale(0.07)
        self.text_np.set_pos(0, 0, 0.75)
        self.text_np.set_bin("fixed", 95)
        self._shown: tuple | None = None  # the message and colour last set on self.text
        scene.timeline.intro_s = 0.0  # the therapist frames the session; the label stays on screen
        scene.update(0.0)

    def apply(self, view: ClientView, prompt: str = "") -> None:
        scene = self.scene
        neutral = view.room == "neutral"
        in_safe = view.room == "safe" and self.safe is not None
        if neutral or in_safe:
            scene.room.root.hide()
        else:
            scene.room.root.show()
        self.neutral.show() if neutral else self.neutral.hide()
        if self.safe is not None:
            self.safe.root.show() if in_safe else self.safe.root.hide()
        node = self.likeness
        if view.likeness == "none":
            node.hide()
        else:
            node.show()
            node.set_pos(self.far_pos if view.likeness == "far" else self.bust_home)
        for card in (self.dim, self.world_dim):
            if card is None:
                continue
            if view.dim > 0:
                card.show()
                card.set_alpha_scale(view.dim)
            else:
                card.hide()
        if view.mode == "grounding":
            self.breath.show()
            self.breath.set_scale(0.12 + 0.28 * view.breath)
        else:
            self.breath.hide()
        message = view.message + prompt
        colour = (0.12, 0.12, 0.12, 1) if neutral and view.dim < 0.5 else (1, 1, 1, 1)
        if (message, colour) != self._shown:  # a TextNode rebuilds its geometry on every set: only on change
            self._shown = (message, colour)
            self.text.set_text(message)
            self.text.set_text_color(*colour)
        if not view.line:
            scene.overlay.set_subtitle("")  # nothing is said: no words stay on screen after a stop
        elif not view.track:
            scene.overlay.set_subtitle(view.line)  # an authored line without a recording: words only
        scene.overlay.label_np.show()

    def gaze(self, view: ClientView) -> str:
        """'likeness' when the head is within 15 degrees of the view's centre, else 'room'."""
        if view.likeness == "none":
            return "room"
        p = self.scene.stage.camera.get_relative_point(self.scene.rig.root, (0, 0, 0))
        angle = np.degrees(np.arctan2(np.hypot(p.x, p.z), max(p.y, 1e-6)))
        return "likeness" if angle < 15 else "room"
