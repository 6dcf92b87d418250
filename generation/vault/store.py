"""A subject's vault: encrypted blobs, an encrypted index, member key slots and the audit log.

On disk (`$MEMORIAL_HOME/subjects/NAME/`)::

    vault.json      plaintext header: format version, vault id, member key slots
                    (role, scrypt parameters, wrapped data key), audit box public key
    index.bin       AES-GCM(index JSON): blob table, audit chain head, consent signing key
    blobs/ID        AES-GCM(content), associated data = vault id | blob id | format version
    audit.log       one AES-GCM line per event, hash-chained; head kept in the index
    failed.log      failed passphrase attempts, sealed to the audit box key
    .lock           flock target; every mutation holds it

Every mutation takes the lock, re-reads the index from disk, writes new files atomically
and replaces the index last, so a kill -9 at any point leaves the previous state (plus
garbage that the next locked operation removes).
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import json
import os
import shutil
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives import serialization
from cryptography.exceptions import InvalidSignature

from assets.errors import ConsentError, MemorialError, PermissionDenied, SubjectNotFound, TamperError, UsageError, WrongPassphrase
from ..paths import subject_dir, subjects_dir, validate_subject_name
from . import crypto
from .consent import ConsentRecord
from .files import append_line, atomic_write, remove_stale_temp_files, vault_lock
from .roles import ROLES, Action, authorize

FORMAT = "memorial-vault"
FORMAT_VERSION = 1
BLOB_MAGIC = b"MVB1"
CONSENT_KEY = "consent/record"
ORIGINAL_PREFIX = "original/"  # original media, keyed by the SHA-256 of their bytes


@dataclass(frozen=True)
class BlobInfo:
    key: str
    id: str
    kind: str
    size: int
    created: str
    meta: dict


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    time: str
    member: str
    action: str
    detail: dict


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def _jdump(obj) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode("utf-8")


def _slot_aad(vault_id: str, member: str, role: str, kdf: dict) -> bytes:
    return b"slot|" + _jdump([vault_id, member, role, kdf])


def _index_aad(vault_id: str) -> bytes:
    return f"index|{vault_id}|{FORMAT_VERSION}".encode()


def _blob_aad(vault_id: str, blob_id: str) -> bytes:
    return f"blob|{vault_id}|{blob_id}|{FORMAT_VERSION}".encode()


def _audit_aad(vault_id: str, seq: int) -> bytes:
    return f"audit|{vault_id}|{seq}".encode()


def _chain(prev_head: str, line: bytes) -> str:
    return hashlib.sha256(prev_head.encode("ascii") + line).hexdigest()


GENESIS = "0" * 64


def _read_header(folder: Path) -> dict:
    try:
        header = json.loads((folder / "vault.json").read_text("utf-8"))
    except FileNotFoundError:
        raise SubjectNotFound(f"no subject named '{folder.name}' (see `memorial subject list`)") from None
    except (ValueError, UnicodeDecodeError):
        raise TamperError(f"vault header of '{folder.name}' is not valid JSON: tampered or corrupted") from None
    if header.get("format") != FORMAT:
        raise TamperError(f"vault header of '{folder.name}' is not a Memorial VR vault")
    if header.get("version") != FORMAT_VERSION:
        raise MemorialError(f"vault '{folder.name}' has format version {header.get('version')}; "
                            f"this program reads version {FORMAT_VERSION}")
    return header


def _validate_passphrase(passphrase: str) -> None:
    if len(passphrase) < 8:
        raise UsageError("passphrase must be at least 8 characters long")


def _make_slot(vault_id: str, member: str, role: str, passphrase: str, data_key: bytes,
               sign_key: bytes | None) -> dict:
    kdf = crypto.KdfParams.fresh().to_dict()
    kek = crypto.derive_kek(passphrase, crypto.KdfParams(**kdf))
    slot = {
        "role": role,
        "kdf": kdf,
        "wrapped_key": crypto.b64e(crypto.seal(kek, data_key, _slot_aad(vault_id, member, role, kdf))),
    }
    if sign_key is not None:
        slot["wrapped_sign_key"] = crypto.b64e(crypto.seal(kek, sign_key, b"sign" + _slot_aad(vault_id, member, role, kdf)))
    return slot


def _sign_raw(private: Ed25519PrivateKey) -> bytes:
    return private.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())


def _pub_raw(private: Ed25519PrivateKey) -> bytes:
    return private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


class Vault:
    """An opened vault: the data key is in memory, plaintext never touches the disk."""

    def __init__(self, folder: Path, header: dict, member: str, role: str, data_key: bytes, sign_key: bytes | None):
        self.folder = folder
        self.name = folder.name
        self.vault_id: str = header["vault_id"]
        self.member = member
        self.role = role
        self._header = header
        self._key = data_key
        self._sign_key = sign_key
        self._index = self._load_index()
        self._consent: ConsentRecord | None = None
        self._swept = False

    # ----- index -----------------------------------------------------------------------------

    def _load_index(self) -> dict:
        try:
            sealed = (self.folder / "index.bin").read_bytes()
        except FileNotFoundError:
            raise TamperError(f"vault index of '{self.name}' is missing") from None
        try:
            return json.loads(crypto.open_sealed(self._key, sealed, _index_aad(self.vault_id)))
        except crypto.InvalidTag:
            raise TamperError(f"vault index of '{self.name}' failed authentication: tampered or corrupted") from None

    def _write_index(self, index: dict) -> None:
        atomic_write(self.folder / "index.bin", crypto.seal(self._key, _jdump(index), _index_aad(self.vault_id)))
        self._index = index

    @contextmanager
    def _mutation(self):
        """Hold the lock, start from the index on disk, clean up after crashed writers."""
        with vault_lock(self.folder):
            self._index = self._load_index()
            self._recover()
            yield self._index

    def _recover(self) -> None:
        """Cheap checks on every mutation; the folder sweep only on this handle's first one
        (leftovers of a crashed writer are garbage, never state, so they can wait)."""
        if not self._swept:
            remove_stale_temp_files(self.folder)
            remove_stale_temp_files(self.folder / "blobs")
            live = {entry["id"] for entry in self._index["entries"].values()}
            for blob in (self.folder / "blobs").iterdir():
                if blob.name not in live:
                    blob.unlink(missing_ok=True)  # written by a process killed before its index commit
            self._swept = True
        self._adopt_audit_tail()
        self._absorb_failed_attempts()

    # ----- blobs ------------------------------------------------------------------------------

    def put(self, key: str, data: bytes, *, kind: str = "blob", meta: dict | None = None) -> BlobInfo:
        """Store `data` under `key` (replacing an older value); returns its index entry."""
        if not key or len(key) > 512 or any(ord(c) < 32 for c in key):
            raise UsageError(f"invalid blob key {key!r}")
        with self._mutation() as index:
            blob_id = uuid.uuid4().hex
            payload = BLOB_MAGIC + crypto.seal(self._key, bytes(data), _blob_aad(self.vault_id, blob_id))
            atomic_write(self.folder / "blobs" / blob_id, payload)
            old = index["entries"].get(key)
            entry = {"id": blob_id, "kind": kind, "size": len(data), "created": _now(), "meta": meta or {}}
            index["entries"][key] = entry
            self._write_index(index)
            if old:
                (self.folder / "blobs" / old["id"]).unlink(missing_ok=True)
        return BlobInfo(key=key, **entry)

    def get(self, key: str) -> bytes:
        entry = self._index["entries"].get(key)
        if entry is None:
            self._index = self._load_index()  # another process may have added it
            entry = self._index["entries"].get(key)
        if entry is None:
            raise KeyError(key)
        try:
            raw = (self.folder / "blobs" / entry["id"]).read_bytes()
        except FileNotFoundError:
            # Another handle may have replaced this key since our index was read: look again.
            self._index = self._load_index()
            fresh = self._index["entries"].get(key)
            if fresh is None:
                raise KeyError(key) from None
            if fresh["id"] == entry["id"]:
                raise TamperError(f"blob '{key}' (id {entry['id']}) is missing from the vault") from None
            return self.get(key)
        if not raw.startswith(BLOB_MAGIC):
            raise TamperError(f"blob '{key}' (id {entry['id']}) failed authentication: tampered or corrupted")
        try:
            return crypto.open_sealed(self._key, raw[len(BLOB_MAGIC):], _blob_aad(self.vault_id, entry["id"]))
        except crypto.InvalidTag:
            raise TamperError(f"blob '{key}' (id {entry['id']}) failed authentication: tampered or corrupted") from None

    def exists(self, key: str) -> bool:
        return key in self._index["entries"]

    def info(self, key: str) -> BlobInfo:
        return BlobInfo(key=key, **self._index["entries"][key])

    def list(self, prefix: str = "") -> list[BlobInfo]:
        return [BlobInfo(key=k, **v) for k, v in sorted(self._index["entries"].items()) if k.startswith(prefix)]

    def delete(self, key: str) -> None:
        with self._mutation() as index:
            entry = index["entries"].pop(key, None)
            if entry is None:
                raise KeyError(key)
            self._write_index(index)
            (self.folder / "blobs" / entry["id"]).unlink(missing_ok=True)

    def put_json(self, key: str, obj, *, kind: str = "json", meta: dict | None = None) -> BlobInfo:
        return self.put(key, _jdump(obj), kind=kind, meta=meta)

    def get_json(self, key: str):
        return json.loads(self.get(key))

    # ----- audit ------------------------------------------------------------------------------

    def log(self, action: str, **detail) -> None:
        """Append one encrypted, hash-chained line to the audit log."""
        with self._mutation() as index:
            self._append_audit(index, self.member, action, detail)
            self._write_index(index)

    def refresh(self) -> None:
        """Forget what this handle cached (index, consent): a long-running process (the room server)
        must see a consent revoked or a blob added by another process since it opened the vault."""
        self._index = self._load_index()
        self._consent = None

    def log_many(self, events: list[tuple[str, dict]]) -> None:
        """Append several audit lines with one write, one fsync and one index commit (a room
        server's burst of joins); the chain is the same as from one `log` call per event."""
        with self._mutation() as index:
            lines: list[bytes] = []
            for action, detail in events:
                self._append_audit(index, self.member, action, detail, pending=lines)
            if lines:
                append_line(self.folder / "audit.log", b"\n".join(lines))
                self._write_index(index)

    def _append_audit(self, index: dict, member: str, action: str, detail: dict, when: str | None = None,
                      pending: list[bytes] | None = None) -> None:
        seq = index["audit"]["count"]
        entry = {"seq": seq, "time": when or _now(), "member": member, "action": action,
                 "detail": detail, "prev": index["audit"]["head"]}
        line = crypto.b64e(crypto.seal(self._key, _jdump(entry), _audit_aad(self.vault_id, seq))).encode("ascii")
        if pending is None:
            append_line(self.folder / "audit.log", line)
        else:
            pending.append(line)  # the caller writes them all at once
        index["audit"] = {"count": seq + 1, "head": _chain(index["audit"]["head"], line),
                          "size": index["audit"]["size"] + len(line) + 1}

    def _read_audit_lines(self) -> list[bytes]:
        path = self.folder / "audit.log"
        if not path.exists():
            return []
        return path.read_bytes().split(b"\n")

    def _decode_audit_line(self, seq: int, line: bytes) -> dict:
        try:
            entry = json.loads(crypto.open_sealed(self._key, crypto.b64d(line.decode("ascii")), _audit_aad(self.vault_id, seq)))
        except (crypto.InvalidTag, ValueError, UnicodeDecodeError):
            raise TamperError(f"audit log line {seq + 1} failed authentication: tampered or corrupted") from None
        return entry

    def _adopt_audit_tail(self) -> None:
        """A writer killed between appending a line and committing the index leaves one
        authentic line past the recorded head: adopt it. A torn last line is cut off.
        The index records the log's committed size, so the usual case reads nothing."""
        path = self.folder / "audit.log"
        audit = self._index["audit"]
        size = path.stat().st_size if path.exists() else 0
        if size <= audit["size"]:
            return  # nothing new (a shorter log is tampering, which audit_entries reports)
        with open(path, "r+b") as fh:
            fh.seek(audit["size"])
            *complete, torn = fh.read().split(b"\n")
            if torn:
                fh.truncate(audit["size"] + sum(len(x) + 1 for x in complete))
        if not complete:
            return
        head = audit["head"]
        for offset, line in enumerate(complete):
            seq = audit["count"] + offset
            if self._decode_audit_line(seq, line).get("prev") != head:
                raise TamperError(f"audit log line {seq + 1} does not continue the chain: tampered")
            head = _chain(head, line)
        self._index["audit"] = {"count": audit["count"] + len(complete), "head": head,
                                "size": audit["size"] + sum(len(x) + 1 for x in complete)}
        self._write_index(self._index)

    def audit_entries(self) -> list[AuditEntry]:
        """Verify the whole chain against the head in the index; raise TamperError naming the line."""
        index = self._load_index()
        lines = [x for x in self._read_audit_lines() if x]
        head = GENESIS
        entries = []
        for seq, line in enumerate(lines):
            entry = self._decode_audit_line(seq, line)
            if entry.get("seq") != seq or entry.get("prev") != head:
                raise TamperError(f"audit log line {seq + 1} does not continue the chain: tampered or reordered")
            head = _chain(head, line)
            entries.append(AuditEntry(seq=seq, time=entry["time"], member=entry["member"],
                                      action=entry["action"], detail=entry["detail"]))
        recorded = index["audit"]["count"]
        if len(lines) < recorded:
            raise TamperError(f"audit log has {len(lines)} lines but the index records {recorded}: lines were removed")
        if len(lines) == recorded and head != index["audit"]["head"]:
            raise TamperError("audit log does not end at the head recorded in the index: tampered")
        return entries

    def _absorb_failed_attempts(self) -> None:
        path = self.folder / "failed.log"
        if not path.exists():
            return
        private = crypto.b64d(self._index["box_private"])
        for raw in path.read_bytes().splitlines():
            try:
                record = json.loads(crypto.box_open(private, crypto.b64d(raw.decode("ascii")), self.vault_id.encode()))
                self._append_audit(self._index, record.get("member") or "?", "failed_passphrase",
                                   {"os_user": record.get("os_user", "?")}, when=record.get("time"))
            except (crypto.InvalidTag, ValueError, UnicodeDecodeError):
                self._append_audit(self._index, "?", "failed_passphrase", {"note": "unreadable record"})
        self._write_index(self._index)
        path.unlink()

    # ----- consent and permissions --------------------------------------------------------------

    @property
    def consent(self) -> ConsentRecord:
        if self._consent is None:
            self._consent = self._load_consent()
        return self._consent

    def _load_consent(self) -> ConsentRecord:
        if not self.exists(CONSENT_KEY):
            raise ConsentError(f"subject '{self.name}' has no consent record")
        stored = self.get_json(CONSENT_KEY)
        record = ConsentRecord.from_json(stored["record"])
        public = Ed25519PublicKey.from_public_bytes(crypto.b64d(self._index["sign_public"]))
        try:
            public.verify(crypto.b64d(stored["signature"]), record.canonical_bytes())
        except InvalidSignature:
            raise TamperError(f"consent record of '{self.name}' has an invalid signature: tampered") from None
        return record

    def authorize(self, action: Action) -> None:
        consent = None
        try:
            consent = self.consent
        except ConsentError:
            pass
        try:
            authorize(self.role, consent, action)
        except (PermissionDenied, ConsentError) as exc:
            self._try_log("denied", wanted=action.value, reason=str(exc))
            raise

    def _try_log(self, action: str, **detail) -> None:
        try:
            self.log(action, **detail)
        except MemorialError:
            pass

    def set_consent(self, record: ConsentRecord, event: str = "consent_recorded") -> None:
        """Store a (new or renewed) consent record signed with the owners' key, and audit it.
        Revocation is final: after it, only the revocation itself may be stored."""
        if self._sign_key is None:
            raise PermissionDenied("only an owner can sign the consent record")
        if event != "consent_revoked" and self.exists(CONSENT_KEY) and self.consent.revoked_at:
            self.consent.check_active()  # raises, naming who revoked and when
        private = Ed25519PrivateKey.from_private_bytes(self._sign_key)
        signature = private.sign(record.canonical_bytes())
        self.put_json(CONSENT_KEY, {"record": record.to_json(), "signature": crypto.b64e(signature),
                                    "signed_by": self.member}, kind="consent")
        self._consent = record
        self.log(event, basis=record.basis, scopes=record.scopes, face=record.face, voice=record.voice)

    def revoke_consent(self) -> None:
        self.authorize(Action.MANAGE_CONSENT)
        record = self.consent
        record.revoked_at = _now()
        record.revoked_by = self.member
        self.set_consent(record, event="consent_revoked")

    # ----- members ------------------------------------------------------------------------------

    def members(self) -> dict[str, str]:
        return {name: slot["role"] for name, slot in _read_header(self.folder)["slots"].items()}

    def add_member(self, member: str, role: str, passphrase: str) -> None:
        self.authorize(Action.MANAGE_MEMBERS)
        _validate_member_name(member)
        if role not in ROLES:
            raise UsageError(f"role {role!r} is not one of {', '.join(ROLES)}")
        _validate_passphrase(passphrase)
        with self._mutation() as index:
            header = _read_header(self.folder)
            if member in header["slots"]:
                raise UsageError(f"'{member}' is already a member of '{self.name}'")
            header["slots"][member] = _make_slot(self.vault_id, member, role, passphrase, self._key,
                                                 self._sign_key if role == "owner" else None)
            atomic_write(self.folder / "vault.json", _jdump(header))
            self._append_audit(index, self.member, "member_added", {"member": member, "role": role})
            self._write_index(index)

    def remove_member(self, member: str) -> None:
        self.authorize(Action.MANAGE_MEMBERS)
        with self._mutation() as index:
            header = _read_header(self.folder)
            if member not in header["slots"]:
                raise UsageError(f"'{member}' is not a member of '{self.name}'")
            owners = [m for m, s in header["slots"].items() if s["role"] == "owner"]
            if owners == [member]:
                raise UsageError(f"'{member}' is the only owner; add another owner first")
            del header["slots"][member]
            atomic_write(self.folder / "vault.json", _jdump(header))
            self._append_audit(index, self.member, "member_removed", {"member": member})
            self._write_index(index)

    def change_passphrase(self, new_passphrase: str) -> None:
        """Re-wrap this member's key slot under a new passphrase (fresh salt)."""
        _validate_passphrase(new_passphrase)
        with self._mutation() as index:
            header = _read_header(self.folder)
            header["slots"][self.member] = _make_slot(self.vault_id, self.member, self.role, new_passphrase,
                                                      self._key, self._sign_key)
            atomic_write(self.folder / "vault.json", _jdump(header))
            self._append_audit(index, self.member, "passphrase_changed", {})
            self._write_index(index)

    def close(self) -> None:
        self._key = b""
        self._sign_key = None

    def __enter__(self) -> "Vault":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _validate_member_name(member: str) -> None:
    if not member or len(member) > 64 or any(ord(c) < 32 for c in member):
        raise UsageError("member name must be 1 to 64 printable characters")


def create_vault(name: str, consent: ConsentRecord, owner: str, passphrase: str) -> Vault:
    """Create the folder, keys, signed consent record and the first audit line."""
    validate_subject_name(name)
    _validate_member_name(owner)
    _validate_passphrase(passphrase)
    parent = subjects_dir()
    final = parent / name
    if final.exists():
        raise UsageError(f"subject '{name}' already exists")
    # Build the vault in a hidden folder and rename it into place: a crash leaves no half vault.
    staging = parent / f".creating-{name}-{uuid.uuid4().hex[:8]}"
    (staging / "blobs").mkdir(parents=True, mode=0o700)
    try:
        vault_id = uuid.uuid4().hex
        data_key = crypto.new_key()
        signer = Ed25519PrivateKey.generate()
        box_private, box_public = crypto.new_box_keypair()
        header = {
            "format": FORMAT, "version": FORMAT_VERSION, "vault_id": vault_id, "created": _now(),
            "box_public": crypto.b64e(box_public),
            "slots": {owner: _make_slot(vault_id, owner, "owner", passphrase, data_key, _sign_raw(signer))},
        }
        atomic_write(staging / "vault.json", _jdump(header))
        index = {"entries": {}, "audit": {"count": 0, "head": GENESIS, "size": 0},
                 "box_private": crypto.b64e(box_private), "sign_public": crypto.b64e(_pub_raw(signer))}
        atomic_write(staging / "index.bin", crypto.seal(data_key, _jdump(index), _index_aad(vault_id)))
        vault = Vault(staging, header, owner, "owner", data_key, _sign_raw(signer))
        vault.name = name
        vault.log("created", owner=owner)
        vault.set_consent(consent)
        if final.exists():
            raise UsageError(f"subject '{name}' already exists")
        os.rename(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    vault.folder = final
    return vault


def _record_failed_attempt(folder: Path, header: dict, member: str | None) -> None:
    record = {"time": _now(), "member": member, "os_user": getpass.getuser()}
    sealed = crypto.box_seal(crypto.b64d(header["box_public"]), _jdump(record), header["vault_id"].encode())
    with vault_lock(folder):
        append_line(folder / "failed.log", crypto.b64e(sealed).encode("ascii"))


def open_vault(name: str, passphrase: str, member: str | None = None, *, log_open: bool = True) -> Vault:
    """Unlock a subject's vault with a member's passphrase.

    Without `member`, every key slot is tried (a few members at ~0.1 s each), so the
    passphrase alone identifies the member.
    """
    folder = subject_dir(name)
    if not folder.is_dir():
        raise SubjectNotFound(f"no subject named '{name}' (see `memorial subject list`)")
    header = _read_header(folder)
    slots = header["slots"]
    if member is not None and member not in slots:
        _record_failed_attempt(folder, header, member)
        raise WrongPassphrase(f"'{member}' is not a member of '{name}' or the passphrase is wrong")
    for slot_member in ([member] if member else list(slots)):
        slot = slots[slot_member]
        kek = crypto.derive_kek(passphrase, crypto.KdfParams(**slot["kdf"]))
        aad = _slot_aad(header["vault_id"], slot_member, slot["role"], slot["kdf"])
        try:
            data_key = crypto.open_sealed(kek, crypto.b64d(slot["wrapped_key"]), aad)
        except crypto.InvalidTag:
            continue
        sign_key = None
        if "wrapped_sign_key" in slot:
            sign_key = crypto.open_sealed(kek, crypto.b64d(slot["wrapped_sign_key"]), b"sign" + aad)
        vault = Vault(folder, header, slot_member, slot["role"], data_key, sign_key)
        if log_open:
            vault.log("open")
        return vault
    _record_failed_attempt(folder, header, member)
    raise WrongPassphrase(f"wrong passphrase for subject '{name}'")


def list_subjects() -> list[dict]:
    """What can be said about each subject without any passphrase."""
    out = []
    for folder in sorted(subjects_dir().iterdir()):
        if folder.name.startswith(".") or not folder.is_dir():
            continue
        try:
            header = _read_header(folder)
            out.append({"name": folder.name, "created": header["created"], "members": len(header["slots"])})
        except MemorialError as exc:
            out.append({"name": folder.name, "error": str(exc)})
    return out


def delete_subject(vault: Vault) -> None:
    """Crypto-shredding: overwrite the key slots and the index, then remove every file.

    Without a key slot the data key cannot be recovered, so even blocks the file system
    keeps after unlinking stay ciphertext for good.
    """
    vault.authorize(Action.DELETE)
    folder = vault.folder
    with vault_lock(folder):
        for path in (folder / "vault.json", folder / "index.bin"):
            size = path.stat().st_size
            with open(path, "r+b") as fh:
                fh.write(os.urandom(size))
                fh.flush()
                os.fsync(fh.fileno())
        graveyard = folder.with_name(f".deleting-{uuid.uuid4().hex}")
        os.rename(folder, graveyard)
    vault.close()
    shutil.rmtree(graveyard)
