"""One door from a subject's vault to its typed artifacts.

A kind (and a name, for tracks and frames) resolves to its vault key; a missing artifact is one
message naming the command that makes it, an unreadable one the command that makes it again.
`vault` is anything with the Vault's `name`, `exists`, `get` and `list`."""

from __future__ import annotations

from .artifacts import (KEYS, ArtifactError, BustModel, ExpressionTrack, FrameSequence, HeadModel, SubjectDataset,
                        SubjectProfile)
from .errors import UsageError

TYPES = {"dataset": SubjectDataset, "head": HeadModel, "profile": SubjectProfile, "bust": BustModel,
         "track": ExpressionTrack, "frames": FrameSequence}
MAKES = {
    "dataset": "`memorial ingest {subject} PHOTOS…`",
    "head": "`memorial ingest {subject} PHOTOS…` (it fits the head)",
    "profile": "`memorial subject fit {subject}`",
    "bust": "`memorial subject fit {subject}`",
    "track": "`memorial say {subject} \"…\"` or `memorial drive {subject} VIDEO`",
    "frames": "`memorial frames {subject} --track {name}`",
}
NAMES = {"dataset": "dataset", "head": "head model", "profile": "profile", "bust": "bust",
         "track": "track", "frames": "frames"}


class MissingArtifact(UsageError):
    """The subject has no such artifact yet; the message says which command makes it."""


def key_of(kind: str, name: str | None = None) -> str:
    if kind not in TYPES:
        raise ValueError(f"unknown artifact kind {kind!r}")
    return KEYS[kind].format(name=name) if "{name}" in KEYS[kind] else KEYS[kind]


def names(vault, kind: str) -> list[str]:
    """The stored names of a named kind (tracks, frames), in the vault's order."""
    prefix = KEYS[kind].format(name="")
    return [info.key[len(prefix):] for info in vault.list(prefix)]


def _what(kind: str, name: str | None) -> str:
    return f"{NAMES[kind]} named {name!r}" if name is not None else NAMES[kind]


def missing(vault, kind: str, name: str | None = None) -> MissingArtifact:
    hint = MAKES[kind].format(subject=vault.name, name=name or "NAME")
    known = names(vault, kind) if name is not None else []
    also = f" ({NAMES[kind]}s: {', '.join(known)})" if known else ""
    return MissingArtifact(f"subject '{vault.name}' has no {_what(kind, name)}{also}; make it with {hint}")


def read(vault, kind: str, name: str | None = None):
    """The typed artifact, or one clear error: missing (exit 2) or unreadable (exit 1)."""
    artifact = read_optional(vault, kind, name)
    if artifact is None:
        raise missing(vault, kind, name)
    return artifact


def read_optional(vault, kind: str, name: str | None = None):
    """Like `read`, but None when the subject has none yet."""
    key = key_of(kind, name)
    if not vault.exists(key):
        return None
    try:
        return TYPES[kind].from_bytes(vault.get(key))
    except ArtifactError as exc:
        hint = MAKES[kind].format(subject=vault.name, name=name or "NAME")
        raise ArtifactError(f"the stored {_what(kind, name)} cannot be read ({exc}); make it again with {hint}") from None

