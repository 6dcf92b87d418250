"""Closed-form start for the generator's linear expression basis.

The linear part (mean texture + basis x code) is a ridge regression of each texel on the
code: it has an exact solution, so training starts there instead of spending most
of a CPU budget walking to it (on a busy 2-core machine cpu-demo may stop after a few
hundred steps). The ridge strength is chosen by k-fold cross-validation on the training
samples only; held-out samples are never seen.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

LAMBDAS = (1.0, 3.0, 10.0, 30.0, 100.0, 300.0)  # in units of standardised codes x samples
FOLDS = 5
CV_SIDE = 64


def _targets(uv: torch.Tensor, mask: torch.Tensor, mean: torch.Tensor, side: int,
             stride: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """(targets [N,P], their mask [N,P]) at side², every stride-th texel each way: each sample minus
    the mean, zero where unseen."""
    n = len(uv)
    down = lambda x: (F.adaptive_avg_pool2d(x, side) if x.shape[-1] != side else x)[..., ::stride, ::stride]  # noqa: E731
    m = (down(mask) > 0.5).double().expand(-1, 3, -1, -1).reshape(n, -1)  # [N,P]
    # a texel a sample did not show counts as "at the mean": one shared system for every texel,
    # and where nothing was seen the basis stays near zero (the mean texture)
    return (down(uv) - down(mean)).double().reshape(n, -1) * m, m


def _solve(a: torch.Tensor, y: torch.Tensor, lam: float) -> torch.Tensor:
    """Ridge for all texels at once. a [N,E] codes, y [N,P] targets -> [E,P]."""
    eye = torch.eye(a.shape[1], dtype=a.dtype)
    return torch.linalg.solve(a.T @ a + lam * eye, a.T @ y)


def ridge_basis(uv: torch.Tensor, mask: torch.Tensor, codes: torch.Tensor, mean: torch.Tensor,
                code_mean: torch.Tensor, side: int) -> tuple[torch.Tensor, float]:
    """uv [N,3,R,R] in -1..1, mask [N,1,R,R], codes [N,E], mean [1,3,R,R], code_mean [E]
    -> (basis [E,3,side,side] for raw codes, the chosen ridge strength)."""
    n, e = codes.shape
    std = codes.double().std(0, unbiased=False).clamp_min(0.05)
    a = (codes.double() - code_mean.double()) / std  # [N,E]
    lam = LAMBDAS[2]
    if n >= 2 * FOLDS:
        # the strength is chosen on a regular subset of at most CV_SIDE² of the side's texels (not on
        # an averaged, less noisy smaller texture: that chose another strength); at 256² all 30
        # trial solves took ~10 s of a training start on 2 cores
        y, m = _targets(uv, mask, mean, side, stride=max(1, side // CV_SIDE))
        folds = torch.arange(n) % FOLDS
        errors = []
        for lam_k in LAMBDAS:
            err = 0.0
            for f in range(FOLDS):
                tr, te = folds != f, folds == f
                w = _solve(a[tr], y[tr], lam_k)  # [E,P]
                err += float((((a[te] @ w) - y[te]) ** 2 * m[te]).sum())
            errors.append(err)
        lam = LAMBDAS[min(range(len(LAMBDAS)), key=errors.__getitem__)]
    y, _ = _targets(uv, mask, mean, side)
    w = _solve(a, y, lam) / std.unsqueeze(1)  # [E,P] per raw code unit
    return w.reshape(e, 3, side, side).float().contiguous(), lam
