"""A session in the headset through the real OpenXR path (pyopenxr, the loader, a GLX session)
against the small C runtime the XR tests compile: `memorial view NAME --session CODE
--display openxr` joins the console, the therapist's commands reach it, and the eye images
show the room with the likeness, then the plain neutral room after an emergency stop."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import numpy as np
import pytest

from tests.conftest import OWNER_PASS
from tests.session.conftest import CHECKLIST_OK
from tests.session.helpers import REPO, Browser
from tests.xr.test_native_runtime import native_runtime, ppm  # noqa: F401  (the fixture is used by name)
from vr_app.session import protocol as p
from vr_app.session.room_view import NEUTRAL_RGB

EYE = 96
SAVE_EVERY = 8  # frames; the runtime's script holds at most 256 lines


def _wait_for_frames(out, n: int = 3, seconds: float = 1.5, timeout: float = 60.0) -> None:
    """At least `seconds` and until the runtime has saved n more eye images: on a loaded machine a fixed
    sleep alone could pass before the viewer drew the state it was given (seen in CI: no room frame)."""
    start, t0 = len(list(out.glob("frame*_eye0.ppm"))), time.monotonic()
    deadline = t0 + timeout
    while len(list(out.glob("frame*_eye0.ppm"))) < start + n or time.monotonic() < t0 + seconds:
        assert time.monotonic() < deadline, f"the runtime saved no {n} new eye images in {timeout:.0f} s"
        time.sleep(0.1)


@pytest.mark.slow
def test_headset_session_follows_the_console(native_runtime, live, service, planned_vault,  # noqa: F811
                                             memorial_home, tmp_path):
    from assets.artifacts import KEYS
    from tests.vr_app.heads import make_head

    planned_vault.put(KEYS["head"], make_head(3).to_bytes())
    out = tmp_path / "eyes"
    out.mkdir()
    script = tmp_path / "script.txt"
    script.write_text("\n".join([f"out {out}", f"size {EYE} {EYE}"] +
                                [f"save {f}" for f in range(SAVE_EVERY, SAVE_EVERY * 250, SAVE_EVERY)]) + "\n")
    env = dict(os.environ, DISPLAY=native_runtime["display"], XR_RUNTIME_JSON=str(native_runtime["manifest"]),
               MEMORIAL_XR_SIM_SCRIPT=str(script), PYTHONPATH=str(REPO), MEMORIAL_HOME=str(memorial_home),
               MEMORIAL_PASSPHRASE=OWNER_PASS)
    browser = Browser(live)
    viewer = subprocess.Popen([sys.executable, "-m", "generation.cli", "view", "rose", "--session",
                               service.issue_code(), "--console", live.client_url, "--display", "openxr",
                               "--seconds", "60"], env=env, cwd=REPO, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    try:
        browser.wait_status(lambda s: s["client"]["connected"] and s["client"]["state"], timeout=60)
        browser.send(p.ChecklistAnswers(answers=CHECKLIST_OK))
        for name in ("start", "next", "next"):
            browser.command(name)
        browser.wait_client("likeness", "near", timeout=30)
        _wait_for_frames(out)  # some frames with the likeness near (a loaded machine renders slowly)
        browser.command("emergency_stop")
        stopped = browser.wait_client("mode", "stopped", timeout=30)
        assert stopped["room"] == "neutral"
        _wait_for_frames(out)  # some frames of the neutral room
    finally:
        viewer.terminate()
        output = viewer.communicate(timeout=30)[0]
        browser.close()
    assert "in the headset" in output, output[-2000:]
    saved = sorted(out.glob("frame*_eye0.ppm"), key=lambda f: int(re.findall(r"\d+", f.name)[0]))
    assert len(saved) > 5, output[-2000:]
    eyes = [ppm(f).astype(float) for f in saved]
    room = max(eyes, key=lambda img: img.std())
    neutral = eyes[-1]
    assert room.std() > 20  # the memorial room with the likeness reached the eye
    assert np.abs(neutral.reshape(-1, 3).mean(axis=0) - np.array(NEUTRAL_RGB) * 255).max() < 25
    assert neutral.std() < room.std() / 2
