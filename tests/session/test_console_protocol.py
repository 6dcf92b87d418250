"""The console's protocol through FastAPI's TestClient: pairing, the checklist gate, commands
reaching the client, client reports, alerts, and the audit log."""

from __future__ import annotations

import contextlib
import json

import pytest
from fastapi.testclient import TestClient

from vr_app.session import protocol as p
from tests.session.conftest import CHECKLIST_OK


@pytest.fixture
def app_client(service):
    from vr_app.console.app import create_app

    with TestClient(create_app(service)) as tc, contextlib.ExitStack() as sockets:
        tc.sockets = sockets  # every socket a test opens is closed before the app stops
        yield tc


def actions(service) -> list[str]:
    service.writer.flush()
    return [e.action for e in service.vault.audit_entries()]


def recv_until(ws, cls, pred=lambda msg: True, limit: int = 50):
    """The first message of type `cls` that satisfies `pred` among the next `limit`."""
    for _ in range(limit):
        msg = p.decode(ws.receive_text())
        if isinstance(msg, cls) and pred(msg):
            return msg
    raise AssertionError(f"no matching {cls.__name__} in {limit} messages")


def join(app_client, service, code=None):
    ws = app_client.sockets.enter_context(app_client.websocket_connect("/ws/client"))
    ws.send_text(p.encode(p.Hello(code=code or service.issue_code(), display="headless")))
    return ws


def test_page_and_console_socket_need_the_token(app_client, service):
    assert app_client.get("/").status_code == 403
    assert app_client.get("/?t=wrong").status_code == 403
    assert app_client.get("/?t=%C3%A9t%C3%A9").status_code == 403  # non-ASCII: refused, not a server error
    page = app_client.get(f"/?t={service.token}")
    assert page.status_code == 200 and "Emergency stop" in page.text
    assert "http" not in page.text.replace("http-equiv", "")  # no CDN: everything is served from here
    js = app_client.get("/static/console.js").text
    assert "cdn" not in js.lower() and "new WebSocket" in js
    from starlette.websockets import WebSocketDisconnect

    with pytest.raises(WebSocketDisconnect):
        with app_client.websocket_connect("/ws/console?t=nope") as ws:
            ws.receive_text()


def test_pairing_code_is_single_use_and_malformed_codes_are_refused(app_client, service):
    code = service.issue_code()
    ws = join(app_client, service, code)
    welcome = p.decode(ws.receive_text())
    assert isinstance(welcome, p.Welcome) and welcome.plan["alias"] == "Client A"
    ws.close()
    replay = join(app_client, service, code)  # the same code again, after the first client left
    assert "already used" in p.decode(replay.receive_text()).reason
    bad = join(app_client, service, "DROP-TABLE")
    assert "malformed" in p.decode(bad.receive_text()).reason
    with app_client.websocket_connect("/ws/client") as odd:
        odd.send_text(p.encode(p.Hello(code=service.issue_code(), display="x" * 5000)))
        assert "unknown display" in p.decode(odd.receive_text()).reason
    with app_client.websocket_connect("/ws/client") as raw:
        raw.send_text('{"type": "hello", "code": 5}')
        assert isinstance(p.decode(raw.receive_text()), p.Refused)
    log = actions(service)
    assert log.count("session_pair_refused") == 4 and log.count("session_client_joined") == 1


def test_a_second_client_is_refused_while_one_is_connected(app_client, service):
    first = join(app_client, service)
    assert isinstance(p.decode(first.receive_text()), p.Welcome)
    second = join(app_client, service)
    assert "already connected" in p.decode(second.receive_text()).reason


def test_checklist_blocks_start_then_commands_reach_the_client(app_client, service):
    client = join(app_client, service)
    recv_until(client, p.Welcome)
    with app_client.websocket_connect(f"/ws/console?t={service.token}") as browser:
        status = recv_until(browser, p.Status).data
        assert status["client"]["connected"] and not status["checklist"]["complete"]
        browser.send_text(p.encode(p.Command(seq=0, name="start", sent=0.0)))
        alert = recv_until(browser, p.Alert)
        assert alert.text.startswith("Start is blocked") and "adult" in alert.text
        browser.send_text(p.encode(p.ChecklistAnswers(answers=CHECKLIST_OK)))
        recv_until(browser, p.Status, lambda m: m.data["checklist"]["complete"])
        for name in ("start", "next", "pause", "resume", "grounding", "end", "emergency_stop"):
            browser.send_text(p.encode(p.Command(seq=0, name=name, sent=0.0)))
            cmd = recv_until(client, p.Command)
            assert cmd.name == name and cmd.sent > 0
    log = actions(service)
    assert log.count("session_command") == 7
    assert "session_command_refused" in log and "session_checklist" in log


def test_client_reports_reach_the_therapist_with_alerts(app_client, service, plan):
    client = join(app_client, service)
    recv_until(client, p.Welcome)
    with app_client.websocket_connect(f"/ws/console?t={service.token}") as browser:
        recv_until(browser, p.Status)
        state = dict(ack=1, mode="running", room="memorial", likeness="far", step=1, line="", gaze="likeness",
                     dim=0.0, volume=1.0, frozen=False, message="", label="AI-generated likeness",
                     time_left_s=3000.0, suds_prompt=True, reason="")
        client.send_text(p.encode(p.State(**state)))
        shown = recv_until(browser, p.Status, lambda m: m.data["client"]["state"]).data["client"]["state"]
        assert (shown["mode"], shown["likeness"], shown["gaze"]) == ("running", "far", "likeness")
        client.send_text(p.encode(p.Suds(value=plan.suds_alert_above + 5, step=1)))
        assert "above the plan's threshold" in recv_until(browser, p.Alert).text
        client.send_text(p.encode(p.Event(kind="headset_off", detail="")))
        assert "headset off" in recv_until(browser, p.Alert).text
        client.send_text(p.encode(p.Frame(jpeg="AAAA")))
        assert recv_until(browser, p.Frame).jpeg == "AAAA"
        client.send_text('{"type": "state", "mode": "evil"}')  # dropped, the connection stays
        client.send_text(p.encode(p.Suds(value=250, step=1)))  # out of range: dropped too
        client.send_text(p.encode(p.Suds(value=10, step=1)))
        status = recv_until(browser, p.Status, lambda m: len(m.data["suds"]) == 2).data
        assert [s["value"] for s in status["suds"]] == [plan.suds_alert_above + 5, 10]
        for bad in ("nan", "inf", "lots", "150"):
            browser.send_text(p.encode(p.Measure(name="therapist_suds", value=bad)))
            assert recv_until(browser, p.Alert).text in ("therapist_suds must be a number", "SUDS is from 0 to 100")
        browser.send_text(p.encode(p.Note(text="Client smiled at the far step.")))
        recv_until(browser, p.Status, lambda m: m.data["notes"] and
                   m.data["notes"][-1]["text"] == "Client smiled at the far step.")
    log = actions(service)
    assert {"session_suds", "session_client_event", "session_note"} <= set(log)


def test_client_disconnect_alerts_and_is_recorded(app_client, service):
    client = join(app_client, service)
    recv_until(client, p.Welcome)
    with app_client.websocket_connect(f"/ws/console?t={service.token}") as browser:
        recv_until(browser, p.Status)
        client.close()
        assert "disconnected" in recv_until(browser, p.Alert).text
    assert "client_disconnected" in [e["kind"] for e in service.record.events]


def test_console_without_a_plan_helps_write_one(make_subject):
    from vr_app.console.app import create_app
    from vr_app.console.service import ConsoleService
    from tests.session.conftest import PLAN_TOML

    vault = make_subject("rose")
    service = ConsoleService(vault)
    with TestClient(create_app(service)) as tc, contextlib.ExitStack() as tc.sockets:
        assert "[[steps]]" in tc.get("/plan-example.toml").text
        ws = join(tc, service)
        assert "plan" in p.decode(ws.receive_text()).reason
        with tc.websocket_connect(f"/ws/console?t={service.token}") as browser:
            assert recv_until(browser, p.Status).data["plan"] is None
            browser.send_text(p.encode(p.PlanText(toml="[[steps]]\ntitle = 1")))
            assert "missing field" in recv_until(browser, p.Alert).text
            browser.send_text(p.encode(p.PlanText(toml=PLAN_TOML)))
            recv_until(browser, p.Status, lambda m: m.data["plan"] and m.data["plan"]["alias"] == "Client A")
    from generation.session.store import load_plan

    assert load_plan(vault).alias == "Client A"


@pytest.mark.parametrize("text", [
    "not json", "[]", '{"type": "nope"}', '{"type": "command", "seq": 1, "name": "pause"}',
    '{"type": "command", "seq": 1, "name": "reboot", "sent": 0}',
    '{"type": "command", "seq": true, "name": "pause", "sent": 0}',
    '{"type": "command", "seq": 1, "name": "pause", "sent": 0, "extra": 1}',
])
def test_strict_decoding(text):
    with pytest.raises(p.ProtocolError):
        p.decode(text)


def test_messages_round_trip():
    msg = p.Command(seq=3, name="pause", sent=12.5)
    assert p.decode(p.encode(msg)) == msg
    assert json.loads(p.encode(msg))["type"] == "command"
