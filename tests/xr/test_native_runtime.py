"""The real OpenXR code path (pyopenxr + the OpenXR loader + a GLX session on Panda3D's GL
context) against a simulated runtime compiled here from C (native/memorial_xr_sim.c) and
registered through XR_RUNTIME_JSON. It runs under Xvfb with Mesa's software GL.

What this proves: the app negotiates with a runtime through the loader, creates the session
on its GL context, renders both eyes into runtime-owned GL swapchain textures, follows the
scripted head, turns a scripted trigger press into a select, and walks the session down to
EXITING cleanly. What only a real headset can confirm: the compositor, timing, tracking, and
real controllers."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from vr_app.xr.simulated import LEFT_FOV, RIGHT_FOV

from .conftest import RED, aim_at, centroid_x, expected_x
from .native.build import build_runtime, missing_tools, start_xvfb

HERE = Path(__file__).parent / "native"
ROOT = Path(__file__).resolve().parents[2]
EYE = 128
IPD = 0.064


@pytest.fixture(scope="module")
def native_runtime(tmp_path_factory):
    why = missing_tools()
    if why:
        pytest.skip(f"native simulated runtime not buildable here: {why}")
    build = tmp_path_factory.mktemp("xr-runtime")
    manifest = build_runtime(build)
    xvfb, display = start_xvfb()
    yield {"manifest": manifest, "display": display, "dir": build}
    xvfb.terminate()
    xvfb.wait(timeout=10)


def run_child(native, tmp_path, script_lines, frames=200, scene=None, flags=()):
    out = tmp_path / "out"
    out.mkdir()
    script = tmp_path / "script.txt"
    script.write_text("\n".join([f"out {out}", f"size {EYE} {EYE}", f"ipd {IPD}", *script_lines]) + "\n")
    env = dict(os.environ, DISPLAY=native["display"], XR_RUNTIME_JSON=str(native["manifest"]),
               MEMORIAL_XR_SIM_SCRIPT=str(script), PYTHONPATH=str(ROOT))
    args = [sys.executable, str(HERE / "drive_view.py"), str(frames), scene or "candle", *flags]
    proc = subprocess.run(args, env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    log = (out / "runtime.log").read_text() if (out / "runtime.log").exists() else ""
    return proc, out, log


def ppm(path: Path) -> np.ndarray:
    from PIL import Image
    return np.asarray(Image.open(path).convert("RGB"))  # [H,W,3], top row first


YELLOW = lambda im: (im[..., 0] > 150) & (im[..., 1] > 150) & (im[..., 2] < 80)  # noqa: E731


def test_probe_finds_the_native_runtime(native_runtime, tmp_path):
    proc, out, log = run_child(native_runtime, tmp_path, ["quit 5"], frames=50)
    assert "display openxr: headset: OpenXR runtime 'Memorial simulated runtime (native)'" in proc.stdout


@pytest.mark.parametrize("layout", ["per_eye", "array"])
def test_headset_session_renders_both_eyes_follows_head_and_lights_candle(native_runtime, tmp_path, layout):
    aim = aim_at((0.0, 0.0, -2.0))  # the right controller points at the candle
    lines = ["save 10", "head 20 10", "save 30",
             "aim right 0 " + " ".join(f"{v:.6f}" for v in (*aim.position, *aim.orientation)),
             "input right 40 /input/trigger/value 1.0", "input right 43 /input/trigger/value 0.0",
             "save 50", "quit 60"]
    proc, out, log = run_child(native_runtime, tmp_path, lines, flags=["--array"] if layout == "array" else [])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"layout {layout}" in log  # one swapchain per eye, or one two-layer array
    # Session: the spec's states in order, ended and destroyed by the app.
    states = [int(line.split()[1]) for line in log.splitlines() if line.startswith("state")]
    assert states == [1, 2, 3, 4, 5, 4, 3, 6, 1, 8]
    assert log.index("end_session") < log.index("destroy_session") < log.rindex("destroy_instance")
    assert "openxr: frames 60" in proc.stdout
    # Both eyes render the candle, offset by the interpupillary distance through each eye's
    # own asymmetric frustum (this also checks the swapchain copy and orientation).
    left, right = ppm(out / "frame10_eye0.ppm"), ppm(out / "frame10_eye1.ppm")
    assert left.shape == right.shape == (EYE, EYE, 3)
    assert centroid_x(left, RED) == pytest.approx(expected_x(LEFT_FOV, -IPD / 2, EYE), abs=1.0)
    assert centroid_x(right, RED) == pytest.approx(expected_x(RIGHT_FOV, IPD / 2, EYE), abs=1.0)
    # The scripted head turns 10 degrees left at frame 20: the candle slides right.
    turned = ppm(out / "frame30_eye0.ppm")
    shift = centroid_x(turned, RED) - centroid_x(left, RED)
    assert shift == pytest.approx(math.tan(math.radians(10)) / (math.tan(LEFT_FOV.angle_right)
                                                             - math.tan(LEFT_FOV.angle_left)) * EYE, abs=1.5)
    # The trigger press at frame 40 lit the candle.
    assert "candle lit" in proc.stdout
    lit = ppm(out / "frame50_eye0.ppm")
    assert YELLOW(lit).sum() > 20 and RED(lit).sum() == 0


def test_runtime_without_headset_falls_back_to_desktop(native_runtime, tmp_path):
    code = "from vr_app.xr.display import choose_display; print(*choose_display('auto'), sep='|')"
    env = dict(os.environ, XR_RUNTIME_JSON=str(native_runtime["manifest"]), MEMORIAL_XR_SIM_NO_HMD="1",
               MEMORIAL_XR_SIM_SCRIPT=str(tmp_path / "none.txt"), DISPLAY=native_runtime["display"])
    proc = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
    display, reason = proc.stdout.strip().split("|")
    assert display == "desktop"
    assert "no headset is connected" in reason and native_runtime["display"] in reason


def test_memorial_room_and_head_reach_both_eyes(native_runtime, tmp_path):
    size = 256
    images = {}
    for kind in ("memorial", "memorial-nohead"):
        folder = tmp_path / kind
        folder.mkdir()
        proc, out, log = run_child(native_runtime, folder, [f"size {size} {size}", "save 10", "quit 20"],
                                   frames=100, scene=kind)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        images[kind] = [ppm(out / f"frame10_eye{eye}.ppm").astype(int) for eye in (0, 1)]
    for eye, fov in ((0, LEFT_FOV), (1, RIGHT_FOV)):
        with_head, without = images["memorial"][eye], images["memorial-nohead"][eye]
        assert with_head.shape == (size, size, 3) and with_head.std() > 20  # the lit room
        changed = np.abs(with_head - without).sum(-1) > 30  # [H,W] where the bust made a difference
        assert changed.sum() > 100, f"the head is not in eye {eye}"
        # The top fifth of the difference is the head itself: the bust also casts a shadow (GL shading),
        # but the key light is above the head, so the shadow falls lower in the picture.
        rows = np.nonzero(changed.any(1))[0]
        top = changed[rows.min():rows.min() + max(4, (rows.max() - rows.min()) // 5)]
        cols = np.nonzero(top.any(0))[0]
        ahead = expected_x(fov, 0.0, size)  # the bust sits straight ahead of the seat
        assert abs((cols.min() + cols.max()) / 2 - ahead) < 12


def test_hand_tracking_pinch_lights_candle(native_runtime, tmp_path):
    palm = aim_at((0.0, 0.0, -2.0))  # no controller: the tracked right hand points at the candle
    pose = " ".join(f"{v:.6f}" for v in (*palm.position, *palm.orientation))
    lines = ["hands", f"joints right 0 0.08 {pose}", f"joints right 40 0.004 {pose}", "save 50", "quit 60"]
    proc, out, log = run_child(native_runtime, tmp_path, lines)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "create_hand_tracker 1" in log and "create_hand_tracker 2" in log
    assert "candle lit" in proc.stdout
    assert YELLOW(ppm(out / "frame50_eye0.ppm")).sum() > 20


def test_open_hand_does_not_select(native_runtime, tmp_path):
    palm = aim_at((0.0, 0.0, -2.0))
    pose = " ".join(f"{v:.6f}" for v in (*palm.position, *palm.orientation))
    proc, out, log = run_child(native_runtime, tmp_path, ["hands", f"joints right 0 0.08 {pose}", "quit 30"])
    assert proc.returncode == 0 and "candle lit" not in proc.stdout


def test_mirror_window_shows_the_left_eye(native_runtime, tmp_path, monkeypatch):
    shot = tmp_path / "mirror.png"
    monkeypatch.setenv("MEMORIAL_MIRROR_SHOT", str(shot))
    proc, out, log = run_child(native_runtime, tmp_path, ["save 11", "quit 20"], flags=["--mirror"])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "openxr: frames 20" in proc.stdout and "destroy_session" in log
    from PIL import Image
    mirror = np.asarray(Image.open(shot).convert("RGB").resize((EYE, EYE)))  # [H,W,3] the 640x360 window
    left = ppm(out / "frame11_eye0.ppm")
    assert centroid_x(mirror, RED) == pytest.approx(centroid_x(left, RED), abs=3)  # same picture, stretched
