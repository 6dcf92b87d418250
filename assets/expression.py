"""The expression code: the one vector every stage shares.

It conditions the GAN, deforms the head mesh (one blendshape per entry), and is what
speech, idle motion and driving video produce. Order never changes within a format
version; add new controls at the end and bump CODE_VERSION.

Semantic controls are 0..1 (0 = neutral) except gaze, which is -1..1 (degrees / 30,
positive = subject's left / up). The `pca_*` entries carry the rest of the subject's
landmark motion in units of standard deviations, -3..3.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CODE_VERSION = 1


@dataclass(frozen=True)
class Control:
    name: str
    low: float
    high: float
    doc: str


SEMANTIC: tuple[Control, ...] = (
    Control("jaw_open", 0.0, 1.0, "lower jaw drops"),
    Control("mouth_smile_l", 0.0, 1.0, "left mouth corner up and out"),
    Control("mouth_smile_r", 0.0, 1.0, "right mouth corner up and out"),
    Control("mouth_pucker", 0.0, 1.0, "lips pushed forward and narrowed (u, w)"),
    Control("mouth_funnel", 0.0, 1.0, "lips rounded open (o, sh)"),
    Control("mouth_press", 0.0, 1.0, "lips pressed together (m, b, p)"),
    Control("blink_l", 0.0, 1.0, "left eyelid closes"),
    Control("blink_r", 0.0, 1.0, "right eyelid closes"),
    Control("brow_up_l", 0.0, 1.0, "left brow raised"),
    Control("brow_up_r", 0.0, 1.0, "right brow raised"),
    Control("brow_down", 0.0, 1.0, "brows lowered and drawn together"),
    Control("cheek_raise", 0.0, 1.0, "cheeks lift, eyes narrow (Duchenne smile)"),
    Control("gaze_yaw_l", -1.0, 1.0, "left eye turns (+ = subject's left), /30 degrees"),
    Control("gaze_pitch_l", -1.0, 1.0, "left eye turns (+ = up), /30 degrees"),
    Control("gaze_yaw_r", -1.0, 1.0, "right eye turns (+ = subject's left), /30 degrees"),
    Control("gaze_pitch_r", -1.0, 1.0, "right eye turns (+ = up), /30 degrees"),
)
N_PCA = 8
PCA: tuple[Control, ...] = tuple(Control(f"pca_{i}", -3.0, 3.0, f"residual landmark motion, component {i}") for i in range(N_PCA))
CONTROLS: tuple[Control, ...] = SEMANTIC + PCA
NAMES: tuple[str, ...] = tuple(c.name for c in CONTROLS)
E = len(CONTROLS)  # 24
LOW = np.array([c.low for c in CONTROLS], dtype=np.float32)
HIGH = np.array([c.high for c in CONTROLS], dtype=np.float32)
GAZE = tuple(NAMES.index(n) for n in ("gaze_yaw_l", "gaze_pitch_l", "gaze_yaw_r", "gaze_pitch_r"))


def index(name: str) -> int:
    try:
        return NAMES.index(name)
    except ValueError:
        raise KeyError(f"unknown expression control {name!r}") from None


def neutral(t: int | None = None) -> np.ndarray:
    """The neutral code, [E], or [T,E] when t is given."""
    return np.zeros((E,) if t is None else (t, E), dtype=np.float32)


def clip(codes: np.ndarray) -> np.ndarray:
    """Clamp any [...,E] array to the valid ranges."""
    codes = np.asarray(codes, dtype=np.float32)
    assert codes.shape[-1] == E, f"expression code must end in {E}, got {codes.shape}"
    return np.clip(codes, LOW, HIGH)


def from_dict(values: dict[str, float], t: int | None = None) -> np.ndarray:
    code = neutral(t)
    for name, value in values.items():
        code[..., index(name)] = value
    return clip(code)


def to_dict(code: np.ndarray) -> dict[str, float]:
    code = np.asarray(code)
    assert code.shape == (E,), code.shape
    return {n: float(v) for n, v in zip(NAMES, code)}
