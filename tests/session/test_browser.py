"""The console in Debian's Chromium (Playwright), pressing each control against a real client:
the desktop viewer in a window under Xvfb, and the headless client for the closing ritual."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

import numpy as np
import pytest

from tests.conftest import OWNER_PASS
from tests.session.helpers import (CHROMIUM, CHROMIUM_ARGS, REPO, HeadlessClient, mean_rgb, start_xvfb)

pytestmark = [
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed (apt-get install chromium)"),
]
WAIT_MS = 15000
NEUTRAL = np.array([0.78, 0.78, 0.76]) * 255  # vr_app.session.room_view.NEUTRAL_RGB


@pytest.fixture
def page(live):
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        pg = browser.new_page(viewport={"width": 1400, "height": 900})
        pg.goto(live.url)
        pg.wait_for_selector("#conn.on", timeout=WAIT_MS)
        pg.click("#btn-pair")  # a fresh one-time code for the client
        pg.wait_for_function("/^[A-Z2-9]{4}-[A-Z2-9]{4}$/.test(document.getElementById('code').textContent)",
                             timeout=WAIT_MS)
        yield pg
        browser.close()


def answer_checklist(pg) -> None:
    for name in ("adult_client", "client_consent"):
        pg.check(f'input[name="{name}"][value="true"]')
    for name in ("acute_suicidality", "psychosis", "severe_dissociation", "photosensitive_epilepsy"):
        pg.check(f'input[name="{name}"][value="false"]')
    pg.check('input[name="cybersickness"][value="low"]')


def wait_mode(service, mode: str, timeout: float = 15.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        st = service.client_state
        if st and st["mode"] == mode:
            return st
        time.sleep(0.01)
    raise AssertionError(f"client never reached {mode}; state: {service.client_state}")


def page_shows(pg, mode: str) -> None:
    """Wait until the page itself shows the client's mode (the toggling keys read it there)."""
    pg.wait_for_function(f"document.getElementById('st-mode').textContent.startsWith('{mode}')", timeout=WAIT_MS)


def frames_seen(pg) -> int:
    return int(pg.get_attribute("#mirror", "data-frames") or 0)


def fresh_mirror(pg, timeout_s: float = 10.0) -> np.ndarray:
    """Mean colour of the first mirror frame captured wholly after this call (frames come ~1/s)."""
    wanted = frames_seen(pg) + 2
    deadline = time.monotonic() + timeout_s
    while frames_seen(pg) < wanted:
        if time.monotonic() > deadline:
            raise AssertionError("no new mirror frame")
        time.sleep(0.1)
    return mean_rgb(pg.get_attribute("#mirror", "src"))


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("Xvfb") is None, reason="no Xvfb (install xvfb)")
def test_each_control_against_the_desktop_viewer(page, live, service, planned_vault, memorial_home, tmp_path):
    from assets.artifacts import KEYS
    from tests.vr_app.heads import make_head

    planned_vault.put(KEYS["head"], make_head(subdivisions=4).to_bytes())
    pg = page
    assert pg.is_disabled("#btn-start")
    assert "no client connected" in pg.inner_text("#blocked")
    code = pg.inner_text("#code")
    xvfb, display = start_xvfb()
    env = dict(os.environ, DISPLAY=display, PYTHONPATH=str(REPO), MEMORIAL_HOME=str(memorial_home),
               MEMORIAL_PASSPHRASE=OWNER_PASS)
    viewer = subprocess.Popen([sys.executable, "-m", "generation.cli", "view", "rose", "--session", code,
                               "--console", live.client_url, "--display", "desktop", "--seconds", "90"],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=REPO)
    try:
        pg.wait_for_selector("#client-conn.on", timeout=60000)
        assert pg.is_disabled("#btn-start")  # connected, but the checklist is not done
        answer_checklist(pg)
        pg.wait_for_function("!document.getElementById('btn-start').disabled", timeout=WAIT_MS)
        pg.click("#btn-start")
        assert wait_mode(service, "running")["room"] == "neutral"
        pg.click("#btn-next")
        pg.keyboard.press("n")  # one key each, as well as one click
        pg.wait_for_function("document.getElementById('st-room').textContent.includes('likeness near')",
                             timeout=WAIT_MS)
        bright = fresh_mirror(pg)
        pg.click("#btn-pause")
        paused = wait_mode(service, "paused")
        assert paused["volume"] == 0.0 and paused["frozen"] and paused["dim"] > 0.5
        dimmed = fresh_mirror(pg)
        assert dimmed.mean() < 0.7 * bright.mean(), (bright, dimmed)  # the window really dimmed
        page_shows(pg, "paused")
        pg.keyboard.press("p")  # Pause again resumes
        wait_mode(service, "running")
        pg.click("#btn-grounding")
        assert wait_mode(service, "grounding")["room"] == "safe"
        page_shows(pg, "grounding")
        pg.keyboard.press("g")  # Grounding again goes back
        wait_mode(service, "running")
        pg.click("#btn-next")
        pg.click("#btn-next")  # plays the first authored line
        deadline = time.monotonic() + 10
        while (service.client_state or {}).get("line") != "I am proud of you." and time.monotonic() < deadline:
            time.sleep(0.02)
        assert service.client_state["line"] == "I am proud of you."
        pg.keyboard.press("x")
        t0 = time.monotonic()
        stopped = wait_mode(service, "stopped")
        reaction_s = time.monotonic() - t0
        assert (stopped["room"], stopped["likeness"], stopped["volume"]) == ("neutral", "none", 0.0)
        neutral = fresh_mirror(pg)
        assert np.abs(neutral - NEUTRAL).max() < 25, neutral  # the window shows the plain neutral room
        print(f"emergency stop -> client neutral: {reaction_s * 1000:.0f} ms (seen from the console)")
        shot = os.environ.get("SESSION_CONSOLE_SCREENSHOT") or str(tmp_path / "console.png")
        pg.screenshot(path=shot, full_page=True)
    finally:
        viewer.terminate()
        out = viewer.communicate(timeout=20)[0]
        xvfb.terminate()
        xvfb.wait(timeout=10)
        print(out[-3000:])
    assert "Joined session" in out
    service.writer.flush()
    commands = [e.detail["command"] for e in planned_vault.audit_entries() if e.action == "session_command"]
    assert commands == ["start", "next", "next", "pause", "resume", "grounding", "resume", "next", "next",
                        "emergency_stop"]


@pytest.mark.slow
def test_end_suds_notes_and_refusals_against_the_headless_client(page, live, service, cli, tmp_path):
    from tests.session.conftest import PLAN_TOML

    service.store_plan(PLAN_TOML.replace("fade_s = 8", "fade_s = 1"))  # a short fade keeps the test quick
    plan = service.plan
    pg = page
    pg.wait_for_function("document.getElementById('resources').textContent.includes('Crisis line')",
                         timeout=WAIT_MS)  # the grounding resources are on the therapist's screen
    client = HeadlessClient(live.client_url, pg.inner_text("#code"), link_timeout=2.0)
    try:
        pg.wait_for_selector("#client-conn.on", timeout=WAIT_MS)
        pg.keyboard.press("s")  # Start while the checklist is incomplete
        pg.wait_for_function("document.getElementById('alerts').textContent.includes('Start is blocked')",
                             timeout=WAIT_MS)
        assert service.client_state["mode"] == "waiting"
        answer_checklist(pg)
        pg.fill('input[name="ssq_before"]', "6")
        pg.press('input[name="ssq_before"]', "Tab")
        pg.wait_for_function("!document.getElementById('btn-start').disabled", timeout=WAIT_MS)
        pg.keyboard.press("s")
        client.wait_for(lambda s: s["mode"] == "running" and s["suds_prompt"], 10)
        client.say("suds 85")
        pg.wait_for_function("document.getElementById('alerts').textContent.includes('above the plan')",
                             timeout=WAIT_MS)
        pg.fill("#note-text", "Calm in the neutral room.")
        pg.click("#note-form button")
        pg.wait_for_function("document.getElementById('notes').textContent.includes('Calm in the neutral')",
                             timeout=WAIT_MS)
        pg.click("#btn-suds")
        client.wait_for(lambda s: s["suds_prompt"], 10)
        pg.click("#btn-end")
        closing = client.wait_for(lambda s: s["mode"] == "closing", 10)
        assert closing["line"] == plan.goodbye
        ended = client.wait_for(lambda s: s["mode"] == "ended", plan.fade_s + 10)
        assert (ended["room"], ended["message"]) == ("neutral", plan.reality)
        pg.fill("#ssq-after", "14")
        pg.click("#ssq-form button")
        pg.wait_for_function("document.getElementById('st-mode').textContent.startsWith('ended')", timeout=WAIT_MS)
    finally:
        client.stop()
    assert service.record.ssq_before == 6 and service.record.ssq_after == 14
    assert [s["value"] for s in service.record.suds] == [85]
    # ... and the report of the session just run, from the record the console stored
    service.writer.flush()
    out = tmp_path / "report.html"
    result = cli("session", "report", "rose", service.record.id, "-o", str(out))
    assert result.exit_code == 0, result.output
    report = out.read_text()
    for expected in ("Calm in the neutral room.", plan.goodbye, "command  end", "Client A"):
        assert expected in report, expected
