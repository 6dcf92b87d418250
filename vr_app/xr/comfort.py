"""Comfort rules: seated by default, no artificial smooth motion, teleport only when standing,
a gentle fade on pause, and a frame-time governor that gives up detail before frames."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from panda3d.core import BitMask32, CardMaker, LPoint3f, NodePath, TransparencyAttrib

from .anchors import XrAnchors
from .events import EventHub, XrEvent


@dataclass
class ComfortConfig:
    standing: bool = False       # seated by default: LOCAL space, no teleport
    fade_alpha: float = 0.6      # how far the view dims on pause (the room stays visible)
    fade_seconds: float = 0.4
    room_half_extent: float = 4.0  # teleport targets must lie within this square (metres)


class Fader:
    """A dark card just beyond each eye's near plane; its alpha eases toward the target."""

    def __init__(self, eye_cameras: list[NodePath], config: ComfortConfig):
        self.config = config
        self.level = 0.0
        self.target = 0.0
        self.cards: list[NodePath] = []
        for cam in eye_cameras:
            maker = CardMaker("xr-fade")
            maker.set_frame(-2, 2, -2, 2)
            card = cam.attach_new_node(maker.generate())
            card.set_pos(0, 0.1, 0)
            card.set_color(0.0, 0.0, 0.0, 0.0)
            card.set_transparency(TransparencyAttrib.M_alpha)
            card.set_bin("fixed", 100)
            card.set_depth_test(False)
            card.set_depth_write(False)
            card.set_light_off(1)
            card.set_collide_mask(BitMask32.all_off())  # pointer rays pass through it
            card.hide()
            self.cards.append(card)

    def fade_to(self, target: float) -> None:
        self.target = max(0.0, min(1.0, target))

    def update(self, dt: float) -> None:
        if self.level == self.target:
            return  # the usual frame: nothing fading, leave the cards' render state alone
        step = dt / self.config.fade_seconds if self.config.fade_seconds > 0 else 1.0
        if self.level < self.target:
            self.level = min(self.target, self.level + step)
        else:
            self.level = max(self.target, self.level - step)
        for card in self.cards:
            card.set_color(0.0, 0.0, 0.0, self.level)
            if self.level > 0.0:
                card.show()
            else:
                card.hide()


class FrameGovernor:
    """Keeps CPU frame time under the display period by lowering a detail level (0 = full).
    Scene code listens for 'detail' events and, for instance, drops shadows, MSAA, or the eye
    buffer scale. Steps down quickly (over budget for a few frames), up slowly (well under
    budget for about a second), so it does not oscillate."""

    def __init__(self, hub: EventHub, max_level: int = 3, down_frames: int = 5, up_frames: int = 90):
        self.hub, self.max_level = hub, max_level
        self.down_frames, self.up_frames = down_frames, up_frames
        self.level = 0
        self.recent: deque[float] = deque(maxlen=max(down_frames, up_frames))

    def update(self, frame_ms: float, budget_ms: float) -> int:
        self.recent.append(frame_ms)
        last = list(self.recent)
        new = self.level
        if len(last) >= self.down_frames and min(last[-self.down_frames:]) > 0.85 * budget_ms:
            new = min(self.max_level, self.level + 1)
        elif len(last) >= self.up_frames and max(last[-self.up_frames:]) < 0.6 * budget_ms:
            new = max(0, self.level - 1)
        if new != self.level:
            self.level = new
            self.recent.clear()
            self.hub.emit(XrEvent("detail", value=new))
        return self.level


class Comfort:
    """Pause / resume fades and the teleport rule. There is deliberately no smooth locomotion:
    the only things that move the view are the user's head and an explicit teleport."""

    def __init__(self, anchors: XrAnchors, scene: NodePath, fader: Fader, hub: EventHub, config: ComfortConfig):
        self.anchors, self.scene, self.fader, self.hub, self.config = anchors, scene, fader, hub, config
        self.paused = False

    def set_paused(self, paused: bool, reason: str = "user") -> None:
        if paused == self.paused:
            return
        self.paused = paused
        self.fader.fade_to(self.config.fade_alpha if paused else 0.0)
        self.hub.emit(XrEvent("pause" if paused else "resume", value=reason))

    def teleport(self, point: LPoint3f) -> bool:
        """Move a standing user so their head is above `point` (scene space). Refused when seated
        or outside the room; returns whether it moved."""
        if not self.config.standing:
            return False
        if max(abs(point.x), abs(point.y)) > self.config.room_half_extent:
            return False
        head = self.anchors.head.get_pos(self.scene)
        origin = self.anchors.origin.get_pos(self.scene)
        self.anchors.origin.set_pos(self.scene, origin.x + point.x - head.x, origin.y + point.y - head.y, origin.z)
        return True
