"""`memorial session console` and `memorial view --session` as a user runs them."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request

from tests.conftest import OWNER_PASS
from tests.session.helpers import REPO, free_port


def test_console_serves_on_loopback_prints_url_and_code(planned_vault, memorial_home):
    port = free_port()
    env = dict(os.environ, MEMORIAL_HOME=str(memorial_home), MEMORIAL_PASSPHRASE=OWNER_PASS, PYTHONPATH=str(REPO))
    proc = subprocess.Popen([sys.executable, "-m", "generation.cli", "session", "console", "rose", "--port",
                             str(port), "--no-browser"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=REPO)
    try:
        url_line = proc.stdout.readline()
        code_line = proc.stdout.readline()
        assert f"http://127.0.0.1:{port}/?t=" in url_line
        assert "Pairing code" in code_line and "memorial view rose --session" in code_line
        url = url_line.split(": ", 1)[1].strip()
        for _ in range(100):
            try:
                page = urllib.request.urlopen(url, timeout=2).read().decode()
                break
            except OSError:
                time.sleep(0.05)
        assert "Emergency stop" in page
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=20)
    assert err.strip() == ""  # no server log noise on the therapist's terminal
    from generation.vault import open_vault

    with open_vault("rose", OWNER_PASS) as vault:
        actions = [e.action for e in vault.audit_entries()]
    assert "session_console_open" in actions and actions[-2:] == ["session_console_closed", "open"]


def test_console_port_in_use_is_one_line(cli, planned_vault):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        result = cli("session", "console", "rose", "--port", taken.getsockname()[1], "--no-browser")
    assert result.exit_code == 2 and "cannot listen" in result.output


def test_view_with_a_bad_code_or_no_console_is_one_line(cli, planned_vault, monkeypatch):
    monkeypatch.setenv("DISPLAY", ":99")  # the error must come from the session, before any window opens
    port = free_port()
    result = cli("view", "rose", "--session", "ABCD-EFGH", "--display", "desktop", "--console",
                 f"ws://127.0.0.1:{port}/ws/client")
    assert result.exit_code == 2 and "cannot reach the console" in result.output


def test_view_session_needs_the_therapy_scope(cli, make_subject, monkeypatch):
    monkeypatch.setenv("DISPLAY", ":99")
    make_subject("rose", scopes=["private_viewing"])
    result = cli("view", "rose", "--session", "ABCD-EFGH", "--display", "desktop")
    assert result.exit_code == 7 and "therapy" in result.output
