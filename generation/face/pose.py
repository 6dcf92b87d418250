"""Head pose from 478 landmarks, and the face frame every other geometry module uses.

Conventions (shared with HeadModel): model space is metres, +x = subject's left, +y up,
+z out of the face, origin midway between the eye centres. Image landmarks are mediapipe
pixels (x right, y down, z negative towards the camera, same scale as x). The projection
is weak-perspective, like mediapipe's own landmarks:

    image_xy = t + s * (R @ v)[:2] * (1, -1)      image_z = -s * (R @ v)[2]

The pose vector [6] is (yaw, pitch, roll in degrees, tx, ty, scale) with tx, ty the image
position of the model origin as a fraction of the frame side, and scale the pixels per
metre as a fraction of the frame side, so one pose serves any crop resolution.
yaw + = subject turns to their left, pitch + = looks up, roll + = counter-clockwise as seen.
"""

from __future__ import annotations

import numpy as np

from assets import landmarks as L

from .errors import check_landmarks

RIGID_WEIGHT = 10.0
IOD_M = 0.063  # distance between the eye centres of an average adult, metres
PITCH_BIAS_DEG = 16.7  # the forehead-over-nose-ridge line leans back this much on frontal portraits


def image_to_model_axes(lm: np.ndarray) -> np.ndarray:
    """Flip mediapipe pixel axes (x right, y down, z into the screen) to x right, y up, z out."""
    return lm * np.array([1.0, -1.0, -1.0], dtype=lm.dtype)


def eye_centres(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centres (mean of the two corners) of the subject's left and right eye, [...,3] each."""
    left = 0.5 * (p[..., L.EYE_L["outer"], :] + p[..., L.EYE_L["inner"], :])
    right = 0.5 * (p[..., L.EYE_R["outer"], :] + p[..., L.EYE_R["inner"], :])
    return left, right


def face_frame(landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rotation [...,3,3] (model -> image axes), origin [...,3] and scale [...] (px per metre).

    Built from rigid landmarks only (eye corners, forehead, nose ridge), so expressions do not
    tilt the frame. Works on [478,3] or [N,478,3] pixel landmarks.
    """
    p = image_to_model_axes(np.asarray(landmarks, dtype=np.float64))
    left, right = eye_centres(p)
    x = left - right
    iod = np.linalg.norm(x, axis=-1)
    x = x / iod[..., None]
    up = p[..., [10, 151, 9], :].mean(-2) - p[..., [195, 5, 4], :].mean(-2)  # forehead over nose ridge
    y = up - np.sum(up * x, -1, keepdims=True) * x
    y = y / np.linalg.norm(y, axis=-1, keepdims=True)
    z = np.cross(x, y)
    rot = np.stack([x, y, z], axis=-1)
    bias = _rx(np.radians(PITCH_BIAS_DEG))
    rot = rot @ bias
    return rot, 0.5 * (left + right), iod / IOD_M


def canonical(landmarks: np.ndarray) -> np.ndarray:
    """Landmarks in the model frame, metres: [478,3] -> [478,3] or [N,478,3] -> [N,478,3]."""
    lm = check_landmarks(landmarks)
    rot, origin, scale = face_frame(lm)
    p = image_to_model_axes(lm.astype(np.float64)) - origin[..., None, :]
    return (np.einsum("...ji,...nj->...ni", rot, p) / scale[..., None, None]).astype(np.float32)


def _rx(a: float) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    return np.array([[1, 0, 0], [0, c, -s], [0, s, c]])


def matrix_from_euler(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """R = Ry(yaw) Rx(-pitch) Rz(roll), angles in degrees, [3,3]."""
    a, b, c = np.radians([yaw, -pitch, roll])
    ry = np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])
    rz = np.array([[np.cos(c), -np.sin(c), 0], [np.sin(c), np.cos(c), 0], [0, 0, 1]])
    return ry @ _rx(b) @ rz


def euler_from_matrix(rot: np.ndarray) -> np.ndarray:
    """Inverse of matrix_from_euler: [...,3,3] -> [...,3] (yaw, pitch, roll) degrees."""
    b = np.arcsin(np.clip(-rot[..., 1, 2], -1, 1))
    a = np.arctan2(rot[..., 0, 2], rot[..., 2, 2])
    c = np.arctan2(rot[..., 1, 0], rot[..., 1, 1])
    return np.degrees(np.stack([a, -b, c], axis=-1))


def similarity_fit(src: np.ndarray, dst: np.ndarray, weights: np.ndarray | None = None):
    """Least-squares similarity dst ~ s R src + t (Umeyama), [K,D] point sets -> (R, s, t)."""
    w = np.ones(len(src)) if weights is None else np.asarray(weights, dtype=np.float64)
    w = w / w.sum()
    mu_s, mu_d = w @ src, w @ dst
    a, b = src - mu_s, dst - mu_d
    cov = (b * w[:, None]).T @ a
    u, sig, vt = np.linalg.svd(cov)
    d = np.ones(len(sig))
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        d[-1] = -1
    rot = u @ np.diag(d) @ vt
    var = np.sum(w * np.sum(a * a, axis=1))
    s = float(np.sum(sig * d) / var)
    return rot, s, mu_d - s * rot @ mu_s


def fit_pose(landmarks_px: np.ndarray, model_points: np.ndarray, size: float, indices=None,
             refine: bool = True) -> np.ndarray:
    """Pose vector [6] aligning model points [478,3] (metres) to image landmarks [478,3] (px).

    Fitted in 3D on all 468 mesh points with the rigid ones weighted up (the model points are
    expected at the sample's code, so the moving parts agree too), or on `indices` only.
    """
    lm = check_landmarks(landmarks_px)
    assert lm.ndim == 2 and model_points.shape == (478, 3), model_points.shape
    if indices is None:
        idx = np.arange(L.N_MESH)
        weights = np.ones(L.N_MESH)
        weights[list(L.RIGID)] = RIGID_WEIGHT
    else:
        idx, weights = np.asarray(indices), None
    src = np.asarray(model_points, np.float64)[idx]
    rot, s, t = similarity_fit(src, image_to_model_axes(lm.astype(np.float64))[idx], weights)
    pose = _pose_vector(rot, s, t, size)
    return refine_pose_2d(pose, src, lm[idx, :2], size, weights) if refine else pose


def refine_pose_2d(pose: np.ndarray, model_points: np.ndarray, image_xy: np.ndarray, size: float,
                   weights: np.ndarray | None = None, iterations: int = 6) -> np.ndarray:
    """Gauss-Newton on the 6 pose numbers so the projected model points [K,3] meet the image
    points [K,2] in 2D. mediapipe's depth is the least reliable coordinate, so the 3D
    Procrustes start is finished on x and y alone."""
    p = np.asarray(pose, np.float64).copy()
    w = np.sqrt(np.ones(len(model_points)) if weights is None else np.asarray(weights, np.float64))
    steps = np.array([0.1, 0.1, 0.1, 1e-4, 1e-4, 1e-4 * max(p[5], 1e-6)])

    def residual(q):
        return ((project(model_points, q, size)[:, :2] - image_xy) * w[:, None]).reshape(-1)

    for _ in range(iterations):
        r = residual(p)
        jac = np.stack([(residual(p + np.eye(6)[k] * steps[k]) - r) / steps[k] for k in range(6)], axis=1)
        delta = np.linalg.lstsq(jac, -r, rcond=None)[0]
        p += delta
        if np.all(np.abs(delta) < steps * 1e-2):
            break
    return p.astype(np.float32)


def _pose_vector(rot, s, t, size: float) -> np.ndarray:
    ypr = euler_from_matrix(rot)
    return np.array([*ypr, t[0] / size, -t[1] / size, s / size], dtype=np.float32)


def head_pose(landmarks_px: np.ndarray, size: float) -> np.ndarray:
    """Pose vector [6] (or [N,6]) from the landmarks alone, no head model needed."""
    lm = check_landmarks(landmarks_px)
    rot, origin, scale = face_frame(lm)
    ypr = euler_from_matrix(rot)
    out = np.concatenate([ypr, origin[..., :1] / size, -origin[..., 1:2] / size, scale[..., None] / size], axis=-1)
    return out.astype(np.float32)


def project(points: np.ndarray, pose: np.ndarray, size: float) -> np.ndarray:
    """Model points [...,V,3] metres -> image [...,V,3] px (x, y, z with z < 0 towards camera)."""
    pose = np.asarray(pose, dtype=np.float64)
    assert pose.shape == (6,), pose.shape
    rot = matrix_from_euler(*pose[:3])
    s = pose[5] * size
    cam = np.asarray(points, np.float64) @ rot.T * s  # [...,V,3] model-axes, scaled
    out = cam * np.array([1.0, -1.0, -1.0])
    out[..., 0] += pose[3] * size
    out[..., 1] += pose[4] * size
    return out.astype(np.float32)
