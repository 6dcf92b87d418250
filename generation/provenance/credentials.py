"""C2PA content credentials: sign a finished file in place, and read/verify one.

The manifest says what the file is without naming the person: created by a trained
algorithm (IPTC digital source type trainedAlgorithmicMedia), the generator and version,
the content id, and the SHA-256 of the subject's consent record as the consent reference.
Trust is this installation's own root (keys.py): `verify` reports "trusted" only for files
signed by it.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass, field
from pathlib import Path

from assets.errors import MemorialError

SOURCE_TYPE = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
ASSERTION = "org.memorialvr.provenance"


def generator_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("memorial-vr")
    except PackageNotFoundError:
        return "0+unknown"


def manifest(title: str, content_id: str, consent_sha256: str, kind: str, command: str) -> dict:
    return {
        "claim_generator_info": [{"name": "Memorial VR", "version": generator_version()}],
        "title": title,
        "assertions": [
            {"label": "c2pa.actions", "data": {"actions": [{
                "action": "c2pa.created", "digitalSourceType": SOURCE_TYPE,
                "softwareAgent": {"name": "Memorial VR", "version": generator_version()},
                "description": "AI-generated likeness of a deceased person, made with the family's recorded consent",
            }]}},
            {"label": ASSERTION, "data": {
                "content_id": content_id, "consent_sha256": consent_sha256, "kind": kind, "command": command,
                "label": "AI-generated likeness", "aigc": True,
            }},
        ],
    }


def sign_in_place(path: Path, media_type: str, manifest_json: dict, chain_pem: bytes, key_pem: bytes) -> None:
    """Embed a signed manifest; the file is replaced atomically (a failure leaves the unsigned file)."""
    import c2pa

    signer = c2pa.Signer.from_info(c2pa.C2paSignerInfo(c2pa.C2paSigningAlg.ES256, chain_pem, key_pem, None))
    tmp = path.with_name(f".{path.name}.signing")
    try:
        with open(path, "rb") as src, open(tmp, "w+b") as dst:
            c2pa.Builder(manifest_json).sign(signer, media_type, src, dst)
        os.replace(tmp, path)
    except c2pa.C2paError as exc:
        raise MemorialError(f"could not sign {path.name} with C2PA credentials: {exc}") from None
    finally:
        tmp.unlink(missing_ok=True)
        signer.close()


@dataclass
class CredentialCheck:
    state: str  # "absent" | "trusted" | "untrusted" | "tampered" | "expired" | "unreadable"
    content_id: str | None = None
    consent_sha256: str | None = None
    failures: list[str] = field(default_factory=list)  # C2PA validation failure codes
    detail: str = ""


def check(path: Path, media_type: str, trust_anchor_pem: bytes | None) -> CredentialCheck:
    import c2pa

    if media_type not in c2pa.Reader.get_supported_mime_types():
        return CredentialCheck("absent", detail=f"{media_type} cannot carry C2PA credentials")
    settings = {"verify": {"verify_trust": trust_anchor_pem is not None}}
    if trust_anchor_pem is not None:
        settings["trust"] = {"trust_anchors": trust_anchor_pem.decode()}
    try:
        data = path.read_bytes()
        with c2pa.Context.from_dict(settings) as context:
            reader = c2pa.Reader(media_type, io.BytesIO(data), context=context)
            state = reader.get_validation_state()
            results = reader.get_validation_results() or {}
            active = reader.get_active_manifest() or {}
            reader.close()
    except c2pa.C2paError as exc:
        text = str(exc)
        if "ManifestNotFound" in type(exc).__name__ or "no JUMBF" in text or "ManifestNotFound" in text:
            return CredentialCheck("absent", detail="no C2PA manifest")
        return CredentialCheck("unreadable", detail=text.splitlines()[0][:200] if text else type(exc).__name__)
    failures = [f.get("code", "?") for f in (results.get("activeManifest") or {}).get("failure", [])]
    ours = next((a["data"] for a in active.get("assertions", []) if a.get("label") == ASSERTION), {})
    out = CredentialCheck("tampered", content_id=ours.get("content_id"), consent_sha256=ours.get("consent_sha256"),
                          failures=failures)
    content_failures = [f for f in failures if not f.startswith("signingCredential.")]
    if content_failures:
        out.detail = ", ".join(content_failures)
    elif "signingCredential.expired" in failures:
        out.state, out.detail = "expired", "signing certificate expired"
    elif state == "Trusted":
        out.state, out.detail = "trusted", "signed by this installation"
    elif state == "Valid" or failures == ["signingCredential.untrusted"]:
        out.state, out.detail = "untrusted", "valid signature, but not from this installation"
    else:
        out.detail = ", ".join(failures) or f"validation state {state}"
    return out

