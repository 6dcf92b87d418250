"""Doubtful faces: shown to the family, who confirm (the subject) or reject (someone else).

A doubtful face is stored as `review/<sha>/<n>` (one sample, with its embedding) and is in
no dataset. Confirming moves the sample into the file's record and adds the face to the
confirmed identity; rejecting deletes it and remembers the embedding as someone else's.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assets.errors import UsageError
from ..vault.roles import Action
from . import identity as idlib
from .records import REVIEW_PREFIX, SAMPLE_PREFIX, IngestRecord, Sample

CELL = 160  # px per face in the review sheet


@dataclass
class Doubt:
    number: int  # 1-based, as shown to the family
    key: str
    sha: str
    filename: str
    sample: Sample

    def line(self) -> str:
        s = self.sample
        where = f"frame {s.info['frame']}, " if "frame" in s.info else ""
        return (f"  #{self.number} {self.filename}: {where}{s.info.get('chosen_by', '')}"
                f" (doubtful: {idlib.MATCH:.2f} < distance <= {idlib.OTHER:.2f})")


def doubts(vault) -> list[Doubt]:
    out = []
    for n, b in enumerate(sorted(vault.list(REVIEW_PREFIX), key=lambda b: b.key), 1):
        rec = IngestRecord.from_bytes(vault.get(b.key))
        out.append(Doubt(n, b.key, rec.sha, rec.filename, rec.samples[0]))
    return out


def review_sheet(items: list[Doubt], columns: int = 4) -> np.ndarray:
    """A grid [H,W,3] uint8 of the doubtful faces, each captioned with its number and file."""
    from PIL import Image, ImageDraw

    assert items, "nothing to review"
    cols = min(columns, len(items))
    rows = (len(items) + cols - 1) // cols
    cap = 18
    sheet = Image.new("RGB", (cols * CELL, rows * (CELL + cap)), (24, 24, 24))
    draw = ImageDraw.Draw(sheet)
    for k, d in enumerate(items):
        x, y = (k % cols) * CELL, (k // cols) * (CELL + cap)
        sheet.paste(Image.fromarray(d.sample.crop).resize((CELL, CELL), Image.Resampling.BILINEAR), (x, y))
        draw.text((x + 3, y + CELL + 3), f"#{d.number} {d.filename[:18]}", fill=(230, 230, 230))
    return np.asarray(sheet, dtype=np.uint8)


def write_review_sheet(vault, items: list[Doubt], path: Path) -> None:
    """The sheet leaves the vault like every other picture: labelled, watermarked, signed, logged."""
    from ..provenance import Exporter

    path = Path(path)
    if path.suffix.lower() != ".png":
        raise UsageError(f"{path}: the review sheet is a .png file")
    if path.exists():
        raise UsageError(f"{path} already exists; choose another file name")
    if not path.parent.is_dir():
        raise UsageError(f"folder {path.parent} does not exist")
    with Exporter(vault, command="ingest review", kind="image") as ex:
        ex.write_png(path, review_sheet(items), find_face=False)


def parse_numbers(text: str | None) -> list[int]:
    if not text:
        return []
    try:
        return [int(part) for part in text.replace(" ", "").split(",") if part]
    except ValueError:
        raise UsageError(f"expected face numbers like 1,3,4, got {text!r}") from None


def settle(vault, confirm: list[int], reject: list[int]) -> list[str]:
    """Apply the family's answers; returns a line per face. Numbers refer to `doubts()`."""
    vault.authorize(Action.INGEST)
    items = {d.number: d for d in doubts(vault)}
    both = set(confirm) & set(reject)
    if both:
        raise UsageError(f"face(s) {', '.join(map(str, sorted(both)))} both confirmed and rejected")
    unknown = [n for n in set(confirm) | set(reject) if n not in items]
    if unknown:
        raise UsageError(f"no doubtful face numbered {', '.join(map(str, sorted(unknown)))} "
                         f"(there are {len(items)}; see memorial ingest NAME --review)")
    yes = [items[n] for n in sorted(set(confirm))]
    no = [items[n] for n in sorted(set(reject))]
    idlib.save_decisions(vault, confirmed=[d.sample.embedding for d in yes if d.sample.embedding is not None],
                         rejected=[d.sample.embedding for d in no if d.sample.embedding is not None])
    lines = []
    for d in yes:
        rec = IngestRecord.from_bytes(vault.get(SAMPLE_PREFIX + d.sha))
        if not any(s.embedding is not None and np.array_equal(s.embedding, d.sample.embedding) for s in rec.samples):
            rec.samples.append(d.sample)  # (a run killed after this put and before the delete left it there)
        vault.put(rec.key, rec.to_bytes(), kind="sample", meta={**vault.info(rec.key).meta, "samples": len(rec.samples)})
        vault.delete(d.key)
        lines.append(f"  + #{d.number} {d.filename}: confirmed as the subject (added to the samples)")
    for d in no:
        rec = IngestRecord.from_bytes(vault.get(SAMPLE_PREFIX + d.sha))
        rec.meta["others"] = rec.meta.get("others", 0) + 1
        vault.put(rec.key, rec.to_bytes(), kind="sample", meta=vault.info(rec.key).meta)
        vault.delete(d.key)
        lines.append(f"  - #{d.number} {d.filename}: someone else (left out)")
    vault.log("identity_review", confirmed=len(yes), rejected=len(no))
    return lines
