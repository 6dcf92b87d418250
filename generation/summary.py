"""The human-readable subject summary printed by `subject show` and by the demo."""

from __future__ import annotations

from collections import Counter

from assets.errors import ConsentError
from .vault import Vault


def human_size(n: float) -> str:
    if n < 1024:
        return f"{n:.0f} B"
    for unit in ("KB", "MB"):
        n /= 1024
        if n < 1024:
            return f"{n:.1f} {unit}"
    return f"{n / 1024:.1f} GB"


def consent_status(vault: Vault) -> str:
    try:
        vault.consent.check_active()
        return f"active until {vault.consent.expires.isoformat()}"
    except ConsentError as exc:
        return str(exc).split(";")[0]


def subject_summary(vault: Vault) -> str:
    c = vault.consent
    lines = [
        f"Subject        {vault.name} — {c.subject_name}",
        f"Consent        given by {c.given_by} ({c.relation}, basis: {c.basis}); {consent_status(vault)}",
        f"               face: {'yes' if c.face else 'no'}, voice: {'yes' if c.voice else 'no'}; "
        f"scopes: {', '.join(c.scopes) or 'none'}",
    ]
    if c.wishes:
        lines.append(f"Wishes         {c.wishes}")
    members = vault.members()
    lines.append("Members        " + ", ".join(f"{m} ({r})" for m, r in sorted(members.items())))
    lines.append(f"You are        {vault.member} ({vault.role})")
    kinds: Counter[str] = Counter()
    sizes: Counter[str] = Counter()
    for blob in vault.list():
        kinds[blob.kind] += 1
        sizes[blob.kind] += blob.size
    stored = ", ".join(f"{n} {k} ({human_size(sizes[k])})" for k, n in sorted(kinds.items()))
    lines.append(f"Stored         {stored or 'nothing yet'} — all encrypted")
    from .ingest.dataset import stored_dataset_lines

    lines += stored_dataset_lines(vault)
    return "\n".join(lines)
