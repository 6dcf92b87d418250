"""Progress bars are drawn for a person at a terminal, never into a redirected log."""

from __future__ import annotations

import io

import pytest

from generation.cli.common import show_progress


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("stderr, quiet, shown", [
    (_Terminal(), False, True),
    (_Terminal(), True, False),   # --quiet / --no-progress wins at a terminal
    (io.StringIO(), False, False),  # redirected: a file or a CI log
    (io.StringIO(), True, False),
])
def test_progress_only_at_a_terminal(monkeypatch, stderr, quiet, shown):
    monkeypatch.setattr("sys.stderr", stderr)
    assert show_progress(quiet) is shown
