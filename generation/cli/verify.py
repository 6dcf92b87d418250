"""`memorial verify FILE...`: are the labels on a file intact, and did this installation make it?"""

from __future__ import annotations

import json
from pathlib import Path

import click


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per file, one per line.")
def verify(files: tuple[Path, ...], as_json: bool) -> None:
    """Check content credentials (C2PA), watermark and export log for each FILE.

    Reports per file whether C2PA credentials are present, valid, trusted by this
    installation or tampered; the invisible watermark's content id (pictures and sound,
    also in re-encoded or resized copies); and whether this installation exported it.
    Exit status 0 only when every file checks out; 1 otherwise. No passphrase is needed.

    \b
    Example:
      memorial verify demo-output/memorial.mp4 demo-output/contact_sheet.png
      memorial verify --json suspicious-copy.jpg
    """
    from ..provenance.verify import verify_file

    failed = 0
    for path in files:
        report = verify_file(path)
        failed += not report.ok
        if as_json:
            click.echo(json.dumps(report.to_json(), ensure_ascii=False))
        else:
            click.echo(report.line())
    if failed:
        raise SystemExit(1)
