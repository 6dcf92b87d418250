"""The shared room drawn in Panda3D: the single-user memorial scene (likeness and label),
the other members as labelled avatars (head + hands), and the room's candles and notes.

`RoomView` only reads a `RoomClient` (its mirrored state, presence and interpolated
poses) and writes scene nodes; networking stays in the client, drawing stays here.
"""

from __future__ import annotations

import colorsys

import numpy as np
import trimesh
from panda3d.core import NodePath, Quat, TextNode

from scenes.build import build_scene
from scenes.spec import SceneSpec

from scenes.geom import trimesh_geom
from ..stage import Stage
from ..xr.interaction import SELECTABLE

HAND_OFFSETS = ((-0.22, 0.30, -0.38), (0.22, 0.30, -0.38))  # desktop hands relative to the head (x right, y fwd, z up)
NOTE_COLOR = (0.95, 0.92, 0.82)


def member_color(slot: int) -> tuple[float, float, float]:
    """A saturated colour per presence slot, so members are told apart at a glance."""
    return colorsys.hsv_to_rgb((0.5 + 0.37 * slot) % 1.0, 0.7, 0.9)


def _unlit(node: NodePath) -> None:
    """Own colour, no lighting: off both the fixed-function lights and the room's GLSL (vr_app/shading.py
    switches its shader off only for nodes that existed when the scene was built)."""
    node.set_light_off(1)
    node.set_shader_off(1)


def pose_to_nodes(pose, head: NodePath, hands: tuple[NodePath, NodePath]) -> None:
    """Protocol pose (3 x position + quaternion xyzw) onto three nodes in the room's frame."""
    for node, base in ((head, 0), (hands[0], 7), (hands[1], 14)):
        x, y, z, qx, qy, qz, qw = pose[base:base + 7]
        node.set_pos(x, y, z)
        node.set_quat(Quat(qw, qx, qy, qz))


def node_pose(node: NodePath, relative_to: NodePath) -> list[float]:
    pos, q = node.get_pos(relative_to), node.get_quat(relative_to)
    return [pos.x, pos.y, pos.z, q.get_i(), q.get_j(), q.get_k(), q.get_r()]


class Avatar:
    """A member as a head, two hands and a name above the head."""

    def __init__(self, parent: NodePath, member: str, slot: int, device: str):
        color = member_color(slot)
        self.root = parent.attach_new_node(f"avatar-{member}")
        self.head = self.root.attach_new_node(trimesh_geom("head", trimesh.creation.icosphere(2, radius=0.12), color))
        visor = self.head.attach_new_node(trimesh_geom("visor", trimesh.creation.box((0.16, 0.05, 0.06)), (0.1, 0.1, 0.12)))
        visor.set_pos(0, 0.1, 0.02)  # shows which way the member looks
        hand_mesh = trimesh.creation.box((0.07, 0.11, 0.035))
        self.hands = tuple(self.root.attach_new_node(trimesh_geom(f"hand{i}", hand_mesh, color)) for i in range(2))
        text = TextNode(f"label-{member}")
        text.set_text(member + (" (headset)" if device == "headset" else ""))
        text.set_align(TextNode.A_center)
        text.set_text_color(1, 1, 1, 1)
        text.set_card_color(0, 0, 0, 0.55)
        text.set_card_as_margin(0.2, 0.2, 0.1, 0.1)
        self.label = self.head.attach_new_node(text)
        self.label.set_scale(0.07)
        self.label.set_pos(0, 0, 0.2)
        self.label.set_billboard_point_eye()
        _unlit(self.label)
        self.label.set_depth_write(False)
        self.slot = slot

    def show(self, pose) -> None:
        if pose is None:
            self.root.hide()
            return
        self.root.show()
        pose_to_nodes(pose, self.head, self.hands)

    def remove(self) -> None:
        self.root.remove_node()


def _item_node(parent: NodePath, item) -> NodePath:
    root = parent.attach_new_node(f"item-{item.id}")
    root.set_pos(*item.position)
    root.set_tag(SELECTABLE, item.id)  # a headset's trigger on it acts on this item
    if item.kind == "candle":
        root.attach_new_node(trimesh_geom("wax", trimesh.creation.cylinder(0.03, 0.12), (0.95, 0.93, 0.86))).set_z(0.06)
        flame = root.attach_new_node(trimesh_geom("flame", trimesh.creation.icosphere(1, radius=0.018), (1.0, 0.75, 0.3)))
        flame.set_pos(0, 0, 0.14)
        flame.set_scale(1, 1, 1.8)
        _unlit(flame)
        flame.set_name("flame")
    else:
        card = root.attach_new_node(trimesh_geom(item.kind, trimesh.creation.box((0.2, 0.01, 0.14)),
                                                 NOTE_COLOR if item.kind == "note" else (0.25, 0.2, 0.15)))
        text = TextNode("text")
        text.set_text(item.text if item.kind == "note" else "photo")
        text.set_wordwrap(12)
        text.set_align(TextNode.A_center)
        text.set_text_color(0.15, 0.12, 0.1, 1) if item.kind == "note" else text.set_text_color(1, 1, 1, 1)
        words = card.attach_new_node(text)
        words.set_scale(0.014)
        words.set_pos(0, -0.006, 0.04)
        _unlit(words)
    return root


def _show_photo(node: NodePath, rgb: np.ndarray) -> None:
    """Put the photo (RGB [h,w,3]) on its card, in front of the placeholder, at its own aspect."""
    from scenes.geom import MeshGeom
    from scenes.panda_textures import make_texture

    h, w = rgb.shape[:2]
    width = 0.2 if w >= h else 0.14 * w / h
    half_w, half_h = width / 2, width * h / w / 2
    corners = np.array([[-half_w, 0, -half_h], [half_w, 0, -half_h], [half_w, 0, half_h], [-half_w, 0, half_h]], np.float32)
    uvs = np.array([[0, 0], [1, 0], [1, 1], [0, 1]], np.float32)
    normals = np.tile(np.array([0, -1, 0], np.float32), (4, 1))  # faces -y, like the note's text
    quad = node.attach_new_node(MeshGeom("photo-image", corners, np.array([[0, 1, 2], [0, 2, 3]]), uvs=uvs,
                                         normals=normals).node)
    quad.set_y(-0.007)
    quad.set_texture(make_texture(rgb, "photo"))
    _unlit(quad)
    text = node.find("**/text")
    if not text.is_empty():
        text.hide()


class RoomView:
    """Build once on a Stage; call `update(t)` every frame."""

    def __init__(self, stage: Stage, client, spec: SceneSpec, likeness=None, audio=None):
        self.stage, self.client = stage, client
        self.audio = audio  # a vr_app.audio.SpatialAudio when the display has sound: the line's voice at the mouth
        self._voice_started = False
        self.scene = None
        if likeness is not None:
            from assets.artifacts import HeadModel

            from ..scene import MemorialScene
            from scenes.panda_textures import TextureStream

            title, head, texture = likeness
            self.scene = MemorialScene(stage, spec, HeadModel.from_bytes(head), TextureStream(np.array(texture), 1.0),
                                       None, None, title=title, intro_s=0.0)
            self.room = self.scene.room
        else:
            self.room = build_scene(spec, stage.render, None)
            self.room.place_camera(stage.camera, stage.lens)
        self.avatars: dict[str, Avatar] = {}
        self.line_name: str | None = None  # the line the likeness is set to
        self.items: dict[str, tuple[NodePath, bool]] = {}  # id -> (node, photo image shown)
        self.head = stage.camera  # where this member's head is; a headset replaces it with its anchors
        self.hands = [stage.camera.attach_new_node(f"my-hand{i}") for i in range(2)]
        for hand, offset in zip(self.hands, HAND_OFFSETS):
            hand.set_pos(*offset)

    def follow_headset(self, head: NodePath, left: NodePath, right: NodePath) -> None:
        """Send the tracked head and controllers instead of the desktop camera and its fixed hands."""
        self.head, self.hands = head, [left, right]

    def update(self, t: float) -> None:
        if self.scene is not None:
            self.scene.update(self._line_time(t))
        else:
            self.room.update(t)
        self._sync_avatars()
        self._sync_items()

    def _line_time(self, t: float) -> float:
        """Scene time: the scheduled line's own time on the server clock (so every member, late
        joiners included, sees the same moment of it), else the idle clock `t` before any line."""
        line = self.client.state.line
        data = self.client.tracks.get(line.track) if line else None
        if data is None:
            return t if self.line_name is None else 0.0
        if self.line_name != line.track:
            from assets.artifacts import ExpressionTrack

            track = ExpressionTrack.from_bytes(data)
            self.scene.set_track(track)
            self.line_name = line.track
            self._voice_started = False
            if self.audio is not None and track.audio is not None:
                self.audio.set_voice(track.audio, track.sample_rate, self.scene.rig.mouth)
        now = line.paused_at if line.paused_at is not None else self.client.server_now()
        t = min(max(now - line.start_at, 0.0), self.scene.timeline.total)
        self._voice(line, now - line.start_at)
        return t

    def _voice(self, line, since_start: float) -> None:
        """The line's voice starts when the server clock reaches it (late joiners: that far in), pauses with it."""
        if self.audio is None or self.audio.voice is None:
            return
        if line.paused_at is not None:
            if self._voice_started:
                self.audio.pause_voice()
                self._voice_started = False
        elif not self._voice_started and 0.0 <= since_start < self.scene.timeline.body_s:
            self.audio.play_voice(since_start)
            self._voice_started = True

    def _sync_avatars(self) -> None:
        present = {m: info for m, info in self.client.presence.items() if m != self.client.member
                   and info["role"] != "viewer"}
        for member in [m for m in self.avatars if m not in present or self.avatars[m].slot != present[m]["slot"]]:
            self.avatars.pop(member).remove()
        for member, info in present.items():
            avatar = self.avatars.get(member)
            if avatar is None:
                avatar = self.avatars[member] = Avatar(self.room.root, member, info["slot"], info["device"])
            avatar.show(self.client.remote_pose(info["slot"]))

    def _sync_items(self) -> None:
        items = self.client.state.items
        for item_id in [i for i in self.items if i not in items]:
            self.items.pop(item_id)[0].remove_node()
        for item_id, item in items.items():
            known = self.items.get(item_id)
            if known is None:
                known = self.items[item_id] = (_item_node(self.room.root, item), False)
            if item.kind == "photo" and not known[1] and item.photo in self.client.photos:
                _show_photo(known[0], self.client.photos[item.photo])
                self.items[item_id] = known = (known[0], True)
            flame = known[0].find("**/flame")
            if not flame.is_empty():
                flame.show() if item.lit else flame.hide()

    def spot_ahead(self, distance: float) -> list[float]:
        """A point on the floor `distance` metres ahead of this member's gaze, inside the room's bounds."""
        from .protocol import ROOM_BOUNDS

        render = self.stage.render
        pos = self.head.get_pos(render)
        forward = render.get_relative_vector(self.head, (0, 1, 0))
        forward.z = 0
        if forward.length() > 1e-6:
            forward.normalize()
        limit = ROOM_BOUNDS - 0.5
        return [float(np.clip(pos.x + distance * forward.x, -limit, limit)),
                float(np.clip(pos.y + distance * forward.y, -limit, limit)), 0.0]

    def own_pose(self) -> tuple[float, ...]:
        """This member's head (the camera) and hands in the room's frame, for the pose plane."""
        render = self.stage.render
        return tuple(node_pose(self.head, render) + node_pose(self.hands[0], render) + node_pose(self.hands[1], render))
