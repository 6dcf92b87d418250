"""`memorial train`, `memorial frames`, `memorial evaluate`: the subject's GAN."""

from __future__ import annotations

import os
from pathlib import Path

import click

from ..vault.roles import Action
from .common import member_option, show_progress, unlock

PRESET_NAMES = ("cpu-demo", "gpu", "gpu-hq")


@click.command()
@click.argument("name")
@click.option("--preset", type=click.Choice(PRESET_NAMES), default="cpu-demo", show_default=True,
              help="cpu-demo: 256² textures (128² convolutions) in minutes on a laptop; gpu: 256²; gpu-hq: 512².")
@click.option("--resume", is_flag=True, help="Continue the checkpoint exactly where it stopped.")
@click.option("--seed", type=int, default=None, help="Random seed (default 0); CPU runs are deterministic for a seed.")
@click.option("--steps", type=click.IntRange(min=0), default=None, help="Total training steps (overrides the preset).")
@click.option("--batch", type=click.IntRange(min=1), default=None, help="Batch size per process.")
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="TOML file with training options (a [train] table or top-level keys).")
@click.option("--checkpoint", "ckpt_name", default="current", show_default=True, help="Checkpoint name in the vault.")
@click.option("--threads", type=click.IntRange(min=1), default=None, help="CPU threads for torch.")
@click.option("--no-progress", is_flag=True, help="No progress bar (it shows only on a terminal; stats still go to the vault).")
@member_option
def train(name, preset, resume, seed, steps, batch, config_file, ckpt_name, threads, no_progress, member) -> None:
    """Train the subject's GAN on its dataset (after `memorial subject fit`).

    Checkpoints, per-step stats (JSON lines) and the resolved options go into the encrypted
    vault. Under `torchrun --nproc_per_node=N` it trains with DistributedDataParallel
    (every process needs $MEMORIAL_PASSPHRASE).

    \b
    Example:
      memorial train rose --preset cpu-demo
      memorial train rose --preset cpu-demo --resume --steps 1200
      torchrun --nproc_per_node=4 -m generation.cli train rose --preset gpu
    """
    from ..gan.train import train_subject

    with unlock(name, member, Action.TRAIN) as vault:
        key = train_subject(vault, preset, steps=steps, seed=seed, progress=show_progress(no_progress), name=ckpt_name,
                            resume=resume, toml_path=config_file, overrides={"batch": batch, "num_threads": threads},
                            say=click.echo)
        if os.environ.get("RANK", "0") == "0":  # under torchrun only rank 0 reports
            click.echo(f"Checkpoint stored in the vault as {key}.")


@click.command()
@click.argument("name")
@click.option("--track", required=True, help="Name of an expression track in the vault (track/NAME).")
@click.option("--checkpoint", "ckpt_name", default="current", show_default=True, help="Checkpoint name in the vault.")
@click.option("--smooth", type=click.FloatRange(min=0), default=1.0, show_default=True,
              help="Temporal smoothing of the codes (Gaussian sigma, frames).")
@click.option("--seed", type=int, default=None, help="Fixed z for the sequence (default: the mean face, z = 0).")
@member_option
def frames(name, track, ckpt_name, smooth, seed, member) -> None:
    """Generate the face textures (expression frames) for a track; stored as frames/TRACK.

    \b
    Example:
      memorial frames rose --track greeting
    """
    from ..gan.checkpoint import key_for
    from ..gan.frames import generate_frames

    with unlock(name, member, Action.VIEW) as vault:
        seq = generate_frames(vault, track, key_for(ckpt_name), sigma=smooth, seed=seed,
                              truncation=1.0 if seed is not None else 0.0)
        t, h, w, _ = seq.frames.shape
        click.echo(f"Stored {t} frames ({w}x{h}, {seq.fps:g} fps) as frames/{track}.")


@click.command()
@click.argument("name")
@click.option("--checkpoint", "ckpt_name", default="current", show_default=True, help="Checkpoint name in the vault.")
@member_option
def evaluate(name, ckpt_name, member) -> None:
    """Print evaluation figures of a trained checkpoint (reconstruction, identity, flicker, speed).

    \b
    Example:
      memorial evaluate rose
    """
    from ..gan import checkpoint
    from ..gan.data import digest, load_dataset
    from ..gan.evaluate import evaluate as run_eval, head_or_none, report_lines

    with unlock(name, member, Action.VIEW) as vault:
        key = checkpoint.key_for(ckpt_name)
        ckpt = checkpoint.load(vault, key)
        ds, raw = load_dataset(vault)
        if ckpt["stats"]["dataset_sha256"] != digest(raw):
            from assets.errors import UsageError

            raise UsageError(f"{key} was trained on an earlier dataset; train again before evaluating")
        result = run_eval(ckpt, ds, head=head_or_none(vault))
        vault.put_json(f"train/{ckpt_name}/evaluation.json", result, kind="evaluation")
        for line in report_lines(result):
            click.echo(line)
