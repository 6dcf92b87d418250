"""The seed's non-saturating GAN loss, the R1 penalty and a masked reconstruction term.

With logits l = D(.): -log sigmoid(l) = softplus(-l) and -log(1 - sigmoid(l)) = softplus(l),
so L_D = -log D(x) - log(1 - D(G(z))) and L_G = -log D(G(z)) are written with softplus for
numerical safety.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def d_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def g_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    return F.softplus(-fake_logits).mean()


def r1_penalty(real_logits: torch.Tensor, real_input: torch.Tensor) -> torch.Tensor:
    """E[||grad_x D(x)||^2] on real data (Mescheder et al. 2018); keeps D smooth near the data."""
    (grad,) = torch.autograd.grad(real_logits.sum(), real_input, create_graph=True)
    return grad.pow(2).flatten(1).sum(1).mean()


def masked_mse(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean (pred - target)^2 over visible texels only ([B,3,H,W] vs [B,3,H,W], mask [B,1,H,W]).

    Squared, not absolute: expression changes touch few texels, and from the mean texture an
    L1 loss sits at the per-texel median with near-zero net gradient (measured: no progress)."""
    assert pred.shape == target.shape and mask.shape == (pred.shape[0], 1, *pred.shape[2:])
    return ((pred - target).pow(2) * mask).sum() / (mask.sum() * pred.shape[1]).clamp_min(1.0)
