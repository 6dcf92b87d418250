"""The installation's signing identity and export log: created on first use, protected, tamper-evident."""

from __future__ import annotations

import datetime as dt
import json
import os
import stat

import pytest

from assets.errors import MemorialError, TamperError
from generation.provenance import export_log, keys


def test_identity_is_created_once_with_private_files(memorial_home):
    first = keys.signing_identity()
    again = keys.signing_identity()
    assert first.chain_pem == again.chain_pem and first.root_pem == again.root_pem
    folder = memorial_home / "provenance"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for name in ("secret.key", "root.key", "signer.key"):
        assert stat.S_IMODE((folder / name).stat().st_mode) == 0o600, name
    for name in ("root.key", "signer.key"):
        text = (folder / name).read_bytes()
        assert b"BEGIN ENCRYPTED PRIVATE KEY" in text and b"BEGIN PRIVATE KEY" not in text
    from cryptography import x509

    leaf, root = x509.load_pem_x509_certificates(first.chain_pem)
    assert leaf.issuer == root.subject
    assert keys.trust_anchor_pem() == first.root_pem


def test_signer_is_renewed_before_it_expires(memorial_home):
    first = keys.signing_identity()
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=keys.SIGNER_DAYS - 10)
    renewed = keys.signing_identity(now=later)
    assert renewed.chain_pem != first.chain_pem
    assert renewed.root_pem == first.root_pem  # same trust anchor: old exports stay trusted


def test_key_readable_by_others_is_refused(memorial_home):
    keys.signing_identity()
    path = memorial_home / "provenance" / "signer.key"
    os.chmod(path, 0o644)
    with pytest.raises(MemorialError, match="chmod 600"):
        keys.signing_identity()


def test_replaced_secret_cannot_decrypt_the_keys(memorial_home):
    keys.signing_identity()
    secret = memorial_home / "provenance" / "secret.key"
    os.chmod(secret, 0o600)
    secret.write_bytes(os.urandom(32))
    with pytest.raises(TamperError, match="cannot be decrypted"):
        keys.signing_identity()


def _entry(i: int) -> dict:
    return {"content_id": f"00000000-0000-4000-8000-{i:012d}", "sha256": "ab" * 32, "command": "test"}


def test_log_round_trip_is_encrypted(memorial_home):
    for i in range(3):
        export_log.append(_entry(i))
    state = export_log.read()
    assert state.problem is None
    assert [e["content_id"] for e in state.entries] == [_entry(i)["content_id"] for i in range(3)]
    raw = (memorial_home / "provenance" / "exports.log").read_bytes()
    assert b"content_id" not in raw and b"test" not in raw


def test_log_edit_removal_and_truncation_are_detected(memorial_home):
    for i in range(3):
        export_log.append(_entry(i))
    path = memorial_home / "provenance" / "exports.log"
    good = path.read_bytes()
    lines = good.split(b"\n")

    edited = bytearray(good)
    edited[20] = ord("A") if edited[20] != ord("A") else ord("B")
    path.write_bytes(bytes(edited))
    assert "line 1" in export_log.read().problem
    with pytest.raises(TamperError):
        export_log.append(_entry(9))

    path.write_bytes(b"\n".join(lines[:1] + lines[2:]))  # middle line removed
    assert "line 2" in export_log.read().problem

    path.write_bytes(b"\n".join(lines[:2]) + b"\n")  # last line removed
    assert "lines removed" in export_log.read().problem

    head = memorial_home / "provenance" / "exports.head"
    path.write_bytes(good)
    forged = json.loads(head.read_text())
    forged["count"] = 2
    head.write_text(json.dumps(forged))
    assert "not authentic" in export_log.read().problem
