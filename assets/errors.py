"""Errors a user can act on. The CLI prints their message as one line and exits non-zero."""


class MemorialError(Exception):
    """Base for every error that should reach the user as one clear line."""

    exit_code = 1


class UsageError(MemorialError):
    """Bad arguments or bad input files."""

    exit_code = 2


class SubjectNotFound(MemorialError):
    exit_code = 3


class WrongPassphrase(MemorialError):
    exit_code = 4


class TamperError(MemorialError):
    """Authenticated decryption or a hash chain failed: data was changed outside the app."""

    exit_code = 5


class PermissionDenied(MemorialError):
    """The member's role does not allow the action."""

    exit_code = 6


class ConsentError(MemorialError):
    """The consent record is missing, invalid, expired, revoked or lacks the scope."""

    exit_code = 7


class VaultBusy(MemorialError):
    """Another process holds the vault's lock for longer than we wait."""

    exit_code = 8
