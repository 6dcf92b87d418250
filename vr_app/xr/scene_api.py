"""What `run_openxr_view` asks of a scene, as a Protocol, so a scene says what it offers instead of
the headset loop probing it attribute by attribute."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from panda3d.core import NodePath


@runtime_checkable
class XrScene(Protocol):
    viewpoint: NodePath | None  # where the seated head goes (eye height, yaw only); None: the origin
    overlay_root: NodePath | None  # a 2D root like aspect2d, shown on a panel in front of the eyes
    overlay_aspect: float

    def update(self, t: float) -> None:
        """Every frame, with scene seconds since the first frame (held while paused)."""

    def on_xr_event(self, event) -> None:
        """select, hold, release, pause, resume, teleport, recenter, detail, session."""


class XrSceneDefaults:
    """The Protocol's quiet defaults: no seat, no panel, nothing per frame, events ignored."""

    viewpoint: NodePath | None = None
    overlay_root: NodePath | None = None
    overlay_aspect: float = 16 / 9

    def update(self, t: float) -> None:
        pass

    def on_xr_event(self, event) -> None:
        pass
