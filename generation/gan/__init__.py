"""The subject's conditional GAN: G(z, e) -> UV face texture, D(x, e) on visible texels.

Modules: config (presets), networks, augment (differentiable augmentations), losses,
checkpoint (vault-stored plain tensor dicts), train (single process or DDP), frames
(ExpressionTrack -> FrameSequence), evaluate (printed figures). Torch is imported by the
modules themselves; importing this package is cheap.
"""

from __future__ import annotations

__all__ = ["train_subject", "generate_frames"]


def train_subject(vault, preset: str = "cpu-demo", steps: int | None = None, seed: int = 0, progress: bool = True) -> str:
    """Train the preset on the vault's dataset/current; returns the checkpoint key."""
    from .train import train_subject as _train

    return _train(vault, preset=preset, steps=steps, seed=seed, progress=progress)


def generate_frames(vault, track, checkpoint_key: str = "checkpoint/current"):
    """ExpressionTrack (or a track name in the vault) -> FrameSequence."""
    from .frames import generate_frames as _gen

    return _gen(vault, track, checkpoint_key)
