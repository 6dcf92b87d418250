"""Real faces for the geometry tests: Grace Hopper (matplotlib) and the astronaut (scikit-image),
with their mediapipe landmarks, detected once per session."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="session")
def detector():
    from generation.face.landmarks import LandmarkDetector

    with LandmarkDetector() as det:
        yield det


@pytest.fixture(scope="session")
def faces(detector):
    """{'grace': (rgb, landmarks [478,3] px), 'astronaut': (...)}."""
    from PIL import Image
    from skimage import data

    from assets.default_subject import portrait_path

    out = {}
    for name, img in (("grace", np.asarray(Image.open(portrait_path()).convert("RGB"))), ("astronaut", data.astronaut())):
        found = detector.detect(img)
        assert len(found) == 1, name
        out[name] = (img, found[0].landmarks)
    return out


@pytest.fixture(scope="session")
def grace_head(faces):
    from generation.face.head import fit_head

    img, lm = faces["grace"]
    return fit_head(lm[None], images=[img])
