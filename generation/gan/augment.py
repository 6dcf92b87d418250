"""Differentiable augmentations for few-shot GAN training (the DiffAugment idea).

Each entry of `AUGMENTS` is a pure function `(x [B,3,H,W] in -1..1, mask [B,1,H,W] 0/1,
gen: torch.Generator) -> (x, mask)`: all randomness comes from `gen`, drawn on gen's device
(the training device: no host->device copy per step; a run on one device type is a pure
function of its seed), and gradients flow through `x`.
The same pipeline is applied to real and generated textures so D cannot tell them apart by
the augmentation, and G is never taught to produce augmented faces.
"""

from __future__ import annotations

from typing import Callable

import torch

Augment = Callable[[torch.Tensor, torch.Tensor, torch.Generator], tuple[torch.Tensor, torch.Tensor]]


def _uniform(gen: torch.Generator, b: int, low: float, high: float, like: torch.Tensor) -> torch.Tensor:
    u = torch.rand(b, 1, 1, 1, generator=gen, device=gen.device)
    return (low + (high - low) * u).to(dtype=like.dtype)


def color(x: torch.Tensor, mask: torch.Tensor, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Brightness, saturation and contrast jitter; the mask is unchanged."""
    b = x.shape[0]
    x = x + _uniform(gen, b, -0.25, 0.25, x)
    mean = x.mean(dim=1, keepdim=True)
    x = (x - mean) * _uniform(gen, b, 0.5, 1.5, x) + mean
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    x = (x - mean) * _uniform(gen, b, 0.75, 1.25, x) + mean
    return x, mask


def translation(x: torch.Tensor, mask: torch.Tensor, gen: torch.Generator, ratio: float = 0.125):
    """Shift each sample by up to `ratio` of the side (whole texels, zero fill); mask moves along."""
    b, _, h, w = x.shape
    dev = gen.device
    sy = torch.randint(-int(h * ratio), int(h * ratio) + 1, (b,), generator=gen, device=dev)
    sx = torch.randint(-int(w * ratio), int(w * ratio) + 1, (b,), generator=gen, device=dev)
    ys = torch.arange(h, device=dev).view(1, h, 1) - sy.view(b, 1, 1)  # [B,H,1] source row for each output row
    xs = torch.arange(w, device=dev).view(1, 1, w) - sx.view(b, 1, 1)  # [B,1,W]
    valid = (ys >= 0) & (ys < h) & (xs >= 0) & (xs < w)  # [B,H,W]
    flat = (ys.clamp(0, h - 1) * w + xs.clamp(0, w - 1)).view(b, 1, h * w)  # [B,1,H*W]
    xy = torch.cat([x, mask], dim=1).flatten(2)  # [B,C+1,H*W]
    moved = torch.gather(xy, 2, flat.expand(-1, xy.shape[1], -1)).view(b, -1, h, w)
    moved = moved * valid.unsqueeze(1).to(moved.dtype)
    return moved[:, :-1], moved[:, -1:]


def cutout(x: torch.Tensor, mask: torch.Tensor, gen: torch.Generator, ratio: float = 0.5):
    """Blank a random square of half the side; the texels also leave the mask (D must not judge them)."""
    b, _, h, w = x.shape
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    dev = gen.device
    cy = torch.randint(0, h + (1 - ch % 2), (b,), generator=gen, device=dev).view(b, 1, 1)
    cx = torch.randint(0, w + (1 - cw % 2), (b,), generator=gen, device=dev).view(b, 1, 1)
    ys = torch.arange(h, device=dev).view(1, h, 1)
    xs = torch.arange(w, device=dev).view(1, 1, w)
    inside = ((ys - cy).abs() <= ch // 2) & ((xs - cx).abs() <= cw // 2)  # [B,H,W]
    keep = (~inside).unsqueeze(1).to(dtype=x.dtype)
    return x * keep, mask * keep


AUGMENTS: dict[str, Augment] = {"color": color, "translation": translation, "cutout": cutout}


def apply(x: torch.Tensor, mask: torch.Tensor, names: list[str] | tuple[str, ...], p: float,
          gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Apply each named augmentation to a random subset of the batch (probability p per sample)."""
    assert x.ndim == 4 and x.shape[1] == 3 and mask.shape == (x.shape[0], 1, *x.shape[2:]), (x.shape, mask.shape)
    for name in names:
        chosen = (torch.rand(x.shape[0], generator=gen, device=gen.device) < p).view(-1, 1, 1, 1).to(dtype=x.dtype)
        ax, am = AUGMENTS[name](x, mask, gen)
        x = chosen * ax + (1 - chosen) * x
        mask = chosen * am + (1 - chosen) * mask
    return x, mask
