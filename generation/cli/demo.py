"""`memorial demo`: the whole product on the built-in subject."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("memorial-demo"),
              show_default=True, help="Folder for the demo's outputs.")
def demo(out_dir: Path) -> None:
    """Run Memorial VR end to end on the built-in subject (Grace Hopper's public-domain portrait).

    \b
    Example:
      memorial demo --out demo-output
    """
    from ..demo import run_demo

    run_demo(out_dir, click.echo)
