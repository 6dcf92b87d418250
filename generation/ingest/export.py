"""Files that leave the vault from the fit stage: the contact sheet and the head mesh.

Images are produced by pure functions returning arrays and leave through the provenance
Exporter (label, watermark, content credentials, export log); the mesh goes through
geometry's `export_head` with a watermarked texture.
Callers must have checked Action.EXPORT_VIDEO.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from assets.artifacts import HeadModel, SubjectDataset
from assets.errors import UsageError

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


def _check_target(path: Path) -> None:
    if path.exists():
        raise UsageError(f"{path} already exists; choose another file name")
    if not path.parent.is_dir():
        raise UsageError(f"folder {path.parent} does not exist")


def write_contact_sheet(vault, dataset: SubjectDataset, path: Path) -> None:
    """The grid goes out like every other picture of the person: labelled, watermarked, signed."""
    from ..provenance import Exporter

    path = Path(path)
    _check_target(path)
    with Exporter(vault, command="subject fit", kind="image") as ex:
        ex.write_png(path, contact_sheet(dataset), find_face=False)  # many faces: label in a corner


def write_mesh(vault, head: HeadModel, texture: np.ndarray | None, path: Path) -> None:
    """The neutral head via geometry's exporter, with a watermarked texture and content credentials
    (.obj also writes its .mtl and texture image beside it; the image is signed too)."""
    from ..face.head import export_head
    from ..provenance import Exporter

    path = Path(path)
    _check_target(path)
    before = set(path.parent.iterdir())
    with Exporter(vault, command="subject fit", kind="mesh") as ex:
        marked = ex.mark_texture(texture) if texture is not None else None
        export_head(head, marked, path)
        for side in sorted(set(path.parent.iterdir()) - before - {path}):
            if side.suffix.lower() == ".png":
                ex.finalize(side, "image/png")
        ex.finalize(path)
