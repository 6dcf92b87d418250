"""Who may enter a room: vault members only, by signed single-use invite or by passphrase.

The room's keys live in the subject's vault (a `room/keys` blob, encrypted like every
other blob): a store key for the op log and an HMAC key for invites. Invites name the
subject, the member, an expiry and a random nonce; the server records each nonce as a
durable op before it lets the member in, so a replayed invite finds it used.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time
from dataclasses import dataclass

from assets.errors import ConsentError, MemorialError, PermissionDenied, WrongPassphrase
from generation.vault import open_vault
from generation.vault.roles import Action, authorize

KEYS_BLOB = "room/keys"
INVITE_TTL = 24 * 3600.0


class InviteError(MemorialError):
    """An invite that is forged, expired, for another subject, or already used."""

    exit_code = 6


@dataclass(frozen=True)
class RoomKeys:
    store: bytes
    invite: bytes


def room_keys(vault, create: bool = False) -> RoomKeys:
    """The subject's room keys from its vault; an owner may create them on first use."""
    if not vault.exists(KEYS_BLOB):
        if not create:
            raise MemorialError(f"subject '{vault.name}' has no shared room yet: an owner runs `memorial room serve` first")
        vault.put_json(KEYS_BLOB, {"store": base64.b64encode(os.urandom(32)).decode(),
                                   "invite": base64.b64encode(os.urandom(32)).decode()}, kind="room-keys")
    keys = vault.get_json(KEYS_BLOB)
    return RoomKeys(store=base64.b64decode(keys["store"]), invite=base64.b64decode(keys["invite"]))


def _b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64u(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def make_invite(keys: RoomKeys, subject: str, member: str, ttl: float = INVITE_TTL, now: float | None = None) -> str:
    claims = {"v": 1, "subject": subject, "member": member, "exp": (now or time.time()) + ttl,
              "nonce": _b64u(os.urandom(16))}
    body = _b64u(json.dumps(claims, separators=(",", ":"), sort_keys=True).encode())
    sig = hmac.new(keys.invite, body.encode(), hashlib.sha256).digest()
    return f"{body}.{_b64u(sig)}"


def check_invite(keys: RoomKeys, subject: str, member: str, token: str, now: float | None = None) -> str:
    """The invite's nonce when it is authentic, current and for this subject and member."""
    try:
        body, sig = token.split(".")
        good = hmac.new(keys.invite, body.encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(good, _unb64u(sig)):
            raise InviteError("invite signature is not valid")
        claims = json.loads(_unb64u(body))
    except (ValueError, UnicodeDecodeError):
        raise InviteError("invite is malformed") from None
    if claims.get("subject") != subject or claims.get("member") != member:
        raise InviteError("invite is for another subject or member")
    if not isinstance(claims.get("exp"), (int, float)) or claims["exp"] < (now or time.time()):
        raise InviteError("invite has expired")
    return str(claims["nonce"])


def check_passphrase(subject: str, member: str, passphrase: str) -> str:
    """The member's role if the passphrase unlocks their key slot (slow: scrypt; failures are audited)."""
    vault = open_vault(subject, passphrase, member, log_open=False)
    role = vault.role
    vault.close()
    return role


def check_joins(vault, members: list[str]) -> list[str | MemorialError]:
    """Each member's current role, after the consent scope `shared_room` is checked again, or the
    error that refuses that member. One read of the vault header and consent record from disk
    serves joins that arrive together (e.g. after a takeover), and a member removed or a consent
    revoked since the server started is refused at the next join."""
    vault.refresh()  # the Vault caches its index and consent; a join must see a revocation made meanwhile
    roles = vault.members()
    try:
        consent = vault.consent
    except ConsentError:
        consent = None
    outcomes: list[str | MemorialError] = []
    for member in members:
        role = roles.get(member)
        if role is None:
            outcomes.append(WrongPassphrase(f"'{member}' is not a member of '{vault.name}'"))
            continue
        try:
            authorize(role, consent, Action.SHARED_ROOM)
            outcomes.append(role)
        except MemorialError as exc:
            outcomes.append(exc)
    return outcomes


__all__ = ["InviteError", "PermissionDenied", "RoomKeys", "check_invite", "check_joins", "check_passphrase",
           "make_invite", "room_keys"]
