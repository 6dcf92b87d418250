"""Display choice and the real pyopenxr boundary (no runtime is installed on this machine),
plus `run_openxr_view` end to end on the simulated runtime, with the mirror."""

import numpy as np
import pytest
from panda3d.core import NodePath

from vr_app.xr.adapter import RuntimeUnavailable
from vr_app.xr.display import choose_display, make_mirror, run_openxr_view
from vr_app.xr.pyopenxr_runtime import Probe, probe_runtime
from vr_app.xr.simulated import SimulatedRuntime

from .conftest import EYE, TinyRoom

NO_XR = lambda: Probe(False, "no OpenXR runtime is installed")  # noqa: E731
XR_OK = lambda: Probe(True, "OpenXR runtime 'Monado' with headset 'Index'", "Monado", "Index")  # noqa: E731
DESK = lambda: (True, "desktop display $DISPLAY=:0")  # noqa: E731
NO_DESK = lambda: (False, "no desktop display ($DISPLAY and $WAYLAND_DISPLAY are unset)")  # noqa: E731


def test_real_probe_reports_unavailable_quietly(capfd, monkeypatch):
    monkeypatch.delenv("XR_RUNTIME_JSON", raising=False)
    probe = probe_runtime()
    assert probe.available is False
    assert "no OpenXR runtime" in probe.reason
    assert "\n" not in probe.reason
    err = capfd.readouterr().err
    assert "OpenXR-Loader" not in err  # the loader's own error lines are kept from the user


def test_probe_with_a_broken_runtime_manifest(tmp_path, monkeypatch):
    manifest = tmp_path / "runtime.json"
    manifest.write_text('{"file_format_version": "1.0.0", "runtime": {"library_path": "./missing_runtime.so"}}')
    monkeypatch.setenv("XR_RUNTIME_JSON", str(manifest))
    probe = probe_runtime()
    assert probe.available is False  # the loader cannot load it: it counts as no runtime
    assert "OpenXR runtime" in probe.reason and "\n" not in probe.reason


def test_real_runtime_constructor_raises_one_line_error(monkeypatch):
    monkeypatch.delenv("XR_RUNTIME_JSON", raising=False)
    from vr_app.xr.pyopenxr_runtime import PyOpenXRRuntime
    with pytest.raises(RuntimeUnavailable, match="no OpenXR runtime"):
        PyOpenXRRuntime()


def test_auto_on_this_machine_falls_back_with_a_reason(monkeypatch):
    monkeypatch.delenv("XR_RUNTIME_JSON", raising=False)
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    display, reason = choose_display("auto")
    assert display == "none"
    assert "no OpenXR runtime" in reason and "no desktop display" in reason
    monkeypatch.setenv("DISPLAY", ":99")
    display, reason = choose_display("auto")
    assert display == "desktop" and "no OpenXR runtime" in reason and ":99" in reason


@pytest.mark.parametrize("mode,probe,desk,expect", [
    ("auto", XR_OK, DESK, "openxr"),
    ("auto", NO_XR, DESK, "desktop"),
    ("auto", NO_XR, NO_DESK, "none"),
    ("openxr", NO_XR, DESK, "none"),
    ("openxr", XR_OK, NO_DESK, "openxr"),
    ("desktop", XR_OK, DESK, "desktop"),
    ("desktop", XR_OK, NO_DESK, "none"),
])
def test_choose_display_matrix(mode, probe, desk, expect):
    display, reason = choose_display(mode, probe=probe, desktop=desk)
    assert display == expect
    assert reason and "\n" not in reason


def test_choose_display_rejects_unknown_mode():
    with pytest.raises(ValueError, match="openxr, desktop, auto"):
        choose_display("cardboard")


class RoomWithUpdate(TinyRoom):
    def __init__(self, render):
        super().__init__(render)
        self.xr_events = []

    def on_xr_event(self, event):
        self.xr_events.append(event.kind)


def test_run_openxr_view_on_simulated_runtime(capsys):
    sim = SimulatedRuntime(eye_size=EYE)
    built = {}

    def builder(render):
        built["scene"] = RoomWithUpdate(render)
        return built["scene"]

    stats = run_openxr_view(builder, runtime=sim, frames=20, stats=True, eye_size=EYE)
    scene = built["scene"]
    assert stats.frames >= 20 and sim.calls[-1] == "destroy" and "end_session" in sim.calls
    assert len(scene.updates) >= 19 and scene.updates == sorted(scene.updates)  # display time, increasing
    assert "session" in scene.xr_events
    assert capsys.readouterr().out.startswith("openxr: frames ")


def test_mirror_shows_the_left_eye(host, make_loop):
    engine, buf = host
    loop, sim, scene, tm = make_loop()
    out, _ = make_mirror(engine, buf, loop.textures[0], size=EYE, window=False)
    try:
        for _ in range(6):
            tm.step()
        shot = out.get_screenshot()
        mirror = np.frombuffer(bytes(shot.get_ram_image_as("RGBA")), np.uint8).reshape(EYE[1], EYE[0], 4)[::-1]
        left = sim.submitted[0]
        diff = np.abs(mirror[..., :3].astype(int) - left[..., :3].astype(int))
        assert np.median(diff) <= 2  # the same picture (one frame behind at most)
        assert (mirror[..., 0] > 150).sum() > 20  # the candle is there
    finally:
        engine.remove_window(out)


def test_run_openxr_view_without_runtime_is_a_one_line_memorial_error(monkeypatch):
    from assets.errors import MemorialError
    monkeypatch.delenv("XR_RUNTIME_JSON", raising=False)
    monkeypatch.delenv("DISPLAY", raising=False)
    with pytest.raises(MemorialError) as info:
        run_openxr_view(TinyRoom, frames=1)
    assert "\n" not in str(info.value) and ("X display" in str(info.value) or "OpenXR" in str(info.value))


def test_a_scene_must_say_it_is_an_xr_scene():
    """The headset loop no longer probes scenes attribute by attribute: a scene without the XrScene
    members is refused before the session starts."""
    from vr_app.xr.scene_api import XrScene

    class Bare:
        def __init__(self, render):
            self.root = render.attach_new_node("bare")

    assert isinstance(TinyRoom(NodePath("render")), XrScene) and not isinstance(Bare(NodePath("r")), XrScene)
    sim = SimulatedRuntime(eye_size=EYE)
    with pytest.raises(TypeError, match="not an XrScene"):
        run_openxr_view(Bare, runtime=sim, frames=1, eye_size=EYE)
