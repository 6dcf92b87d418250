"""The installation's export log: every file that left the product, by content id and hash.

`verify` answers "did this installation make this file?" from it, without any subject's
passphrase, so it lives beside the signing keys and not in a vault. Each line is
AES-GCM-encrypted with a key derived from the installation secret (so member names and
commands are not in plain sight) and hash-chained; `exports.head` holds the line count and
the chain head under an HMAC, so removing, reordering or editing a line is reported as
tampering. Person names are never written here: subjects appear as their vault id.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from assets.errors import TamperError
from ..vault.files import append_line, atomic_write, vault_lock
from . import keys

GENESIS = "0" * 64


def _paths():
    folder = keys.provenance_dir()
    return folder, folder / "exports.log", folder / "exports.head"


def _chain(prev: str, line: bytes) -> str:
    return hashlib.sha256(prev.encode("ascii") + line).hexdigest()


def _head_mac(key: bytes, count: int, head: str) -> str:
    return hmac.new(key, f"{count}|{head}".encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class LogState:
    entries: list[dict]
    problem: str | None  # None when the chain and head check out
    head: str = GENESIS  # chain head after the last good line


def _read(key: bytes, log_path, head_path) -> LogState:
    lines = [x for x in log_path.read_bytes().split(b"\n") if x] if log_path.exists() else []
    entries, head, problem = [], GENESIS, None
    aead = AESGCM(key)
    for seq, line in enumerate(lines):
        try:
            raw = base64.b64decode(line, validate=True)
            entry = json.loads(aead.decrypt(raw[:12], raw[12:], f"export|{seq}".encode()))
        except (InvalidTag, ValueError):
            problem = f"export log line {seq + 1} failed authentication"
            break
        if entry.get("prev") != head:
            problem = f"export log line {seq + 1} does not continue the chain"
            break
        head = _chain(head, line)
        entries.append(entry)
    if problem is None and (lines or head_path.exists()):
        try:
            recorded = json.loads(head_path.read_text())
            ok = hmac.compare_digest(recorded["mac"], _head_mac(key, recorded["count"], recorded["head"]))
        except (OSError, ValueError, KeyError, TypeError):
            ok, recorded = False, {}
        if not ok:
            problem = "export log head is missing or not authentic"
        elif recorded["count"] != len(lines) or recorded["head"] != head:
            problem = f"export log has {len(lines)} lines but its head records {recorded['count']}: lines removed or added"
    return LogState(entries, problem, head)


def append(entry: dict) -> None:
    """Add one export record (content_id, sha256, command, kind, media_type, vault_id, member, time)."""
    key = keys.subkey("export-log")
    folder, log_path, head_path = _paths()
    with vault_lock(folder):
        state = _read(key, log_path, head_path)
        if state.problem:
            raise TamperError(f"{state.problem}; refusing to extend a tampered log ({log_path})")
        seq, head = len(state.entries), state.head  # an intact log: every line read, chained
        nonce = os.urandom(12)
        body = json.dumps({**entry, "seq": seq, "prev": head}, sort_keys=True).encode()
        line = base64.b64encode(nonce + AESGCM(key).encrypt(nonce, body, f"export|{seq}".encode()))
        append_line(log_path, line)
        head = _chain(head, line)
        atomic_write(head_path, json.dumps({"count": seq + 1, "head": head,
                                            "mac": _head_mac(key, seq + 1, head)}).encode())


def read() -> LogState:
    """All entries up to the first bad line, and what is wrong (None if nothing)."""
    if not keys._home_exists() or not (keys.provenance_dir(create=False) / "secret.key").exists():
        return LogState([], None)
    key = keys.subkey("export-log", create=False)
    _, log_path, head_path = _paths()
    return _read(key, log_path, head_path)
