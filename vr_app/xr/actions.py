"""The app's OpenXR actions and suggested bindings for the common controllers.

Point and pull the trigger to light a candle or pick a photo; a face button (menu on the
simple and Vive controllers) pauses and replays; squeeze the grip to hold a photo up;
click the thumbstick / trackpad to teleport (standing mode only).
"""

from __future__ import annotations

from .adapter import ActionSpec

SELECT = "select"      # float: trigger
PAUSE = "pause"        # boolean: a button
HOLD = "hold"          # float: grip / squeeze
TELEPORT = "teleport"  # boolean: thumbstick or trackpad click
AIM = "aim_pose"       # pose: pointing ray
GRIP = "grip_pose"     # pose: where the hand holds things
HAPTIC = "haptic"      # vibration: a soft tick on select

ACTIONS = [
    ActionSpec(SELECT, "float", "Select (light a candle, pick a photo)"),
    ActionSpec(PAUSE, "boolean", "Pause or replay"),
    ActionSpec(HOLD, "float", "Hold a photo"),
    ActionSpec(TELEPORT, "boolean", "Teleport (standing only)"),
    ActionSpec(AIM, "pose", "Pointer"),
    ActionSpec(GRIP, "pose", "Hand"),
    ActionSpec(HAPTIC, "vibration", "Haptic tick"),
]

SIMPLE = "/interaction_profiles/khr/simple_controller"
TOUCH = "/interaction_profiles/oculus/touch_controller"
INDEX = "/interaction_profiles/valve/index_controller"
VIVE = "/interaction_profiles/htc/vive_controller"
PROFILES = (SIMPLE, TOUCH, INDEX, VIVE)


def _both(action: str, component: str) -> list[tuple[str, str]]:
    return [(action, f"/user/hand/{hand}{component}") for hand in ("left", "right")]


def _common() -> list[tuple[str, str]]:
    return _both(AIM, "/input/aim/pose") + _both(GRIP, "/input/grip/pose") + _both(HAPTIC, "/output/haptic")


BINDINGS: dict[str, list[tuple[str, str]]] = {
    # The simple controller has only select and menu: no holding, no teleport.
    SIMPLE: _both(SELECT, "/input/select/click") + _both(PAUSE, "/input/menu/click") + _common(),
    TOUCH: (_both(SELECT, "/input/trigger/value") + _both(HOLD, "/input/squeeze/value")
            + [(PAUSE, "/user/hand/left/input/menu/click"), (PAUSE, "/user/hand/right/input/b/click")]
            + _both(TELEPORT, "/input/thumbstick/click") + _common()),
    INDEX: (_both(SELECT, "/input/trigger/value") + _both(HOLD, "/input/squeeze/value")
            + _both(PAUSE, "/input/b/click") + _both(TELEPORT, "/input/thumbstick/click") + _common()),
    VIVE: (_both(SELECT, "/input/trigger/value") + _both(HOLD, "/input/squeeze/click")
           + _both(PAUSE, "/input/menu/click") + _both(TELEPORT, "/input/trackpad/click") + _common()),
}


class Edge:
    """Turns an analogue value into press / release edges with hysteresis, so a trigger resting
    near the threshold does not fire a burst of selects."""

    def __init__(self, press: float = 0.7, release: float = 0.3):
        self.press, self.release, self.down = press, release, False

    def update(self, value: float) -> str | None:
        if not self.down and value >= self.press:
            self.down = True
            return "press"
        if self.down and value <= self.release:
            self.down = False
            return "release"
        return None
