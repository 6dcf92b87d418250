"""Where Memorial VR keeps data, and which subject names are safe to use as folder names."""

from __future__ import annotations

import os
import re
from pathlib import Path

from assets.errors import MemorialError, UsageError

HOME_ENV = "MEMORIAL_HOME"
MAX_NAME_LEN = 64
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def memorial_home(create: bool = True) -> Path:
    """The data root: $MEMORIAL_HOME, else the user's data dir (e.g. ~/.local/share/memorial)."""
    raw = os.environ.get(HOME_ENV)
    if raw:
        home = Path(raw).expanduser()
    else:
        from platformdirs import user_data_dir

        home = Path(user_data_dir("memorial", appauthor=False))
    if home.exists() and not home.is_dir():
        raise MemorialError(f"{HOME_ENV} {home} exists but is not a folder")
    if not home.exists():
        if not create:
            raise MemorialError(f"{HOME_ENV} {home} does not exist")
        try:
            home.mkdir(parents=True, mode=0o700)
        except OSError as exc:
            raise MemorialError(f"cannot create {HOME_ENV} {home}: {exc.strerror}") from None
    if not os.access(home, os.R_OK | os.W_OK | os.X_OK):
        raise MemorialError(f"{HOME_ENV} {home} is not readable and writable by this user")
    return home


def subjects_dir(create: bool = True) -> Path:
    path = memorial_home(create) / "subjects"
    if create:
        path.mkdir(mode=0o700, exist_ok=True)
    return path


def validate_subject_name(name: str) -> str:
    """Subject names become folder names, so only a safe, short alphabet is allowed."""
    if not name:
        raise UsageError("subject name is empty")
    if len(name) > MAX_NAME_LEN:
        raise UsageError(f"subject name is {len(name)} characters long; the limit is {MAX_NAME_LEN}")
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise UsageError("subject name contains control characters")
    if "/" in name or "\\" in name or ".." in name:
        raise UsageError(f"subject name {name!r} must not contain '/', '\\' or '..'")
    if not _NAME_RE.match(name):
        raise UsageError(
            f"subject name {name!r} may use only letters, digits, '.', '_' and '-' "
            "and must start with a letter or digit"
        )
    return name


def subject_dir(name: str) -> Path:
    return subjects_dir() / validate_subject_name(name)
