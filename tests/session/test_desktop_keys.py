"""The client's own keys in the real desktop viewer (a window under Xvfb, keys sent with xdotool):
SUDS typed in the window reaches the therapist; `q` leaves at once and closes the window."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from tests.conftest import OWNER_PASS
from tests.session.conftest import CHECKLIST_OK
from tests.session.helpers import REPO, Browser, start_xvfb
from vr_app.session import protocol as p

pytestmark = pytest.mark.skipif(shutil.which("Xvfb") is None or shutil.which("xdotool") is None,
                                reason="needs Xvfb and xdotool (apt-get install xvfb xdotool)")


def keys(env: dict, *names: str) -> None:
    """Focus the viewer's window and press keys. xdotool's status is not checked: after `q` the window
    is gone before it finishes; each test checks the effect instead."""
    subprocess.run(["xdotool", "search", "--sync", "--name", "Memorial", "windowfocus", "--sync", "key",
                    "--delay", "50", *names], env=env, capture_output=True, timeout=30)


@pytest.mark.slow
def test_suds_typed_in_the_window_and_q_leaves(live, service, planned_vault, memorial_home):
    from assets.artifacts import KEYS
    from tests.vr_app.heads import make_head

    planned_vault.put(KEYS["head"], make_head(subdivisions=3).to_bytes())
    xvfb, display = start_xvfb()
    env = dict(os.environ, DISPLAY=display, PYTHONPATH=str(REPO), MEMORIAL_HOME=str(memorial_home),
               MEMORIAL_PASSPHRASE=OWNER_PASS)
    viewer = subprocess.Popen([sys.executable, "-m", "generation.cli", "view", "rose", "--session",
                               service.issue_code(), "--console", live.client_url, "--display", "desktop",
                               "--seconds", "60"], env=env, cwd=REPO, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    browser = Browser(live)
    try:
        browser.wait_status(lambda s: s["client"]["connected"], timeout=60)
        browser.send(p.ChecklistAnswers(answers=CHECKLIST_OK))
        browser.command("start")
        assert browser.wait_client("suds_prompt", True, timeout=30)["mode"] == "running"
        keys(env, "5", "5", "Return")
        suds = browser.wait_status(lambda s: len(s["suds"]) == 1, timeout=30)["suds"]
        assert (suds[0]["value"], suds[0]["source"]) == (55, "client")
        keys(env, "q")
        left = browser.wait_client("mode", "left", timeout=30)
        assert (left["room"], left["volume"]) == ("neutral", 0.0)
        assert viewer.wait(timeout=30) == 0  # the window closed: the client is out
    finally:
        if viewer.poll() is None:
            viewer.terminate()
        viewer.communicate(timeout=30)
        browser.close()
        xvfb.terminate()
        xvfb.wait(timeout=10)
