"""The real client controller in its own process against a live console on loopback."""

from __future__ import annotations

import os
import time

import pytest

from tests.session.conftest import CHECKLIST_OK
from tests.session.helpers import Browser, HeadlessClient
from vr_app.session import protocol as p

WAIT_S = 10.0  # functional timeouts on a loaded 2-core machine; the latency figures are in the benchmark


@pytest.fixture
def running(live, service):
    """A console, a joined headless client, a browser socket, the checklist done and the session started."""
    client = HeadlessClient(live.client_url, service.issue_code(), link_timeout=1.0)
    assert client.joined.wait(WAIT_S), client.proc.stderr.read()
    browser = Browser(live)
    browser.send(p.ChecklistAnswers(answers=CHECKLIST_OK))
    browser.wait_status(lambda s: s["checklist"]["complete"])
    browser.command("start")
    client.wait_for(lambda s: s["mode"] == "running", WAIT_S)
    yield client, browser
    browser.close()
    client.stop()


def test_pause_dims_and_silences_and_emergency_stop_shows_the_neutral_room(running, service):
    client, browser = running
    for _ in range(4):
        browser.command("next")
    spoken = client.wait_for(lambda s: s["line"] == "I am proud of you.", WAIT_S)
    assert spoken["volume"] == 1.0 and spoken["likeness"] == "near"
    browser.command("pause")
    paused = client.wait_for(lambda s: s["mode"] == "paused", WAIT_S)
    assert paused["dim"] > 0.5 and paused["volume"] == 0.0 and paused["frozen"] and paused["line"] == ""
    browser.command("resume")
    client.wait_for(lambda s: s["mode"] == "running", WAIT_S)
    browser.command("emergency_stop")
    stopped = client.wait_for(lambda s: s["mode"] == "stopped", WAIT_S)
    assert (stopped["room"], stopped["likeness"], stopped["volume"]) == ("neutral", "none", 0.0)
    assert stopped["label"] == "AI-generated likeness"
    shown = browser.wait_client("mode", "stopped")
    assert shown["ack"] == service.seq
    lines = [x["text"] for x in service.record.lines]
    assert lines == ["I am proud of you."]


def test_losing_the_console_pauses_the_client_into_the_neutral_room(running, live):
    client, browser = running
    browser.command("next")
    client.wait_for(lambda s: s["likeness"] == "far", WAIT_S)
    live.stop()  # the console goes away: no heartbeats, the socket closes
    lost = client.wait_for(lambda s: s["mode"] == "paused", WAIT_S)
    assert (lost["room"], lost["likeness"], lost["volume"], lost["reason"]) == ("neutral", "none", 0.0, "link lost")


def test_the_client_leaves_with_one_key_and_the_therapist_is_told(running, service):
    client, browser = running
    client.say("leave")
    left = client.wait_for(lambda s: s["mode"] == "left", WAIT_S)
    assert left["room"] == "neutral" and left["volume"] == 0.0
    browser.wait_client("mode", "left")
    assert "The client left the session." in browser.alerts
    client.say("suds 55")  # answering is still possible only while prompted; nothing breaks
    assert service.record.ended_t is not None


def test_suds_answer_above_threshold_alerts_the_therapist(running, service, plan):
    client, browser = running
    client.say(f"suds {plan.suds_alert_above + 10}")
    browser.wait_status(lambda s: len(s["suds"]) == 1)
    assert any("above the plan's threshold" in a for a in browser.alerts)
    assert service.record.suds[0]["source"] == "client"


def test_a_replayed_code_is_refused_by_the_real_client(live, service):
    code = service.issue_code()
    first = HeadlessClient(live.client_url, code)
    assert first.joined.wait(WAIT_S)
    first.stop()
    again = HeadlessClient(live.client_url, code)
    assert again.proc.wait(WAIT_S) != 0
    assert "refused the pairing code" in again.proc.stderr.read()


def test_a_dropped_connection_is_rejoined_with_the_resume_token(running, live, service):
    client, browser = running
    browser.command("next")
    client.wait_for(lambda s: s["likeness"] == "far", WAIT_S)
    live.drop_client()
    browser.wait_status(lambda s: not s["client"]["connected"])
    browser.wait_status(lambda s: s["client"]["connected"])  # back, without a new pairing code
    assert [e["kind"] for e in service.record.events].count("client_rejoined") == 1
    browser.command("pause")
    client.wait_for(lambda s: s["mode"] == "paused", WAIT_S)
    browser.command("resume")
    assert client.wait_for(lambda s: s["mode"] == "running", WAIT_S)["likeness"] == "far"


def test_a_resume_token_cannot_be_used_while_the_client_is_connected_or_twice(live, service):
    from vr_app.session.link import SessionLink, SessionRefused

    def wait_gone():
        deadline = time.monotonic() + WAIT_S
        while service.client_connected and time.monotonic() < deadline:
            time.sleep(0.02)

    first = SessionLink(live.client_url, service.issue_code(), "headless")
    token = first.welcome.resume
    with pytest.raises(SessionRefused, match="already connected"):
        SessionLink(live.client_url, token, "headless")
    first.close()
    wait_gone()
    second = SessionLink(live.client_url, token, "headless")
    second.close()
    wait_gone()
    with pytest.raises(SessionRefused):
        SessionLink(live.client_url, token, "headless")  # rotated on the rejoin: single use


def test_the_hard_cap_ends_the_session_in_the_client_by_itself(live, service):
    from tests.session.conftest import PLAN_TOML

    short = (PLAN_TOML.replace("duration_min = 45", "duration_min = 0.02")
             .replace("hard_cap_min = 60", "hard_cap_min = 0.05").replace("fade_s = 8", "fade_s = 1"))
    service.store_plan(short)  # a 3-second cap keeps the test short
    client = HeadlessClient(live.client_url, service.issue_code())
    try:
        assert client.joined.wait(WAIT_S)
        browser = Browser(live)
        browser.send(p.ChecklistAnswers(answers=CHECKLIST_OK))
        browser.wait_status(lambda s: s["checklist"]["complete"])
        browser.command("start")
        client.wait_for(lambda s: s["mode"] == "closing", WAIT_S)  # the goodbye and fade before the cap
        ended = client.wait_for(lambda s: s["mode"] == "ended", WAIT_S)
        assert (ended["room"], ended["reason"]) == ("neutral", "hard cap")
        browser.wait_client("mode", "ended")
        assert any("hard cap is near" in a for a in browser.alerts)
        browser.close()
    finally:
        client.stop()
    kinds = [e["kind"] for e in service.record.events]
    assert "cap_warning" in kinds and "cap_end" in kinds


def listening_sockets(pid: int) -> list[str]:
    """TCP sockets the process listens on, from /proc (inode match against /proc/net/tcp*)."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as fh:
            for row in fh.readlines()[1:]:
                cols = row.split()
                if cols[3] == "0A" and cols[9] in inodes:  # 0A: LISTEN
                    found.append(cols[1])
    return found


@pytest.mark.skipif(not os.path.exists("/proc/net/tcp"), reason="needs Linux /proc")
def test_the_clients_machine_opens_no_port(running):
    client, _ = running
    assert listening_sockets(client.proc.pid) == []  # it only connects out to the console
