"""Located views -> per-eye cameras: asymmetric projection checked against the OpenXR FOV
angles, eye poses against the head and IPD, recentering, and the rendered stereo pair."""

import math

import numpy as np
import pytest
from panda3d.core import LPoint3f, Point2, Point3

from vr_app.xr.adapter import Fov, Pose
from vr_app.xr.cameras import film_for_fov, make_eye_lens
from vr_app.xr.simulated import LEFT_FOV, RIGHT_FOV, SimulatedRuntime, quat_yaw
from vr_app.xr.spaces import recenter_transform, xr_point, xr_quat

from .conftest import EYE, centroid_x, expected_x, step_until_focused

FOVS = [LEFT_FOV, RIGHT_FOV, Fov(-0.3, 1.1, 0.2, -0.9)]


def xr_projection(fov: Fov, near: float, far: float) -> np.ndarray:
    """The OpenXR SDK's projection matrix (XrMatrix4x4f_CreateProjectionFov, OpenGL clip space),
    written out independently here, column-vector convention."""
    l, r = math.tan(fov.angle_left), math.tan(fov.angle_right)
    d, u = math.tan(fov.angle_down), math.tan(fov.angle_up)
    w, h = r - l, u - d
    return np.array([
        [2 / w, 0, (r + l) / w, 0],
        [0, 2 / h, (u + d) / h, 0],
        [0, 0, -(far + near) / (far - near), -2 * far * near / (far - near)],
        [0, 0, -1, 0]])


@pytest.mark.parametrize("fov", FOVS)
def test_frustum_edges_match_openxr_angles(fov):
    lens = make_eye_lens(fov)
    for x_angle, expect_x in ((fov.angle_left, -1.0), (fov.angle_right, 1.0)):
        p = Point2()
        assert lens.project(Point3(math.tan(x_angle) * 5, 5, 0), p)  # Panda3D: +Y forward
        assert p.x == pytest.approx(expect_x, abs=1e-5)
    for y_angle, expect_y in ((fov.angle_down, -1.0), (fov.angle_up, 1.0)):
        p = Point2()
        lens.project(Point3(0, 5, math.tan(y_angle) * 5), p)
        assert p.y == pytest.approx(expect_y, abs=1e-5)


@pytest.mark.parametrize("fov", FOVS)
def test_projection_matches_openxr_matrix_on_random_points(fov):
    near, far = 0.05, 100.0
    lens = make_eye_lens(fov, near, far)
    ref = xr_projection(fov, near, far)
    rng = np.random.default_rng(0)
    for _ in range(50):
        xr = np.array([rng.uniform(-2, 2), rng.uniform(-2, 2), -rng.uniform(0.5, 20), 1.0])
        clip = ref @ xr
        ndc = clip[:3] / clip[3]
        p = Point2()
        lens.project(xr_point(xr[:3]), p)
        assert (p.x, p.y) == pytest.approx((ndc[0], ndc[1]), abs=1e-4)


def test_panda_projection_matrix_is_off_axis():
    size, offset = film_for_fov(LEFT_FOV)
    assert offset[0] < 0  # the left eye sees more to the left (temple side)
    mat = make_eye_lens(LEFT_FOV).get_projection_mat()
    ref = xr_projection(LEFT_FOV, 0.05, 100.0)
    # Panda3D row vectors with +Y forward: row 1 (the Y input) carries the off-axis terms.
    assert mat[0][0] == pytest.approx(ref[0, 0], rel=1e-5)
    assert mat[2][1] == pytest.approx(ref[1, 1], rel=1e-5)
    assert mat[1][0] == pytest.approx(-ref[0, 2], rel=1e-5)
    assert mat[1][1] == pytest.approx(-ref[1, 2], rel=1e-5)


def test_degenerate_fov_is_refused():
    with pytest.raises(ValueError):
        film_for_fov(Fov(0.5, -0.5, 0.5, -0.5))


def test_axis_conversion_forward_up_right():
    assert tuple(xr_point((1, 2, -3))) == pytest.approx((1, 3, 2))
    q = xr_quat(quat_yaw(math.radians(90)))  # OpenXR: turn left 90 degrees about +Y
    fwd = q.xform(LPoint3f(0, 1, 0))
    assert tuple(fwd) == pytest.approx((-1, 0, 0), abs=1e-6)  # looking along -X: turned left


def head_path(yaw_deg_at, pos=(0.0, 0.0, 0.0)):
    return lambda t: Pose(pos, quat_yaw(math.radians(yaw_deg_at(t))))


def test_eye_cameras_follow_views_with_ipd_and_fov(make_loop):
    sim = SimulatedRuntime(eye_size=EYE, ipd=0.064, head_path=head_path(lambda t: 0.0 if t < 0.1 else 30.0))
    loop, sim, scene, tm = make_loop(sim)
    step_until_focused(loop, tm)
    for _ in range(12):
        tm.step()
    render = loop.scene
    left, right = (cam.get_pos(render) for cam in loop.cameras)
    assert (right - left).length() == pytest.approx(0.064, abs=1e-5)
    # The head turned 30 degrees left, so the right eye lies 30 degrees round from +X.
    d = right - left
    assert math.degrees(math.atan2(d.y, d.x)) == pytest.approx(30.0, abs=1e-3)
    for cam in loop.cameras:
        assert cam.get_h(render) == pytest.approx(30.0, abs=1e-3)
        assert cam.get_p(render) == pytest.approx(0.0, abs=1e-4)
    lens_l = loop.cameras[0].node().get_lens()
    assert tuple(lens_l.get_film_offset()) == pytest.approx(film_for_fov(LEFT_FOV)[1], abs=1e-6)
    lens_r = loop.cameras[1].node().get_lens()
    assert tuple(lens_r.get_film_offset()) == pytest.approx(film_for_fov(RIGHT_FOV)[1], abs=1e-6)
    mid = (left + right) / 2
    assert tuple(mid) == pytest.approx(tuple(loop.anchors.head.get_pos(render)), abs=1e-6)


def test_both_eyes_render_the_target_offset_by_ipd(make_loop):
    sim = SimulatedRuntime(eye_size=EYE, ipd=0.3)  # a wide IPD makes the parallax measurable at 64 px
    loop, sim, scene, tm = make_loop(sim)
    step_until_focused(loop, tm)
    left, right = sim.submitted[0], sim.submitted[1]
    assert left.shape == right.shape == (EYE[1], EYE[0], 4)
    assert centroid_x(left) == pytest.approx(expected_x(LEFT_FOV, -0.15, EYE[0]), abs=1.0)
    assert centroid_x(right) == pytest.approx(expected_x(RIGHT_FOV, 0.15, EYE[0]), abs=1.0)


def test_turning_the_head_moves_the_target_across_the_view(make_loop):
    sim = SimulatedRuntime(eye_size=EYE, head_path=head_path(lambda t: 0.0 if t < 0.1 else 10.0))
    loop, sim, scene, tm = make_loop(sim)
    step_until_focused(loop, tm)
    before = centroid_x(sim.submitted[0])
    for _ in range(12):
        tm.step()
    after = centroid_x(sim.submitted[0])
    assert after > before + 3  # head turned left: the candle slides right in the image


def test_recenter_undoes_yaw_and_position_seated():
    head = Pose((0.3, 0.1, -0.2), quat_yaw(math.radians(40)))
    ts = recenter_transform(head, seated=True)
    m = ts.get_mat()
    placed = m.xform_point(xr_point(head.position))
    assert tuple(placed) == pytest.approx((0, 0, 0), abs=1e-6)
    fwd = m.xform_vec(xr_quat(head.orientation).get_forward())
    assert tuple(fwd) == pytest.approx((0, 1, 0), abs=1e-6)


def test_recenter_standing_keeps_height():
    head = Pose((0.3, 1.7, -0.2), quat_yaw(math.radians(-25)))
    placed = recenter_transform(head, seated=False).get_mat().xform_point(xr_point(head.position))
    assert tuple(placed) == pytest.approx((0, 0, 1.7), abs=1e-6)


def test_loop_recentres_at_start_and_on_runtime_request(make_loop):
    yaw = {"deg": 40.0}
    sim = SimulatedRuntime(eye_size=EYE, head_path=lambda t: Pose((0.2, 0.05, 0.1), quat_yaw(math.radians(yaw["deg"]))))
    loop, sim, scene, tm = make_loop(sim)
    step_until_focused(loop, tm)
    render, seat = loop.scene, scene.viewpoint
    assert tuple(loop.anchors.head.get_pos(render)) == pytest.approx(tuple(seat.get_pos(render)), abs=1e-5)
    assert loop.anchors.head.get_h(render) == pytest.approx(0.0, abs=1e-4)
    yaw["deg"] = 100.0  # the user turns their chair...
    tm.step()
    assert loop.anchors.head.get_h(render) == pytest.approx(60.0, abs=1e-3)
    sim.user_recentred()  # ...and recentres from the system menu
    tm.step()
    assert loop.anchors.head.get_h(render) == pytest.approx(0.0, abs=1e-4)
    assert any(e.kind == "recenter" for e in loop.hub.log)
