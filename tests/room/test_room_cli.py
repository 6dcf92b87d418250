"""`memorial room …` through the real CLI: help with examples, one-line errors, invites; TLS."""

from __future__ import annotations

import datetime as dt
import ssl

import pytest

from tests.room.conftest import PASSES, run, running_server


def test_every_room_command_has_an_example(cli):
    for command in ("serve", "invite", "join", "bench"):
        res = cli("room", command, "--help")
        assert res.exit_code == 0 and "Example:" in res.output and "memorial room " + command in res.output


@pytest.mark.parametrize("args, code, message", [
    (["serve", "rose", "--host", "0.0.0.0"], 2, "needs TLS"),
    (["invite", "rose", "mallory"], 2, "'mallory' is not a member"),
    (["join", "rose", "--url", "ws://127.0.0.1:1", "--display", "openxr"], 2, "--member"),
    (["bench", "--processes", "2"], 2, "needs --redis"),
])
def test_bad_input_is_one_line_and_nonzero(cli, room_vault, args, code, message):
    res = cli("room", *args)
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert res.exit_code == code and len(lines) == 1 and lines[0].startswith("memorial: error:") and message in lines[0], \
        res.output


def test_invite_is_for_owners_and_is_audited(cli, room_vault):
    from vr_app.room.access import check_invite, room_keys

    res = cli("room", "invite", "rose", "ben", "--hours", "1")
    assert res.exit_code == 0
    token = res.output.strip()
    assert check_invite(room_keys(room_vault), "rose", "ben", token)
    assert any(e.action == "room_invite" and e.detail["invitee"] == "ben" for e in room_vault.audit_entries())
    denied = cli("room", "invite", "rose", "tess", passphrase=PASSES["ben"])
    assert denied.exit_code == 6 and "only an owner" in denied.output


def _self_signed(tmp_path):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    import ipaddress

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "room.pem", tmp_path / "room.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def test_tls_room_accepts_a_client_that_trusts_its_certificate(room_vault, tmp_path):
    from vr_app.room.access import make_invite, room_keys
    from vr_app.room.client import RoomClient, RoomError

    cert, key = _self_signed(tmp_path)
    trust = ssl.create_default_context(cafile=str(cert))

    async def scenario():
        async with running_server(room_vault, certfile=str(cert), keyfile=str(key)) as server:
            assert server.public_url.startswith("wss://")
            ben = await RoomClient.connect(f"wss://127.0.0.1:{server.port}", "ben", ssl=trust,
                                           invite=make_invite(room_keys(room_vault), "rose", "ben"))
            seq = await ben.op("light_candle", position=[0, 0, 1])
            await ben.close()
            with pytest.raises(RoomError) as untrusted:  # a client that does not trust the certificate stops
                await RoomClient.connect(f"wss://127.0.0.1:{server.port}", "ben",
                                         invite=make_invite(room_keys(room_vault), "rose", "ben"),
                                         ssl=ssl.create_default_context())
            assert untrusted.value.code == "tls" and "CERTIFICATE_VERIFY_FAILED" in str(untrusted.value)
            return seq

    assert run(scenario()) >= 1


@pytest.mark.slow
def test_bench_against_a_running_server(cli, room_vault):
    """`memorial room bench --url`: the simulated members play the subject's own members."""

    from tests.room.conftest import BackgroundRoom

    room = BackgroundRoom(room_vault)
    try:
        res = cli("room", "bench", "--url", f"ws://127.0.0.1:{room.server.port}", "--subject", "rose",
                  "--rooms", "2", "--clients", "3", "--seconds", "2", "--workers", "1")
    finally:
        room.close()
    assert res.exit_code == 0, res.output
    line = [ln for ln in res.output.splitlines() if ln.startswith("room bench:")][0]
    assert "lost 0" in line and "joined 6/6" in line and "not measured (--url)" in line
    refused = cli("room", "bench", "--url", "ws://10.1.2.3:8765", "--subject", "rose")
    assert refused.exit_code == 2 and "loopback" in refused.output
