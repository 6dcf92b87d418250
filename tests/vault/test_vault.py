"""The vault API: round trips, tamper detection, wrong passphrase, members, crash safety."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from assets.errors import TamperError, UsageError, WrongPassphrase
from generation.vault import open_vault
from tests.conftest import OWNER_PASS

pytestmark = pytest.mark.production_kdf  # the vault is tested with the cost it ships with


def test_put_get_roundtrip_and_no_plaintext_on_disk(make_subject, memorial_home):
    vault = make_subject()
    secret = b"grandma's recipe " * 1000
    vault.put("original/abc", secret, kind="original", meta={"filename": "recipe.txt"})
    assert vault.get("original/abc") == secret
    assert [b.key for b in vault.list("original/")] == ["original/abc"]
    for path in memorial_home.rglob("*"):
        if path.is_file():
            assert b"grandma" not in path.read_bytes()
    reopened = open_vault("rose", OWNER_PASS)
    assert reopened.get("original/abc") == secret
    assert reopened.info("original/abc").meta == {"filename": "recipe.txt"}


def test_overwrite_replaces_and_removes_old_blob(make_subject):
    vault = make_subject()
    vault.put("dataset/current", b"v1")
    vault.put("dataset/current", b"v2")
    assert vault.get("dataset/current") == b"v2"
    live = {b.id for b in vault.list()}
    on_disk = {p.name for p in (vault.folder / "blobs").iterdir()}
    assert on_disk == live


def test_delete_blob(make_subject):
    vault = make_subject()
    vault.put("x", b"1")
    vault.delete("x")
    assert not vault.exists("x")
    with pytest.raises(KeyError):
        vault.get("x")


def test_wrong_passphrase_is_refused_and_audited(make_subject):
    make_subject()
    with pytest.raises(WrongPassphrase):
        open_vault("rose", "not the passphrase")
    with pytest.raises(WrongPassphrase):
        open_vault("rose", OWNER_PASS, member="mallory")
    vault = open_vault("rose", OWNER_PASS)
    failed = [e for e in vault.audit_entries() if e.action == "failed_passphrase"]
    assert [e.member for e in failed] == ["?", "mallory"]


def test_blob_ciphertext_is_bound_to_its_id(make_subject):
    vault = make_subject()
    a = vault.put("a", b"AAAA")
    b = vault.put("b", b"BBBB")
    blobs = vault.folder / "blobs"
    data_a = (blobs / a.id).read_bytes()
    (blobs / b.id).write_bytes(data_a)  # swap content between ids
    with pytest.raises(TamperError, match="blob 'b'"):
        vault.get("b")


@pytest.mark.parametrize("offset", [0, 4, 20, -1])
def test_flipped_byte_in_blob_is_named(make_subject, offset):
    vault = make_subject()
    info = vault.put("original/photo", os.urandom(4096))
    path = vault.folder / "blobs" / info.id
    raw = bytearray(path.read_bytes())
    raw[offset] ^= 0x01
    path.write_bytes(bytes(raw))
    with pytest.raises(TamperError, match=r"blob 'original/photo'.*tampered"):
        vault.get("original/photo")


def test_flipped_byte_in_index_is_named(make_subject):
    make_subject()
    path = Path(os.environ["MEMORIAL_HOME"]) / "subjects" / "rose" / "index.bin"
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0x80
    path.write_bytes(bytes(raw))
    with pytest.raises(TamperError, match="index.*tampered"):
        open_vault("rose", OWNER_PASS)


def test_tampered_key_slot_role_does_not_unlock(make_subject):
    import json

    vault = make_subject()
    vault.add_member("tom", "viewer", "tom-passphrase-1")
    header_path = vault.folder / "vault.json"
    header = json.loads(header_path.read_text())
    header["slots"]["tom"]["role"] = "owner"  # privilege escalation attempt
    header_path.write_text(json.dumps(header))
    with pytest.raises(WrongPassphrase):
        open_vault("rose", "tom-passphrase-1", member="tom")


def test_audit_chain_detects_edit_removal_and_reorder(make_subject):
    vault = make_subject()
    for i in range(4):
        vault.log("test_event", i=i)
    assert len(vault.audit_entries()) >= 6
    log = vault.folder / "audit.log"
    original = log.read_bytes()
    lines = original.split(b"\n")[:-1]

    log.write_bytes(b"\n".join(lines[:-1]) + b"\n")
    with pytest.raises(TamperError, match="removed"):
        vault.audit_entries()

    swapped = lines[:]
    swapped[1], swapped[2] = swapped[2], swapped[1]
    log.write_bytes(b"\n".join(swapped) + b"\n")
    with pytest.raises(TamperError, match="line 2"):
        vault.audit_entries()

    edited = bytearray(original)
    edited[10] = ord("A") if edited[10] != ord("A") else ord("B")
    log.write_bytes(bytes(edited))
    with pytest.raises(TamperError, match="line 1"):
        vault.audit_entries()


def test_members_roles_and_passphrase_rotation(make_subject):
    vault = make_subject()
    vault.add_member("tom", "family", "tom-passphrase-1")
    assert vault.members() == {"anna": "owner", "tom": "family"}
    tom = open_vault("rose", "tom-passphrase-1")
    assert (tom.member, tom.role) == ("tom", "family")
    tom.change_passphrase("tom-new-passphrase")
    with pytest.raises(WrongPassphrase):
        open_vault("rose", "tom-passphrase-1")
    assert open_vault("rose", "tom-new-passphrase").member == "tom"
    with pytest.raises(UsageError, match="already a member"):
        vault.add_member("tom", "viewer", "whatever-123")
    with pytest.raises(UsageError, match="only owner"):
        vault.remove_member("anna")
    vault.remove_member("tom")
    with pytest.raises(WrongPassphrase):
        open_vault("rose", "tom-new-passphrase")


def test_short_passphrase_refused(make_subject):
    vault = make_subject()
    with pytest.raises(UsageError, match="at least 8"):
        vault.add_member("tom", "family", "short")


def test_consent_signature_detects_tampering(make_subject):
    import json

    from generation.vault.store import CONSENT_KEY

    vault = make_subject(scopes=["private_viewing"])
    stored = vault.get_json(CONSENT_KEY)
    stored["record"]["scopes"] = ["private_viewing", "video_export"]  # forged widening by a data-key holder
    vault.put(CONSENT_KEY, json.dumps(stored).encode(), kind="consent")
    with pytest.raises(TamperError, match="consent"):
        open_vault("rose", OWNER_PASS).consent


def test_crash_leftovers_are_cleaned_and_state_kept(make_subject):
    vault = make_subject()
    vault.put("keep", b"precious")
    blobs = vault.folder / "blobs"
    (blobs / "deadbeef" ).write_bytes(b"orphan from a killed writer")
    (vault.folder / ".index.bin.999.tmp").write_bytes(b"torn")
    with open(vault.folder / "audit.log", "ab") as fh:
        fh.write(b"half-written-line-without-newline")
    vault.put("other", b"x")  # this handle already swept: the torn audit line is cut at once
    assert vault.audit_entries()
    assert (blobs / "deadbeef").exists()  # garbage waits for the next handle's first write
    later = open_vault("rose", OWNER_PASS)  # e.g. the next process
    assert not (blobs / "deadbeef").exists()
    assert not (vault.folder / ".index.bin.999.tmp").exists()
    assert later.get("keep") == b"precious"
    assert later.audit_entries()  # torn line cut, chain intact


def test_audit_line_written_before_a_crash_is_adopted(make_subject):
    import copy

    vault = make_subject()
    before = len(vault.audit_entries())
    # A writer dies after appending its line but before committing the index:
    vault._append_audit(copy.deepcopy(vault._index), "anna", "ingest", {"file": "x.jpg"})
    later = open_vault("rose", OWNER_PASS)  # its "open" line comes after the adopted one
    actions = [e.action for e in later.audit_entries()]
    assert len(actions) == before + 2 and actions[-2:] == ["ingest", "open"]


def test_hash_of_plaintext_never_stored(make_subject):
    vault = make_subject()
    data = os.urandom(1000)
    vault.put("original/x", data)
    digest = hashlib.sha256(data).hexdigest().encode()
    for path in vault.folder.rglob("*"):
        if path.is_file():
            assert digest not in path.read_bytes()


def test_stale_handle_reads_a_value_replaced_by_another_handle(make_subject):
    first = make_subject()
    first.put("checkpoint/current", b"old weights")
    second = open_vault("rose", OWNER_PASS)
    second.put("checkpoint/current", b"new weights")  # removes the blob `first` still points to
    assert first.get("checkpoint/current") == b"new weights"


def test_blob_removed_behind_the_index_is_tampering(make_subject):
    vault = make_subject()
    info = vault.put("original/x", b"data")
    (vault.folder / "blobs" / info.id).unlink()
    with pytest.raises(TamperError, match="missing"):
        vault.get("original/x")


def test_new_key_slots_use_the_production_scrypt_cost(make_subject, memorial_home):
    import json

    make_subject("rose").close()
    header = json.loads((memorial_home / "subjects" / "rose" / "vault.json").read_text())
    kdfs = [slot["kdf"] for slot in header["slots"].values()] if isinstance(header["slots"], dict) else \
        [slot["kdf"] for slot in header["slots"]]
    assert kdfs and all(k["algorithm"] == "scrypt" and k["n"] >= 2**16 and k["r"] >= 8 for k in kdfs), kdfs


def test_log_many_writes_one_chain_like_single_logs(make_subject):
    vault = make_subject("rose")
    before = len(vault.audit_entries())
    vault.log_many([("room_join", {"member": "ben"}), ("room_join", {"member": "tess"})])
    vault.log("room_kick", member="ben")
    entries = vault.audit_entries()  # verifies the whole hash chain
    assert [(e.action, e.detail.get("member")) for e in entries[before:]] == [
        ("room_join", "ben"), ("room_join", "tess"), ("room_kick", "ben")]
