"""Input checks shared by the geometry modules: bad landmarks fail with one clear line."""

from __future__ import annotations

import numpy as np

from assets.errors import UsageError


class GeometryError(UsageError):
    """Landmarks, images or codes that the face geometry cannot use."""


def check_landmarks(landmarks, batch: bool | None = None) -> np.ndarray:
    """Return float32 [478,3] or [N,478,3]; raise GeometryError on a wrong shape or NaN/inf."""
    lm = np.asarray(landmarks, dtype=np.float32)
    ok = lm.shape[-2:] == (478, 3) and lm.ndim in ((2, 3) if batch is None else ((3,) if batch else (2,)))
    if not ok:
        want = {None: "[478,3] or [N,478,3]", True: "[N,478,3]", False: "[478,3]"}[batch]
        raise GeometryError(f"face landmarks must be {want}, got shape {list(lm.shape)}")
    if lm.ndim == 3 and len(lm) == 0:
        raise GeometryError("no face landmarks given (an empty set)")
    if not np.isfinite(lm).all():
        raise GeometryError("face landmarks contain NaN or infinite values")
    return lm
