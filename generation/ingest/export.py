"""Files that leave the vault from the fit stage: the contact sheet and the head mesh.

Images are produced by pure functions returning arrays; `write_export` is the one place
where image bytes reach the disk (so the provenance labelling can later wrap exactly this);
the mesh goes through geometry's `export_head`, also from here.
Callers must have checked Action.EXPORT_VIDEO.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from ..artifacts import HeadModel, SubjectDataset
from ..errors import UsageError

CELL = 128  # px per image in the contact sheet


def contact_sheet(dataset: SubjectDataset, max_samples: int = 24, columns: int = 4) -> np.ndarray:
    """A grid [H,W,3] uint8: per sample its aligned crop and its UV texture (unseen texels
    dimmed), with a caption (index, real/synthetic, quality)."""
    from PIL import Image, ImageDraw

    n = min(len(dataset), max_samples)
    assert n > 0, "empty dataset"
    order = np.argsort(-dataset.quality, kind="stable")[:n]
    cols = min(columns, n)
    rows = (n + cols - 1) // cols
    cap = 16
    sheet = Image.new("RGB", (cols * 2 * CELL, rows * (CELL + cap)), (24, 24, 24))
    draw = ImageDraw.Draw(sheet)
    for k, i in enumerate(order):
        x, y = (k % cols) * 2 * CELL, (k // cols) * (CELL + cap)
        crop = Image.fromarray(dataset.crops[i]).resize((CELL, CELL), Image.Resampling.BILINEAR)
        seen = (dataset.mask[i] > 0)[..., None]
        uv = np.where(seen, dataset.uv[i], (dataset.uv[i] * 0.25).astype(np.uint8))
        sheet.paste(crop, (x, y))
        sheet.paste(Image.fromarray(uv).resize((CELL, CELL), Image.Resampling.BILINEAR), (x + CELL, y))
        label = f"#{i} {'synthetic' if dataset.synthetic[i] else 'real'} q={dataset.quality[i]:.2f}"
        draw.text((x + 3, y + CELL + 2), label, fill=(230, 230, 230))
    out = np.asarray(sheet, dtype=np.uint8)
    assert out.ndim == 3 and out.shape[2] == 3
    return out


def png_bytes(rgb: np.ndarray) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG")
    return buf.getvalue()


def _check_target(path: Path) -> None:
    if path.exists():
        raise UsageError(f"{path} already exists; choose another file name")
    if not path.parent.is_dir():
        raise UsageError(f"folder {path.parent} does not exist")


def write_export(vault, path: Path, data: bytes, what: str) -> None:
    """Write one exported file (refusing to overwrite) and audit it."""
    path = Path(path)
    _check_target(path)
    with open(path, "xb") as fh:
        fh.write(data)
    vault.log("export", what=what, file=path.name, bytes=len(data))


def write_contact_sheet(vault, dataset: SubjectDataset, path: Path) -> None:
    write_export(vault, path, png_bytes(contact_sheet(dataset)), "contact_sheet")


def write_mesh(vault, head: HeadModel, texture: np.ndarray | None, path: Path) -> None:
    """The neutral head via geometry's exporter (.obj also writes its .mtl and texture beside it)."""
    from ..face.head import export_head

    path = Path(path)
    _check_target(path)
    export_head(head, texture, path)
    vault.log("export", what="head_mesh", file=path.name, bytes=path.stat().st_size)
