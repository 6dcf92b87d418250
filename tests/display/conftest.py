"""Fixtures for the display pixel tests: one fitted subject made from the demo portrait (ingest in
single-photo mode + head fit, a few seconds, no GAN), the face detector, and a private X server."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import OWNER_PASS, consent_toml

SUBJECT = "grace"


@pytest.fixture(scope="session")
def fitted_subject(tmp_path_factory):
    """{'home', 'name', 'passphrase', 'inputs' (RoomInputs), 'folder' (head.bin + texture.npy)}."""
    from assets import default_subject
    from generation.ingest import fit_subject, ingest_paths
    from generation.vault import create_vault
    from generation.vault.consent import parse_consent
    from vr_app.inputs import load_inputs

    home = tmp_path_factory.mktemp("display-home")
    folder = tmp_path_factory.mktemp("display-subject")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MEMORIAL_HOME", str(home))
        with create_vault(SUBJECT, parse_consent(consent_toml()), "anna", OWNER_PASS) as vault:
            ingest_paths(vault, [default_subject.portrait_path()], progress=False)
            _, head = fit_subject(vault, progress=False)
            inputs = load_inputs(vault, None)
    (folder / "head.bin").write_bytes(head.to_bytes())
    np.save(folder / "texture.npy", inputs.texture.frames[0])
    return {"home": home, "name": SUBJECT, "passphrase": OWNER_PASS, "inputs": inputs, "folder": folder}


@pytest.fixture(scope="session")
def detector():
    from generation.face.landmarks import LandmarkDetector

    with LandmarkDetector(max_faces=4) as d:
        yield d


@pytest.fixture(scope="module")
def xserver():
    """A private Xvfb display large enough for the viewer's 800x600 window."""
    import shutil

    from tests.xr.native.build import start_xvfb

    if shutil.which("Xvfb") is None:
        pytest.skip("no Xvfb (install xvfb)")
    proc, display = start_xvfb("1024x768x24")
    yield display
    proc.terminate()
    proc.wait(timeout=10)
