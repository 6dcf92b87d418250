"""expression_fidelity reads a control back from the rendered face; a draw that gives several nearby views is
read as the median of their readings (the detector's scatter between views a degree apart is ~0.1 of a code).
The renderer, generator and detector are stand-ins here: what is tested is how readings become the error."""

from types import SimpleNamespace

import numpy as np

from assets import expression
from generation.face import controls, landmarks
from generation.gan import evaluate


class _Detector:
    """Finds a 'face' whose landmarks are the image's first pixel value (None for an all-zero image)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def detect(self, image):
        value = float(image.flat[0])
        return [SimpleNamespace(landmarks=np.full((478, 3), value))] if value else []


def _read(lm, calibration):  # every control reads the image's value / 100
    return np.full(expression.E, lm[0, 0] / 100.0)


def _fidelity(monkeypatch, draw):
    monkeypatch.setattr(landmarks, "LandmarkDetector", _Detector)
    monkeypatch.setattr(controls, "codes_from_landmarks", _read)
    monkeypatch.setattr(evaluate, "synthesize", lambda g, codes, z, pose=None: np.zeros((len(codes), 4, 4, 3), np.uint8))
    ds = SimpleNamespace(pose=np.zeros((3, 6), np.float32), calibration=None)
    g = SimpleNamespace(z_dim=2)
    return evaluate.expression_fidelity(g, ds, None, None, draw=draw)


def _image(value):
    return np.full((4, 4, 3), value, np.uint8)


def test_one_view_is_read_as_it_is(monkeypatch):
    fid = _fidelity(monkeypatch, lambda code, tex: _image(60))
    commanded = 0.8  # a one-way control's probe
    assert abs(fid["jaw_open"] - abs(0.60 - commanded)) < 1e-6


def test_several_views_are_read_as_their_median_and_a_view_without_a_face_is_left_out(monkeypatch):
    fid = _fidelity(monkeypatch, lambda code, tex: [_image(50), _image(0), _image(90), _image(75)])
    assert abs(fid["jaw_open"] - abs(0.75 - 0.8)) < 1e-6  # median of .50/.90/.75; the faceless view skipped
    none = _fidelity(monkeypatch, lambda code, tex: [_image(0)])
    assert np.isnan(none["jaw_open"])
