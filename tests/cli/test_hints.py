"""Every `memorial …` command named in a message or help text exists, with the options it names."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("generation", "vr_app", "scenes", "assets")
# A command named inside backticks, e.g. `memorial subject fit rose --export-mesh x.glb`.
HINT = re.compile(r"`memorial ((?:[a-z][a-z0-9-]*|--?[a-z][a-z0-9-]*|[A-Z]+|\S+)(?: [^`]+)?)`")


def _hints() -> list[tuple[str, str]]:
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for match in HINT.finditer(path.read_text(encoding="utf-8")):
                found.append((f"{path.relative_to(ROOT)}", match.group(1)))
    return found


def _resolve(group: click.Group, words: list[str]) -> tuple[list[str], click.Command]:
    """The command path the words name, and the command it ends on (a group's subcommand must exist)."""
    path, command = [], group
    for word in words:
        if not re.fullmatch(r"[a-z][a-z0-9-]*", word):  # an option, a placeholder (NAME, …), a path
            break
        if isinstance(command, click.Group):
            sub = command.get_command(click.Context(command), word)
            assert sub is not None, f"no command `memorial {' '.join(path + [word])}`"
            path.append(word)
            command = sub
        else:
            break
    return path, command


def _check(cli, hint: str) -> None:
    """Raises AssertionError when `memorial HINT` names a command or option that does not exist."""
    path, command = _resolve(cli, hint.split())
    assert path, "names no command"
    options = {opt for param in command.params for opt in (*param.opts, *param.secondary_opts)}
    for word in hint.split()[len(path):]:
        if word.startswith("--"):
            assert word.split("=")[0] in options, f"no option {word}"
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0, result.output


def test_messages_name_commands_that_exist():
    from generation.cli import _register, cli

    _register()
    hints = _hints()
    assert len(hints) > 10  # the walk really reads the sources
    wrong = []
    for where, hint in hints:
        try:
            _check(cli, hint)
        except AssertionError as exc:
            wrong.append(f"{where}: `memorial {hint}`: {exc}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("bad", ["`memorial animate rose`", "`memorial subject ingest rose x.jpg`",
                                 "`memorial view rose --text hi`"])
def test_the_walk_catches_a_wrong_hint(bad):
    from generation.cli import _register, cli

    _register()
    with pytest.raises(AssertionError):
        _check(cli, HINT.search(bad).group(1))
