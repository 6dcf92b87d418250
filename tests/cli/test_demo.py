"""`memorial demo`: the built-in subject goes in, and no plaintext of it comes out anywhere."""

from __future__ import annotations

from pathlib import Path

from assets import default_subject

SIGNATURES = {b"\xff\xd8\xff": "JPEG", b"\x89PNG\r\n\x1a\n": "PNG"}


def _chunks(data: bytes, size: int = 48, count: int = 24) -> list[bytes]:
    step = max(1, (len(data) - size) // count)
    return [data[i:i + size] for i in range(0, len(data) - size, step)]


def test_demo_stores_portrait_encrypted_only(cli, memorial_home, tmp_path):
    out = tmp_path / "out"
    result = cli("demo", "--out", out, passphrase=None)
    assert result.exit_code == 0, result.output
    assert "Grace Brewster Murray Hopper" in result.output
    assert "1 original" in result.output
    assert "ingest_original" in result.output

    portrait = default_subject.portrait_path().read_bytes()
    pieces = _chunks(portrait)
    for root in (memorial_home, out):
        for path in Path(root).rglob("*"):
            if not path.is_file():
                continue
            data = path.read_bytes()
            assert not any(p in data for p in pieces), f"{path} holds bytes of the portrait"
            if "blobs" not in path.parts:  # ciphertext may hold any 3 bytes by chance
                for sig, kind in SIGNATURES.items():
                    assert sig not in data, f"{path} holds a {kind} signature"

    again = cli("demo", "--out", out, passphrase=None)
    assert again.exit_code == 0 and "already in the vault" in again.output
