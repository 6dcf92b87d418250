"""Keep native libraries' log lines (mediapipe/absl/TFLite, OpenAL, the OpenXR loader) out of the
user's terminal: they write straight to file descriptor 2, below Python, so the only reliable place to
catch them is the descriptor itself. Our own messages, progress bars and tracebacks go through
`sys.stderr`, which keeps pointing at the terminal."""

from __future__ import annotations

import os
import sys
from pathlib import Path

LOG_NAME = "native.log"
MAX_LOG_BYTES = 2 * 1024 * 1024
# Quieter at the source where the library reads a setting; the redirect catches the rest.
QUIET_ENV = {"GLOG_minloglevel": "2", "TF_CPP_MIN_LOG_LEVEL": "3", "ABSL_MIN_LOG_LEVEL": "2"}


def log_path() -> Path:
    from .paths import memorial_home

    return memorial_home() / "logs" / LOG_NAME


def route_native_logs_to_file(path: Path | None = None) -> Path | None:
    """Point fd 2 at a log file in the data folder and `sys.stderr` at the terminal's old fd 2.

    Called once by the command-line entry point (never at import, never by tests in-process).
    Returns the log's path, or None when the data folder cannot hold it (then nothing changes)."""
    for key, value in QUIET_ENV.items():
        os.environ.setdefault(key, value)
    try:
        path = path or log_path()
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if path.exists() and path.stat().st_size > MAX_LOG_BYTES:
            path.replace(path.with_suffix(".log.1"))
        log_fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    except Exception:  # no writable data folder yet: stay as we are rather than fail the command
        return None
    sys.stderr.flush()
    terminal_fd = os.dup(2)
    os.dup2(log_fd, 2)
    os.close(log_fd)
    sys.stderr = os.fdopen(terminal_fd, "w", buffering=1, encoding=sys.stderr.encoding or "utf-8",
                           errors="backslashreplace")
    return path
