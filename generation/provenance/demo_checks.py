"""What `memorial demo` shows about provenance: its outputs verify, and altered copies are caught.

The demo calls `check_outputs(paths, out_dir, echo)` after writing its files.
"""

from __future__ import annotations

import zlib
from pathlib import Path

from .metadata import _PNG_SIG, _png_chunk, _png_chunks
from .verify import VerifyReport, verify_file


def change_one_pixel_byte(png: bytes) -> bytes:
    """A PNG with one raw pixel byte changed and every other chunk (the C2PA one too) kept."""
    chunks = list(_png_chunks(png))
    raw = bytearray(zlib.decompress(b"".join(data for kind, data, _ in chunks if kind == b"IDAT")))
    raw[len(raw) // 2 + 7] ^= 0x01  # +7: not a scanline's filter-type byte
    out, done = [_PNG_SIG], False
    for kind, _, whole in chunks:
        if kind == b"IDAT":
            if not done:
                out.append(_png_chunk(b"IDAT", zlib.compress(bytes(raw))))
                done = True
            continue
        out.append(whole)
    return b"".join(out)


def reencoded_copy(png: Path, out: Path, quality: int = 75, scale: float = 0.75) -> Path:
    """What a messaging app does to a picture: resized and saved as JPEG."""
    from PIL import Image

    with Image.open(png) as image:
        small = image.convert("RGB").resize((round(image.width * scale), round(image.height * scale)),
                                            Image.Resampling.LANCZOS)
        small.save(out, format="JPEG", quality=quality)
    return out


def check_outputs(paths: list[Path], out_dir: Path, echo=print) -> list[VerifyReport]:
    """Verify the demo's files, then a one-byte-changed copy and a re-encoded copy of its first PNG.
    Returns every report; the originals should be ok, the altered copies not."""
    reports = []
    for path in paths:
        reports.append(verify_file(path))
        echo("  verify " + reports[-1].line())
    pngs = [Path(p) for p in paths if Path(p).suffix.lower() == ".png"]
    if pngs:
        tampered = Path(out_dir) / f"tampered-{pngs[0].name}"
        tampered.write_bytes(change_one_pixel_byte(pngs[0].read_bytes()))
        copy = reencoded_copy(pngs[0], Path(out_dir) / f"reencoded-{pngs[0].stem}.jpg")
        for path in (tampered, copy):
            reports.append(verify_file(path))
            echo("  verify " + reports[-1].line())
    return reports
