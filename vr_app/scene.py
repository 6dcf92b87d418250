"""One memorial scene for every display: the room, the bust, the overlay and one timeline.

Timeline: an intro card for `intro_s` seconds, then the person (track time 0), then a
short rest. `update(t)` takes timeline seconds; the rig sees t - intro_s.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
from panda3d.core import Point2, Point3

from assets.artifacts import ExpressionTrack, HeadModel
from scenes.build import build_scene
from scenes.panda_textures import TextureStream
from scenes.spec import SceneSpec

from . import shading
from .overlay import Overlay
from .rig import HeadRig
from .stage import Stage
from .subtitles import cues, text_at
from .xr.scene_api import XrSceneDefaults

INTRO_FADE = 0.6  # seconds the intro card takes to fade out


@dataclass
class Timeline:
    intro_s: float = 2.0
    body_s: float = 0.0  # the track's duration
    tail_s: float = 0.5

    @property
    def total(self) -> float:
        return self.intro_s + self.body_s + self.tail_s


class MemorialScene(XrSceneDefaults):
    """The room, the likeness and the overlay, for every display; the headset path sets `viewpoint`
    and `overlay_root` (see xr/scene_api.py)."""

    def __init__(self, stage: Stage, spec: SceneSpec, head: HeadModel, texture: TextureStream,
                 track: ExpressionTrack | None = None, photos: list[np.ndarray] | None = None,
                 title: str = "", intro_s: float = 2.0, bust=None):
        self.stage = stage
        self.room = build_scene(spec, stage.render, photos)
        parent, self.portrait = self.room.bust_anchor, None
        if spec.presentation == "portrait" and bust is not None:  # without a fitted bust: a free-standing head
            from .portrait import LivingPortrait
            from .rig import rig_origin

            self.portrait = LivingPortrait(self.room.bust_anchor, bust, rig_origin(head))
            parent, head, bust = self.portrait.photo_space, self.portrait.trim(head), self.portrait.trim(bust)
            bust = dataclasses.replace(bust, side_textures=None, shell_sides=None)  # a picture: seen from aside it stays its photo
        # A free-standing bust is lit by the room, so its face loses the capture's light; the living
        # portrait's face sits in its own photo and keeps that photo's light.
        self.rig = HeadRig(head, parent, texture, track, bust=bust, delit=self.portrait is None)
        self.shadow_camera = shading.apply(self.room, self.rig)  # GL displays; software ignores it
        self.room.place_camera(stage.camera, stage.lens)
        self.viewer = stage.camera  # where the bust is seen from (its face shows the side seen); a headset's head
        self.overlay = Overlay(stage.aspect2d, stage.aspect, title, stage.size[1])
        self.track = track
        self.cues = cues(track)
        self.timeline = Timeline(intro_s=intro_s, body_s=track.duration if track else 0.0)
        self.update(0.0)

    def set_track(self, track: ExpressionTrack | None, texture: TextureStream | None = None) -> None:
        """Switch to another line (the viewer's 'next line')."""
        self.track = track
        self.rig.track = track
        if texture is not None:
            self.rig.set_stream(texture)
        self.cues = cues(track)
        self.timeline.body_s = track.duration if track else 0.0

    def update(self, t: float) -> None:
        tp = t - self.timeline.intro_s
        self.room.update(t)
        self.rig.set_viewer(self.viewer)
        self.rig.update(max(tp, 0.0))
        fade = (self.timeline.intro_s - t) / INTRO_FADE if self.timeline.intro_s > 0 else 0.0
        self.overlay.set_intro(float(np.clip(fade, 0, 1)))
        self.overlay.set_subtitle(text_at(self.cues, tp) if tp >= 0 else "")

    def face_box(self) -> tuple[int, int, int, int]:
        """The head's screen rectangle in pixels (x0, y0, x1, y1), top-left origin, clipped to the image."""
        w, h = self.stage.size
        xs, ys = [], []
        for corner in self.rig.face_points():
            p = self.stage.camera.get_relative_point(self.rig.root, Point3(*corner))
            film = Point2()
            if self.stage.lens.project(p, film):
                xs.append((film.x + 1) / 2 * w)
                ys.append((1 - film.y) / 2 * h)
        if not xs:
            return (0, 0, 0, 0)
        x0, x1 = int(np.clip(min(xs), 0, w)), int(np.clip(max(xs), 0, w))
        y0, y1 = int(np.clip(min(ys), 0, h)), int(np.clip(max(ys), 0, h))
        return (x0, y0, x1, y1)

    def mouth_relative_to_camera(self) -> np.ndarray:
        """Mouth position in the camera's frame (x right, y forward, z up), metres [3]."""
        p = self.rig.mouth.get_pos(self.stage.camera)
        return np.array([p.x, p.y, p.z], np.float32)
