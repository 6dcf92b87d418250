"""Luma of the textures' colours, one definition for every module that judges light against dark.

The textures are sRGB photos, whose primaries are Rec. 709's, so Rec. 709's weights rank their
colours by brightness as a person sees them; Rec. 601's (television's older primaries) let a
saturated blue or red pass for lighter than it looks (a blue glasses frame read as lid skin).
"""

from __future__ import annotations

import numpy as np

LUMA = np.array([0.2126, 0.7152, 0.0722], np.float32)  # Rec. 709, applied to the 8-bit sRGB values
