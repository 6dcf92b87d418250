"""Therapist console command -> client reaction latency on loopback, for Pause and Emergency stop.

Run: python -m tests.benchmarks.bench_session   (target: p50 and p99 <= 100 ms for both)

The client is the real headless client process (controller + link, 60 Hz tick). 'client' is the
time from the browser-side socket sending the command to the client process printing the new
state (one way, plus a pipe); 'console' is until the console's status shows the client's
acknowledgement (the round trip the therapist sees). The desktop rows do the same through the
real desktop viewer in a window under Xvfb (software GL), round trip only.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time

from vr_app.console.service import ConsoleService
from generation.session.plan import parse_plan
from generation.session.store import save_plan
from generation.vault import create_vault
from generation.vault.consent import parse_consent
from tests.conftest import consent_toml
from tests.session.conftest import CHECKLIST_OK, PLAN_TOML
from tests.session.helpers import Browser, HeadlessClient, LiveConsole
from vr_app.session import protocol as p

PAUSES = 60  # pause + resume pairs in one session
STOPS = 15  # each emergency stop ends a session: a fresh client each time
DESKTOP_PAUSES = 30
DESKTOP_STOPS = 3  # a window per stop: a few seconds each


def percentile(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q / 100 * (len(xs) - 1))))]


def timed(browser: Browser, client: HeadlessClient, name: str, mode: str) -> tuple[float, float]:
    before = len(client.states)
    t0 = time.perf_counter()
    browser.command(name)
    while not any(s["mode"] == mode for s in client.states[before:]):
        time.sleep(0.0005)
    t_client = time.perf_counter() - t0
    browser.wait_client("mode", mode)
    return t_client, time.perf_counter() - t0


def joined(live: LiveConsole, service: ConsoleService, browser: Browser) -> HeadlessClient:
    client = HeadlessClient(live.client_url, service.issue_code())
    if not client.joined.wait(15):
        raise RuntimeError(client.proc.stderr.read())
    browser.wait_status(lambda s: s["client"]["connected"])
    browser.command("start")
    client.wait_for(lambda s: s["mode"] == "running", 10)
    return client


def round_trip(browser: Browser, name: str, mode: str) -> float:
    t0 = time.perf_counter()
    browser.command(name)
    browser.wait_client("mode", mode)
    return time.perf_counter() - t0


def desktop(live: LiveConsole, service: ConsoleService, browser: Browser, results: dict) -> None:
    """The same through the real desktop viewer in a window under Xvfb (round trip only)."""
    import shutil
    import subprocess
    import sys

    from assets.artifacts import KEYS
    from tests.session.helpers import REPO, start_xvfb
    from tests.vr_app.heads import make_head

    if shutil.which("Xvfb") is None:
        print("desktop viewer: skipped (no Xvfb)")
        return
    service.vault.put(KEYS["head"], make_head(subdivisions=4).to_bytes())
    xvfb, display = start_xvfb()
    env = dict(os.environ, DISPLAY=display, PYTHONPATH=str(REPO), MEMORIAL_PASSPHRASE="benchmark-passphrase")
    results["desktop: pause -> console sees ack"] = []
    results["desktop: stop -> console sees ack"] = []
    try:
        for i in range(DESKTOP_STOPS):
            browser.wait_status(lambda s: not s["client"]["connected"])
            viewer = subprocess.Popen([sys.executable, "-m", "generation.cli", "view", "bench", "--session",
                                       service.issue_code(), "--console", live.client_url, "--display", "desktop",
                                       "--seconds", "120"], env=env, cwd=REPO,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            browser.wait_status(lambda s: s["client"]["connected"] and s["client"]["state"], timeout=60)
            browser.command("start")
            browser.wait_client("mode", "running")
            time.sleep(2.0)  # past the window's first heavy frames (texture uploads): steady state
            for _ in range(DESKTOP_PAUSES if i == 0 else 0):
                results["desktop: pause -> console sees ack"].append(round_trip(browser, "pause", "paused"))
                round_trip(browser, "resume", "running")
            results["desktop: stop -> console sees ack"].append(round_trip(browser, "emergency_stop", "stopped"))
            viewer.terminate()
            viewer.wait(timeout=20)
    finally:
        xvfb.terminate()


def row(name: str, xs: list[float]) -> str:
    ms = [x * 1000 for x in xs]
    return f"{name:<28} n={len(ms):>3}  p50 {statistics.median(ms):6.1f} ms  p99 {percentile(ms, 99):6.1f} ms"


def main() -> None:
    with tempfile.TemporaryDirectory() as home:
        os.environ["MEMORIAL_HOME"] = home
        vault = create_vault("bench", parse_consent(consent_toml()), "owner", "benchmark-passphrase")
        save_plan(vault, parse_plan(PLAN_TOML))
        service = ConsoleService(vault)
        live = LiveConsole(service)
        browser = Browser(live)
        browser.send(p.ChecklistAnswers(answers=CHECKLIST_OK))
        browser.wait_status(lambda s: s["checklist"]["complete"])
        results = {"pause -> client": [], "pause -> console sees ack": [], "stop -> client": [],
                   "stop -> console sees ack": []}
        client = joined(live, service, browser)
        for _ in range(PAUSES):
            one_way, acked = timed(browser, client, "pause", "paused")
            results["pause -> client"].append(one_way)
            results["pause -> console sees ack"].append(acked)
            timed(browser, client, "resume", "running")
        client.stop()
        for _ in range(STOPS):
            browser.wait_status(lambda s: not s["client"]["connected"])
            client = joined(live, service, browser)
            browser.command("next")
            client.wait_for(lambda s: s["likeness"] == "far", 10)
            one_way, acked = timed(browser, client, "emergency_stop", "stopped")
            results["stop -> client"].append(one_way)
            results["stop -> console sees ack"].append(acked)
            client.stop()
        desktop(live, service, browser, results)
        browser.close()
        live.stop()  # its shutdown closes the service: record and last audit lines written
        vault.close()
    print("Console command -> client reaction, loopback (target p50/p99 <= 100 ms)")
    for name, xs in results.items():
        print(row(name, xs))


if __name__ == "__main__":
    main()
