"""Shared fixtures: an isolated MEMORIAL_HOME per test, a subject with a real consent record,
and a CLI runner that goes through the real `memorial` entry point."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

OWNER_PASS = "owner-passphrase-1"
SCOPES_ALL = ["private_viewing", "therapy", "shared_room", "video_export"]


def consent_toml(scopes=SCOPES_ALL, face=True, voice=True, expires=None, drop: str | None = None) -> str:
    expires = expires or (dt.date.today() + dt.timedelta(days=365)).isoformat()
    text = textwrap.dedent(f"""\
        [subject]
        name = "Rose Example"
        [given_by]
        name = "Anna Example"
        relation = "daughter"
        basis = "next_of_kin"
        [permissions]
        face = {str(face).lower()}
        voice = {str(voice).lower()}
        scopes = {scopes!r}
        expires = {expires}
        [wishes]
        text = "Keep it gentle."
        """).replace("'", '"')
    if drop:
        text = "\n".join(line for line in text.splitlines() if not line.startswith(drop + " "))
    return text


TEST_SCRYPT_N = 2**10  # tests that are not about cryptography derive keys ~60x faster


@pytest.fixture(autouse=True)
def cheap_key_derivation(request, monkeypatch):
    """New key slots use a cheap scrypt cost, except in tests marked `production_kdf` (the vault's own
    tests). The cost is stored per slot, so reopening uses whatever the slot was made with; processes
    started by a test (the real CLI) keep the production cost."""
    if request.node.get_closest_marker("production_kdf"):
        return
    from generation.vault import crypto

    def fresh(cls):
        return cls(n=TEST_SCRYPT_N, salt=crypto.b64e(os.urandom(16)))

    monkeypatch.setattr(crypto.KdfParams, "fresh", classmethod(fresh))


@pytest.fixture
def memorial_home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("MEMORIAL_HOME", str(home))
    monkeypatch.delenv("MEMORIAL_PASSPHRASE", raising=False)
    monkeypatch.delenv("MEMORIAL_NEW_PASSPHRASE", raising=False)
    monkeypatch.delenv("MEMORIAL_MEMBER", raising=False)
    return home


@pytest.fixture
def consent_file(tmp_path) -> Path:
    path = tmp_path / "consent.toml"
    path.write_text(consent_toml())
    return path


@pytest.fixture
def make_subject(memorial_home):
    """make_subject(name="rose", **consent_kwargs) -> opened owner Vault."""
    from generation.vault import create_vault
    from generation.vault.consent import parse_consent

    opened = []

    def _make(name: str = "rose", **consent_kwargs):
        vault = create_vault(name, parse_consent(consent_toml(**consent_kwargs)), "anna", OWNER_PASS)
        opened.append(vault)
        return vault

    yield _make
    for v in opened:
        v.close()


@pytest.fixture
def cli(memorial_home):
    """cli(*args, passphrase=None, new_passphrase=None, input=None) -> click Result (in-process)."""
    from generation.cli import _register, cli as group

    _register()
    runner = CliRunner()

    def _run(*args, passphrase: str | None = OWNER_PASS, new_passphrase: str | None = None, input=None):
        env = {"MEMORIAL_HOME": str(memorial_home)}
        if passphrase is not None:
            env["MEMORIAL_PASSPHRASE"] = passphrase
        if new_passphrase is not None:
            env["MEMORIAL_NEW_PASSPHRASE"] = new_passphrase
        return runner.invoke(group, [str(a) for a in args], env=env, input=input, catch_exceptions=False)

    return _run


@pytest.fixture(scope="session")
def quick_demo(tmp_path_factory):
    """One `memorial demo --quick` per test session (it trains a GAN): (home, out folder, click Result).
    Tests read its outputs and must not change them."""
    from generation.cli import _register, cli as group

    _register()
    root = tmp_path_factory.mktemp("quick-demo")
    home, out = root / "home", root / "out"
    result = CliRunner().invoke(group, ["demo", "--quick", "--quiet", "--out", str(out)],
                                env={"MEMORIAL_HOME": str(home), "MEMORIAL_PASSPHRASE": None}, catch_exceptions=False)
    return home, out, result


def run_memorial(*args, env: dict | None = None, timeout: float = 600, **kw) -> subprocess.CompletedProcess:
    """Run the real console entry point in a child process (for kill/concurrency tests)."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "generation.cli", *map(str, args)], env=full_env,
                          capture_output=True, text=True, timeout=timeout, **kw)
