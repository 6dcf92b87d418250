"""One smooth 0..1 blend for the face builder and the runtime (shell, lids, side textures)."""

from __future__ import annotations

import numpy as np


def smoothstep(x) -> np.ndarray:
    """0 below 0, 1 above 1, and 3x^2 - 2x^3 between: a blend with no kink at either end (the dtype of x)."""
    x = np.clip(x, 0, 1)
    return x * x * (3 - 2 * x)
