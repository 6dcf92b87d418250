"""`memorial subject …` through the real CLI: happy paths and every bad input of the foundation issue."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.conftest import OWNER_PASS, consent_toml, run_memorial


def one_error_line(result) -> str:
    lines = [x for x in result.stderr.splitlines() if x.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("memorial: error: ")
    return lines[0]


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_every_command_has_help_with_example(cli):
    from generation.cli import cli as group
    import click

    def walk(cmd, path):
        if isinstance(cmd, click.Group):
            for name, sub in cmd.commands.items():
                yield from walk(sub, path + [name])
        else:
            yield path

    commands = list(walk(group, []))
    assert ["subject", "create"] in commands and ["demo"] in commands
    for path in commands:
        result = cli(*path, "--help")
        assert result.exit_code == 0, path
        assert "Example" in result.output, f"{' '.join(path)} --help has no example"


def test_create_show_list_audit(cli, consent_file):
    result = cli("subject", "create", "rose", "--consent", consent_file, "--owner", "anna")
    assert result.exit_code == 0, result.output
    assert "Rose Example" in result.output
    assert "rose" in cli("subject", "list").output
    show = cli("subject", "show", "rose")
    assert show.exit_code == 0 and "next_of_kin" in show.output and "anna (owner)" in show.output
    audit = cli("subject", "audit", "rose")
    assert audit.exit_code == 0
    assert "created" in audit.output and "hash chain intact" in audit.output


@pytest.mark.parametrize("name,fragment", [
    ("a/b", "must not contain"), ("..", "must not contain"), ("bad\x01name", "control characters"),
    ("x" * 300, "300 characters"), ("-rf", "must start with"),
])
def test_bad_subject_names(cli, consent_file, memorial_home, name, fragment):
    result = cli("subject", "create", "--consent", consent_file, "--", name)
    assert result.exit_code == 2
    assert fragment in one_error_line(result)
    assert not (memorial_home / "subjects").exists() or not any((memorial_home / "subjects").iterdir())


@pytest.mark.parametrize("content,fragment", [
    (consent_toml(drop="relation"), "missing field 'given_by.relation'"),
    (consent_toml(expires="2020-01-01"), "expired on 2020-01-01"),
    ("not toml at all ][", "not valid TOML"),
    (None, "does not exist"),
])
def test_bad_consent_files(cli, tmp_path, memorial_home, content, fragment):
    path = tmp_path / "c.toml"
    if content is not None:
        path.write_text(content)
    result = cli("subject", "create", "rose", "--consent", path)
    assert result.exit_code != 0
    assert fragment in one_error_line(result)
    assert not (memorial_home / "subjects" / "rose").exists()


def test_wrong_passphrase_one_line_and_vault_unchanged(cli, consent_file, memorial_home):
    cli("subject", "create", "rose", "--consent", consent_file)
    folder = memorial_home / "subjects" / "rose"
    before = snapshot(folder / "blobs"), (folder / "index.bin").read_bytes()
    result = cli("subject", "show", "rose", passphrase="wrong passphrase")
    assert result.exit_code == 4
    assert "wrong passphrase" in one_error_line(result)
    assert (snapshot(folder / "blobs"), (folder / "index.bin").read_bytes()) == before


def test_unknown_subject(cli):
    result = cli("subject", "show", "nobody")
    assert result.exit_code == 3 and "no subject named 'nobody'" in one_error_line(result)


def test_memorial_home_is_a_file(cli, tmp_path, monkeypatch, consent_file):
    bad = tmp_path / "afile"
    bad.write_text("x")
    result = run_memorial("subject", "list", env={"MEMORIAL_HOME": str(bad)})
    assert result.returncode != 0 and "not a folder" in one_error_line(result)
    result = run_memorial("subject", "list", env={"MEMORIAL_HOME": str(bad / "below")})
    assert result.returncode != 0 and "cannot create" in one_error_line(result)


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_memorial_home_unreadable(tmp_path):
    home = tmp_path / "locked"
    home.mkdir(mode=0o000)
    result = run_memorial("subject", "list", env={"MEMORIAL_HOME": str(home)})
    assert result.returncode != 0 and "not readable" in one_error_line(result)


def test_role_outside_permission_is_refused(cli, consent_file):
    cli("subject", "create", "rose", "--consent", consent_file, "--owner", "anna")
    assert cli("subject", "member", "add", "rose", "vic", "--role", "viewer",
               new_passphrase="viewer-pass-1").exit_code == 0
    result = cli("subject", "member", "add", "rose", "eve", "--role", "owner",
                 passphrase="viewer-pass-1", new_passphrase="eve-pass-123")
    assert result.exit_code == 6
    assert "role 'viewer' may not manage members" in one_error_line(result)
    result = cli("subject", "export-memories", "rose", "/tmp/never", passphrase="viewer-pass-1")
    assert result.exit_code == 6
    listed = cli("subject", "member", "list", "rose", passphrase="viewer-pass-1")
    assert "vic" in listed.output and "eve" not in listed.output
    audit = cli("subject", "audit", "rose")
    assert "denied" in audit.output


def test_scope_outside_consent_is_refused(cli, tmp_path):
    path = tmp_path / "c.toml"
    path.write_text(consent_toml(scopes=["therapy"]))
    cli("subject", "create", "rose", "--consent", path)
    result = cli("subject", "show", "rose")
    assert result.exit_code == 0  # showing the record needs no scope
    from generation.vault import open_vault
    from generation.vault.roles import Action
    from assets.errors import ConsentError
    with pytest.raises(ConsentError, match="scope 'private_viewing'"):
        open_vault("rose", OWNER_PASS).authorize(Action.VIEW)


def test_revoke_then_only_memories_and_delete(cli, consent_file, tmp_path, memorial_home):
    cli("subject", "create", "rose", "--consent", consent_file)
    from generation.vault import open_vault
    from generation.vault.store import ORIGINAL_PREFIX
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(b"\xff\xd8\xff fake jpeg bytes for export")
    with open_vault("rose", OWNER_PASS) as vault:
        vault.put(ORIGINAL_PREFIX + "abc", photo.read_bytes(), kind="original", meta={"filename": "photo.jpg"})
    assert cli("subject", "revoke", "rose", "--yes").exit_code == 0
    result = cli("subject", "show", "rose")
    assert result.exit_code == 7 and "revoked" in one_error_line(result)
    out = tmp_path / "memories"
    assert cli("subject", "export-memories", "rose", out).exit_code == 0
    assert (out / "photo.jpg").read_bytes() == photo.read_bytes()
    again = cli("subject", "export-memories", "rose", out)  # never overwrites
    assert again.exit_code == 0 and (out / "photo (1).jpg").exists()
    renew = cli("subject", "consent", "rose", "--consent", consent_file)
    assert renew.exit_code == 7 and "revoked" in one_error_line(renew)
    assert cli("subject", "delete", "rose", "--yes").exit_code == 0


def test_passphrase_rotation_cli(cli, consent_file):
    cli("subject", "create", "rose", "--consent", consent_file)
    assert cli("subject", "passphrase", "rose", new_passphrase="brand-new-pass").exit_code == 0
    assert cli("subject", "show", "rose").exit_code == 4
    assert cli("subject", "show", "rose", passphrase="brand-new-pass").exit_code == 0


def test_delete_is_crypto_shredding(cli, consent_file, memorial_home, tmp_path):
    cli("subject", "create", "rose", "--consent", consent_file)
    from generation.vault import open_vault
    with open_vault("rose", OWNER_PASS) as vault:
        vault.put("original/x", b"precious memory bytes" * 100)
        folder = vault.folder
    kept = snapshot(folder)
    assert cli("subject", "delete", "rose", "--yes").exit_code == 0
    assert not folder.exists()
    assert "rose" not in cli("subject", "list").output
    remaining = b"".join(p.read_bytes() for p in memorial_home.rglob("*") if p.is_file())
    for name, content in kept.items():
        if len(content) >= 32:
            assert content[:32] not in remaining, f"{name} survived deletion"
    # A copy of the blobs taken before deletion stays useless: no key slot is left to unwrap the key.
    assert not list(memorial_home.rglob("vault.json"))


def test_delete_needs_confirmation(cli, consent_file, memorial_home):
    cli("subject", "create", "rose", "--consent", consent_file)
    result = cli("subject", "delete", "rose", input="not-rose\n")
    assert result.exit_code == 2
    assert (memorial_home / "subjects" / "rose" / "vault.json").exists()


WRITER = textwrap.dedent("""
    import os, sys
    from generation.vault import open_vault
    v = open_vault("rose", os.environ["MEMORIAL_PASSPHRASE"])
    tag, n, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    print("ready", flush=True)
    for i in range(n):
        v.put(f"{tag}/{i}", os.urandom(size))
        v.log("write", tag=tag, i=i)
""")


def _writer(memorial_home, tag, n, size):
    env = {**os.environ, "MEMORIAL_HOME": str(memorial_home), "MEMORIAL_PASSPHRASE": OWNER_PASS}
    return subprocess.Popen([sys.executable, "-c", WRITER, tag, str(n), str(size)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_two_processes_writing_at_once(make_subject, memorial_home):
    make_subject()
    procs = [_writer(memorial_home, tag, 15, 2000) for tag in ("a", "b")]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    from generation.vault import open_vault
    vault = open_vault("rose", OWNER_PASS)
    keys = {b.key for b in vault.list()}
    assert {f"{t}/{i}" for t in "ab" for i in range(15)} <= keys
    writes = [e for e in vault.audit_entries() if e.action == "write"]
    assert len(writes) == 30
    for key in keys:
        vault.get(key)


def test_kill_9_in_the_middle_of_writes(make_subject, memorial_home):
    vault = make_subject()
    vault.put("precious", b"the one photo")
    before_entries = len(vault.audit_entries())
    proc = _writer(memorial_home, "big", 1000, 8_000_000)
    assert proc.stdout.readline().strip() == "ready"
    time.sleep(1.5)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    from generation.vault import open_vault
    after = open_vault("rose", OWNER_PASS)
    assert after.get("precious") == b"the one photo"
    for blob in after.list():
        after.get(blob.key)  # every indexed blob still authenticates
    assert len(after.audit_entries()) > before_entries
    after.put("next", b"life goes on")  # the next locked write cleans up
    live = {b.id for b in after.list()}
    assert {p.name for p in (after.folder / "blobs").iterdir()} == live
    assert not [p for p in after.folder.rglob("*.tmp")]
