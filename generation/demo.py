"""The end-to-end demonstration on the built-in subject."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Callable

from assets import default_subject
from .errors import SubjectNotFound
from .summary import subject_summary
from .vault import Vault, create_vault, open_vault
from .vault.consent import parse_consent
from .vault.store import ORIGINAL_PREFIX


def open_or_create_demo_subject(say: Callable[[str], None]) -> Vault:
    passphrase = os.environ.get("MEMORIAL_PASSPHRASE") or default_subject.PASSPHRASE
    try:
        vault = open_vault(default_subject.NAME, passphrase)
        say(f"Using the existing demo subject '{default_subject.NAME}'.")
    except SubjectNotFound:
        record = parse_consent(default_subject.consent_text(), source="default_consent.toml")
        vault = create_vault(default_subject.NAME, record, default_subject.OWNER, passphrase)
        say(f"Created the demo subject '{default_subject.NAME}' (owner '{default_subject.OWNER}').")
    return vault


def store_original(vault: Vault, path: Path, media_type: str) -> bool:
    """Put an original media file into the vault; False when the same bytes are already there."""
    data = path.read_bytes()
    key = ORIGINAL_PREFIX + hashlib.sha256(data).hexdigest()
    if vault.exists(key):
        return False
    vault.put(key, data, kind="original", meta={"filename": path.name, "media_type": media_type})
    vault.log("ingest_original", filename=path.name, bytes=len(data))
    return True


def run_demo(out_dir: Path, say: Callable[[str], None]) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    with open_or_create_demo_subject(say) as vault:
        portrait = default_subject.portrait_path()
        if store_original(vault, portrait, "image/jpeg"):
            say(f"Stored the portrait {portrait.name} in the encrypted vault.")
        else:
            say("The portrait is already in the vault.")
        say("")
        say(subject_summary(vault))
        say("")
        say("Audit log (verified):")
        for e in vault.audit_entries():
            say(f"  {e.seq:3d}  {e.time}  {e.member:<6} {e.action}")
    say("")
    say(f"Outputs folder: {out_dir.resolve()}")
