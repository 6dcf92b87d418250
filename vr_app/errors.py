"""Errors from the room runtime; all are MemorialErrors so the CLI prints one line."""

from assets.errors import MemorialError, UsageError


class DisplayUnavailable(MemorialError):
    """No window can be opened (no display, or the display pipe failed)."""

    exit_code = 10


class RenderError(MemorialError):
    """The offscreen renderer could not be created or read back."""

    exit_code = 11


__all__ = ["DisplayUnavailable", "RenderError", "UsageError", "MemorialError"]
