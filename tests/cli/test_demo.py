"""`memorial demo`: the built-in subject goes all the way through, and no plaintext of it comes out."""

from __future__ import annotations

from pathlib import Path

import pytest

from assets import default_subject

SIGNATURES = {b"\xff\xd8\xff": "JPEG", b"\x89PNG\r\n\x1a\n": "PNG"}


def _chunks(data: bytes, size: int = 48, count: int = 24) -> list[bytes]:
    step = max(1, (len(data) - size) // count)
    return [data[i:i + size] for i in range(0, len(data) - size, step)]


@pytest.mark.slow
def test_quick_demo_end_to_end_leaks_nothing(quick_demo, tmp_path):
    memorial_home, out, result = quick_demo
    assert result.exit_code == 0, result.output
    assert "Grace Brewster Murray Hopper" in result.output
    assert "1 real" in result.output and "synthetic" in result.output  # single-photo mode
    assert "memorial.mp4: OK" in result.output and "memorial.png: OK" in result.output
    assert "tampered-memorial.png: NOT OK" in result.output  # one changed pixel byte is caught
    assert "reencoded-memorial.jpg: NOT OK" in result.output  # credentials gone, watermark still reported
    assert sorted(p.name for p in out.iterdir()) == ["memorial.mp4", "memorial.png"]

    portrait = default_subject.portrait_path().read_bytes()
    pieces = _chunks(portrait)
    for root in (memorial_home, out):
        for path in Path(root).rglob("*"):
            if not path.is_file():
                continue
            data = path.read_bytes()
            assert not any(p in data for p in pieces), f"{path} holds bytes of the portrait"
            if root == memorial_home and "blobs" not in path.parts:  # ciphertext may hold 3 bytes by chance
                for sig, kind in SIGNATURES.items():
                    assert sig not in data, f"{path} holds a {kind} signature"
    # The only image in the output is the labelled, signed still.
    assert (out / "memorial.png").read_bytes().startswith(b"\x89PNG")

    from click.testing import CliRunner

    from generation.cli import cli

    again_out = tmp_path / "again"
    again = CliRunner().invoke(cli, ["demo", "--quick", "--quiet", "--out", str(again_out)],
                               env={"MEMORIAL_HOME": str(memorial_home), "MEMORIAL_PASSPHRASE": None})
    assert again.exit_code == 0, again.output
    assert "already in the vault" in again.output
