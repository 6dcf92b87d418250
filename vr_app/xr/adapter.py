"""The thin runtime adapter the XR layer is written against.

Two implementations: `pyopenxr_runtime.PyOpenXRRuntime` (a real OpenXR runtime through
pyopenxr) and `simulated.SimulatedRuntime` (in-process, scripted; for tests and benchmarks).
Values use OpenXR conventions: metres, right-handed, +Y up, -Z forward; quaternions (x, y, z, w);
times in nanoseconds.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from dataclasses import dataclass, field

from ..errors import DisplayUnavailable

EYES = ("left", "right")
HANDS = ("left", "right")


class SessionState(enum.Enum):
    """XrSessionState, same order and meaning as the OpenXR spec."""

    UNKNOWN = 0
    IDLE = 1
    READY = 2
    SYNCHRONIZED = 3
    VISIBLE = 4
    FOCUSED = 5
    STOPPING = 6
    LOSS_PENDING = 7
    EXITING = 8


@dataclass(frozen=True)
class Pose:
    """A rigid pose in OpenXR space: position (x, y, z) and orientation quaternion (x, y, z, w)."""

    position: tuple[float, float, float] = (0.0, 0.0, 0.0)
    orientation: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 1.0)


@dataclass(frozen=True)
class Fov:
    """XrFovf: angles in radians from the view direction; left and down are usually negative."""

    angle_left: float
    angle_right: float
    angle_up: float
    angle_down: float


@dataclass(frozen=True)
class View:
    pose: Pose
    fov: Fov


@dataclass(frozen=True)
class ViewConfig:
    """Recommended per-eye image size (XrViewConfigurationView)."""

    width: int
    height: int
    max_width: int
    max_height: int
    samples: int = 1


@dataclass(frozen=True)
class SystemInfo:
    runtime_name: str
    system_name: str
    views: tuple[ViewConfig, ViewConfig]
    refresh_rates: tuple[float, ...] = (90.0,)
    hand_tracking: bool = False
    swapchain_formats: tuple[str, ...] = ("srgb8_alpha8", "rgba8")


@dataclass(frozen=True)
class FrameState:
    """XrFrameState: when the frame will be shown, the display period, and whether to render."""

    predicted_display_time: int
    predicted_display_period: int
    should_render: bool


@dataclass(frozen=True)
class Event:
    """One runtime event. kind: 'session_state' (state set), 'instance_loss_pending',
    'reference_space_change' (the user recentred in the system UI), 'interaction_profile'."""

    kind: str
    state: SessionState | None = None
    time: int = 0


@dataclass(frozen=True)
class ActionSpec:
    """One action of the app's action set. kind: 'boolean', 'float', 'pose' or 'vibration'."""

    name: str
    kind: str
    localized: str
    hands: tuple[str, ...] = HANDS


@dataclass
class Layer:
    """A projection layer to submit: per eye, the located view and the image to show."""

    views: list[View]
    images: list[object] = field(default_factory=list)  # per eye: a Panda3D Texture


class RuntimeUnavailable(DisplayUnavailable):
    """No OpenXR runtime or no headset: the message says which, in one line (the CLI prints it)."""


class XrRuntime(ABC):
    """What the XR layer needs from OpenXR, and nothing more."""

    system: SystemInfo

    @abstractmethod
    def create_session(self, reference_space: str) -> None:
        """xrCreateSession on the app's GL context, then the reference space ('local' or 'stage')."""

    @abstractmethod
    def poll_events(self) -> list[Event]: ...

    @abstractmethod
    def begin_session(self) -> None: ...

    @abstractmethod
    def end_session(self) -> None: ...

    @abstractmethod
    def request_exit(self) -> None: ...

    @abstractmethod
    def destroy(self) -> None: ...

    @abstractmethod
    def set_refresh_rate(self, hz: float) -> None: ...

    @abstractmethod
    def create_swapchains(self, layout: str, width: int, height: int, fmt: str) -> None:
        """layout: 'per_eye' (two swapchains) or 'array' (one swapchain with two layers)."""

    @abstractmethod
    def attach_actions(self, actions: list[ActionSpec], bindings: dict[str, list[tuple[str, str]]]) -> None:
        """Create the action set, suggest bindings per interaction profile, attach to the session.
        bindings: profile path -> [(action name, input path)]."""

    @abstractmethod
    def wait_frame(self) -> FrameState: ...

    @abstractmethod
    def begin_frame(self) -> None: ...

    @abstractmethod
    def locate_views(self, time: int) -> list[View] | None:
        """Both eyes in the reference space, or None when tracking is lost."""

    @abstractmethod
    def locate_head(self, time: int) -> Pose | None: ...

    @abstractmethod
    def sync_actions(self) -> None: ...

    @abstractmethod
    def action_value(self, name: str, hand: str) -> float:
        """Boolean or float action state; 0.0 when inactive."""

    @abstractmethod
    def action_pose(self, name: str, hand: str, time: int) -> Pose | None: ...

    @abstractmethod
    def hand_joints(self, hand: str, time: int) -> list[Pose] | None:
        """The 26 XR_EXT_hand_tracking joints, or None when not offered or not tracked."""

    @abstractmethod
    def end_frame(self, time: int, layer: Layer | None) -> None:
        """Copy the eye images into the swapchains and call xrEndFrame (layer None: submit nothing)."""
