"""Options and helpers shared by the commands: passphrases, member choice, opening vaults."""

from __future__ import annotations

import os
import sys

import click

from assets.errors import UsageError
from ..vault import open_vault
from ..vault.roles import Action

PASS_ENV = "MEMORIAL_PASSPHRASE"
NEW_PASS_ENV = "MEMORIAL_NEW_PASSPHRASE"
MEMBER_ENV = "MEMORIAL_MEMBER"


def _interactive() -> bool:
    return sys.stdin.isatty()


def show_progress(quiet: bool = False) -> bool:
    """Progress bars only for a person at a terminal: redirected to a file or a CI log, each bar's
    redraws would fill it (a `make demo` log grew to a megabyte of them)."""
    return not quiet and sys.stderr.isatty()


def ask_passphrase(prompt: str = "Passphrase", env: str = PASS_ENV, confirm: bool = False) -> str:
    value = os.environ.get(env)
    if value:
        return value
    if not _interactive():
        raise UsageError(f"no passphrase: set ${env} or run in a terminal")
    return click.prompt(prompt, hide_input=True, confirmation_prompt=confirm)


member_option = click.option(
    "--member", "-m", envvar=MEMBER_ENV, default=None, metavar="MEMBER",
    help=f"Which member you are (default: found from the passphrase; env ${MEMBER_ENV}).",
)


def unlock(name: str, member: str | None, action: Action | None = None):
    """Open a vault with the member's passphrase and check the action before anything else."""
    vault = open_vault(name, ask_passphrase(f"Passphrase for {name}"), member)
    if action is not None:
        try:
            vault.authorize(action)
        except BaseException:
            vault.close()
            raise
    return vault
