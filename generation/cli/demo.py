"""`memorial demo`: the whole product on the built-in subject."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("memorial-demo"),
              show_default=True, help="Folder for the demo's video and still.")
@click.option("--scene", default="garden", show_default=True, help="Memorial room: garden, living_room, chapel or portrait_room (a living portrait).")
@click.option("--retrain", is_flag=True, help="Train the GAN again even if a checkpoint exists.")
@click.option("--quick", is_flag=True, help="Smoke run: a few training steps and a small, short-fps video.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bars (they show only on a terminal).")
def demo(out_dir: Path, scene: str, retrain: bool, quick: bool, quiet: bool) -> None:
    """Run Memorial VR end to end on the built-in subject (Grace Hopper's public-domain portrait).

    Ingest (single-photo mode) → head fit → GAN training (cpu-demo, up to ~10 min on 2 cores)
    → an authored line → a labelled memorial video and still in --out.

    \b
    Example:
      memorial demo --out demo-output
      memorial demo --scene chapel --out demo-chapel
    """
    from ..demo import DemoOptions, run_demo
    from .common import show_progress

    run_demo(DemoOptions(out_dir=out_dir, quick=quick, retrain=retrain, scene=scene, progress=show_progress(quiet)),
             click.echo)
