"""The demo portrait (matplotlib's Grace Hopper) as a fitted subject for the render benchmarks:
ingest in single-photo mode and head fit into a throwaway vault (a few seconds, no GAN)."""

from __future__ import annotations

import os
import tempfile


def demo_subject_inputs():
    """RoomInputs (head, still face texture) of the fitted demo portrait; nothing is left on disk."""
    from assets import default_subject
    from generation.ingest import fit_subject, ingest_paths
    from generation.vault import create_vault
    from generation.vault.consent import parse_consent
    from vr_app.inputs import load_inputs

    old = os.environ.get("MEMORIAL_HOME")
    with tempfile.TemporaryDirectory(prefix="memorial-bench-") as home:
        os.environ["MEMORIAL_HOME"] = home
        try:
            record = parse_consent(default_subject.consent_text(), source="default_consent.toml")
            with create_vault("bench-demo", record, "bench", "bench-passphrase-1") as vault:
                ingest_paths(vault, [default_subject.portrait_path()], progress=False)
                fit_subject(vault, progress=False)
                return load_inputs(vault, None)
        finally:
            if old is None:
                os.environ.pop("MEMORIAL_HOME", None)
            else:
                os.environ["MEMORIAL_HOME"] = old
