"""The built-in demonstration subject: the public-domain portrait of Grace Hopper that
matplotlib ships, with a consent record that says exactly what it is."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

NAME = "grace-hopper-demo"
OWNER = "demo"
# The demo's data is public, so its passphrase may be public too; real subjects never do this.
PASSPHRASE = "memorial-demo-passphrase"


def portrait_path() -> Path:
    import matplotlib

    path = Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"
    if not path.is_file():
        raise FileNotFoundError(f"matplotlib's sample portrait is missing at {path}")
    return path


def consent_text() -> str:
    return resources.files("assets").joinpath("data/default_consent.toml").read_text("utf-8")
