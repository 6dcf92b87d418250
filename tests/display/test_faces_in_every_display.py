"""Every display path shows the subject's face, facing the visitor, where the camera puts it.

Four paths, one check (tests/display/faces.py): software offscreen (p3tinydisplay, the video),
EGL offscreen (p3headlessgl: Mesa here, the GPU on a server), the desktop window (pandagl/GLX
under a private Xvfb, read back from the window's own framebuffer) and the eye images the native
OpenXR test runtime receives through real GL swapchains. The window once showed the back of the
head while the offscreen paths were right; only a test of each path's own pixels catches that.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from .faces import check_one_face, faces_in, project_point

ROOT = Path(__file__).resolve().parents[2]
SCENE = "garden"


def _spec():
    from scenes.spec import load

    return load(SCENE)


def expected_face_centre(size) -> tuple[float, float]:
    """The landmarks' mean sits about 2 cm below the eyes (the bust anchor), at the nose bridge."""
    spec = _spec()
    x, y, z = spec.bust_pos
    return project_point(spec, size, (x, y, z - 0.02))


def render_offscreen(inputs, backend: str, size=(640, 480)) -> np.ndarray:
    from vr_app.offscreen import OffscreenRenderer
    from vr_app.scene import MemorialScene
    from vr_app.errors import RenderError

    spec = _spec()
    try:
        renderer = OffscreenRenderer(size, backend=backend)
    except RenderError as exc:
        pytest.skip(f"{backend} offscreen rendering is not available here: {exc}")
    with renderer:
        renderer.buffer.set_clear_color((*spec.background, 1))
        MemorialScene(renderer.stage, spec, inputs.head, inputs.texture, None, inputs.photos, intro_s=0.0)
        return renderer.frame()


def _mat_colour(inputs, spec) -> np.ndarray:
    """Median RGB of the middle of the first photo frame's empty mat in a software render of the room."""
    from vr_app.offscreen import OffscreenRenderer
    from vr_app.scene import MemorialScene

    from .test_gl_matches_software import _mat_boxes

    with OffscreenRenderer((640, 360)) as renderer:
        MemorialScene(renderer.stage, spec, inputs.head, inputs.texture, None, [], intro_s=0.0)
        img = renderer.frame()
    x0, y0, x1, y1 = _mat_boxes(spec, (640, 360), inset=0.5)[0]
    return np.median(img[y0:y1, x0:x1].reshape(-1, 3), axis=0).astype(float)


@pytest.mark.parametrize("backend", ["software", "gl"])
def test_offscreen_shows_the_face(fitted_subject, detector, backend, tmp_path):
    img = render_offscreen(fitted_subject["inputs"], backend)
    h, w = img.shape[:2]
    face = check_one_face(faces_in(detector, img), expected_face_centre((w, h)), tolerance_px=0.06 * h)
    assert face.size > 0.12 * h  # a head at arm's length, not a speck


@pytest.mark.slow
def test_desktop_window_shows_the_face(fitted_subject, detector, xserver, tmp_path):
    shot = tmp_path / "window.png"
    env = dict(os.environ, DISPLAY=xserver, MEMORIAL_HOME=str(fitted_subject["home"]),
               MEMORIAL_PASSPHRASE=fitted_subject["passphrase"], PYTHONPATH=str(ROOT))
    env.pop("WAYLAND_DISPLAY", None)
    # 5 s: well past the 2 s intro card and its 0.6 s fade even when a loaded machine draws few frames;
    # the window's last frame is read back at exit.
    proc = subprocess.run([sys.executable, "-m", "generation.cli", "view", fitted_subject["name"], "--scene", SCENE,
                           "--display", "desktop", "--seconds", "5", "--screenshot", str(shot)],
                          env=env, cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    from PIL import Image

    img = np.asarray(Image.open(shot).convert("RGB"))  # [H,W,3], top row first
    h, w = img.shape[:2]
    assert (w, h) == (800, 600)  # Panda3D's default window, a real X window on the private display
    face = check_one_face(faces_in(detector, img), expected_face_centre((w, h)), tolerance_px=0.06 * h)
    assert face.size > 0.12 * h


@pytest.mark.slow
def test_headset_eyes_show_the_face(fitted_subject, detector, tmp_path):
    """Both eyes of the native OpenXR test runtime (pyopenxr + loader + GLX swapchains under Xvfb).

    A headset eye spans about 94 x 93 degrees, so the face covers ~8% of its width: the detector
    (made for selfie-sized faces) looks at a window three faces wide around where the face must be,
    enlarged; the face must be found there, once, facing the eye, near that window's expected point.
    """
    from tests.xr.conftest import expected_x
    from tests.xr.native.build import build_runtime, missing_tools, start_xvfb
    from vr_app.xr.simulated import LEFT_FOV, RIGHT_FOV

    why = missing_tools()
    if why:
        pytest.skip(f"native simulated runtime not buildable here: {why}")
    size, ipd = 512, 0.064
    manifest = build_runtime(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    script = tmp_path / "script.txt"
    script.write_text(f"out {out}\nsize {size} {size}\nipd {ipd}\nsave 6\nquit 8\n")
    xvfb, display = start_xvfb()
    try:
        env = dict(os.environ, DISPLAY=display, XR_RUNTIME_JSON=str(manifest), MEMORIAL_XR_SIM_SCRIPT=str(script),
                   MEMORIAL_TEST_SUBJECT=str(fitted_subject["folder"]), PYTHONPATH=str(ROOT))
        proc = subprocess.run([sys.executable, str(ROOT / "tests/xr/native/drive_view.py"), "100", "memorial-subject"],
                              env=env, cwd=ROOT, capture_output=True, text=True, timeout=180)
    finally:
        xvfb.terminate()
        xvfb.wait(timeout=10)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    from PIL import Image

    spec = _spec()
    distance = spec.bust_pos[1] - spec.camera_pos[1]  # the seat looks level (heading only) at the bust
    software_mat = _mat_colour(fitted_subject["inputs"], spec)
    for eye, fov, eye_x in ((0, LEFT_FOV, -ipd / 2), (1, RIGHT_FOV, ipd / 2)):
        img = np.asarray(Image.open(out / f"frame6_eye{eye}.ppm").convert("RGB"))  # [H,W,3]
        assert img.shape == (size, size, 3)
        down, up = math.tan(fov.angle_down), math.tan(fov.angle_up)
        rise = (spec.bust_pos[2] - 0.02 - spec.camera_pos[2]) / distance  # face centre above eye level
        x = expected_x(fov, eye_x - spec.bust_pos[0], size, distance)
        y = (up - rise) / (up - down) * size
        half = 64  # px: the window is 128 px, about three face widths
        x0, y0 = int(round(x)) - half, int(round(y)) - half
        window = np.asarray(Image.fromarray(img[y0:y0 + 2 * half, x0:x0 + 2 * half]).resize((384, 384), Image.BICUBIC))
        check_one_face(faces_in(detector, window), (192.0, 192.0), tolerance_px=0.1 * 384)
        # The garden's photo mat (empty: the test subject has no photos) in the video's colour: the eye
        # buffer reaches the sRGB swapchain as the same bytes, lit as the software renderer lights it.
        photo = spec.photos[0]
        reach = photo.pos[1] - spec.camera_pos[1]
        mx = expected_x(fov, eye_x - photo.pos[0], size, reach)
        my = (up - (photo.pos[2] - spec.camera_pos[2]) / reach) / (up - down) * size
        mat = np.median(img[int(my) - 6:int(my) + 7, int(mx) - 6:int(mx) + 7].reshape(-1, 3), axis=0)
        assert np.abs(mat / software_mat - 1).max() < 0.04, f"eye {eye}: mat {mat}, software {software_mat}"
