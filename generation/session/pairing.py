"""One-time pairing codes: the client's viewer joins a console with a short code read aloud
or typed, so the client's machine connects out and opens no port.

A code is single-use and expires; only its hash is kept, and comparison is constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L
CODE_LENGTH = 8
TTL_S = 600.0
_SHAPE = re.compile(rf"^[{ALPHABET}]{{4}}-[{ALPHABET}]{{4}}$")


class PairingError(ValueError):
    pass


def normalize(code: str) -> str:
    """'abcd efgh' / 'ABCDEFGH' -> 'ABCD-EFGH'; raises PairingError for anything malformed."""
    if not isinstance(code, str) or len(code) > 32:
        raise PairingError("malformed pairing code")
    raw = re.sub(r"[\s-]", "", code).upper()
    shaped = f"{raw[:4]}-{raw[4:]}"
    if not _SHAPE.match(shaped):
        raise PairingError("malformed pairing code (it looks like ABCD-EFGH)")
    return shaped


def _digest(code: str) -> bytes:
    return hashlib.sha256(code.encode("ascii")).digest()


@dataclass
class _Pending:
    digest: bytes
    expires: float


class PairingBook:
    """Issued codes awaiting use; `clock` is injected so expiry is testable."""

    def __init__(self, clock, ttl_s: float = TTL_S):
        self.clock, self.ttl_s = clock, ttl_s
        self._pending: list[_Pending] = []

    def issue(self) -> str:
        raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
        code = f"{raw[:4]}-{raw[4:]}"
        self._pending.append(_Pending(_digest(code), self.clock() + self.ttl_s))
        return code

    def redeem(self, code: str) -> None:
        """Consume a code; raises PairingError when it is malformed, unknown, used or expired."""
        digest = _digest(normalize(code))
        now = self.clock()
        self._pending = [p for p in self._pending if p.expires > now]
        for pending in self._pending:
            if hmac.compare_digest(pending.digest, digest):
                self._pending.remove(pending)
                return
        raise PairingError("unknown, expired or already used pairing code")
