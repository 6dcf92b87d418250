import numpy as np
import pytest

from generation.face import align as A
from generation.face import pose as P
from generation.face.errors import GeometryError


def test_euler_round_trip():
    for ypr in [(20, -10, 5), (-35, 15, -8), (0, 0, 0)]:
        assert np.allclose(P.euler_from_matrix(P.matrix_from_euler(*ypr)), ypr, atol=1e-6)


def test_pose_recovered_from_a_turned_head(grace_head):
    """Project the subject's head at a known pose: both pose estimators read it back."""
    for truth in ([20, -10, 5, 0.5, 0.45, 2.5], [-30, 12, -6, 0.4, 0.5, 3.0]):
        truth = np.array(truth, np.float32)
        lm = P.project(grace_head.vertices, truth, 256)[:478]
        fitted = P.fit_pose(lm, grace_head.vertices[:478], 256)
        assert np.allclose(fitted, truth, atol=[0.5, 0.5, 0.5, 2e-3, 2e-3, 1e-2]), fitted
        quick = P.head_pose(lm, 256)
        assert np.allclose(quick[:3], truth[:3], atol=3.0), quick


def test_yaw_sign_follows_the_subject_turning_left(grace_head):
    lm = P.project(grace_head.vertices, np.array([25, 0, 0, 0.5, 0.5, 3.0]), 256)[:478]
    nose, mid = lm[1, 0], 0.5 * (lm[33, 0] + lm[263, 0])
    assert nose > mid  # the subject's left is the image right: the nose swings that way


def test_alignment_puts_eyes_and_mouth_at_canonical_spots(faces):
    for name, (img, lm) in faces.items():
        al = A.align_face(img, lm, 256)
        assert al.crop.shape == (256, 256, 3) and al.crop.dtype == np.uint8 and al.matrix.shape == (2, 3)
        anchors = A._anchors(al.landmarks) / 256
        assert np.allclose(anchors[:2], [A.CANON_EYE_L, A.CANON_EYE_R], atol=0.02), (name, anchors)
        assert np.allclose(anchors[2], A.CANON_MOUTH, atol=0.05), (name, anchors)
        # the crop pixel at a landmark is the image pixel at that landmark
        i = 1  # nose tip
        x, y = np.round(al.landmarks[i, :2]).astype(int)
        sx, sy = np.round(lm[i, :2]).astype(int)
        assert np.abs(al.crop[y, x].astype(int) - img[sy, sx].astype(int)).max() < 40


def test_alignment_rejects_bad_input(faces):
    img, lm = faces["grace"]
    with pytest.raises(GeometryError, match="RGB uint8"):
        A.align_face(img.astype(np.float32), lm)
    with pytest.raises(GeometryError, match="478"):
        A.align_face(img, lm[:100])
    bad = lm.copy()
    bad[0, 0] = np.inf
    with pytest.raises(GeometryError, match="NaN or infinite"):
        A.align_face(img, bad)


def test_frontal_portraits_read_as_frontal(faces):
    for name, (img, lm) in faces.items():
        yaw, pitch, roll = P.head_pose(lm, img.shape[1])[:3]
        assert abs(yaw) < 8 and abs(pitch) < 8 and abs(roll) < 8, (name, yaw, pitch, roll)
