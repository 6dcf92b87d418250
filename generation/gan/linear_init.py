"""Closed-form start for the generator's linear expression basis.

The linear part (mean texture + basis x code) is a ridge regression of each texel on the
code: it has an exact solution, so training starts there instead of spending most
of a CPU budget walking to it (on a busy 2-core machine cpu-demo may stop after a few
hundred steps). The ridge strength is chosen by k-fold cross-validation on the training
samples only; held-out samples are never seen.

The strength is the largest one whose cross-validated error is within one standard error of the
best (the "one-standard-error rule"): strengths that fit her frames equally well differ a lot on codes
her frames never show. A lone control (a 'p' with the jaw closed, as a typed line makes one) lies
along directions of her codes that her frames sample thinly (on the shared clip her lips press mostly
with the jaw open), where a weak ridge paints large, poorly determined texture changes. On the clip
the best strength (3) painted a thick, pink lower lip on a lone mouth_press, read in the room's view
as 0.53 for 0.8 (median over 5 z), and blotches over the face on a lone blink or brow; the rule's
strength (30) reads 0.79, for 0.15 dB of cross-validated PSNR on her training frames (+0.12 dB on
her held-out frames on the head).
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


def cv_errors(a: torch.Tensor, y: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
    """a [N,E] standardised codes, y [N,P] targets, m [N,P] mask -> [len(LAMBDAS), FOLDS] squared
    error of each strength on each held-back fold."""
    folds = torch.arange(len(a)) % FOLDS
    errors = torch.zeros(len(LAMBDAS), FOLDS, dtype=torch.float64)
    for k, lam in enumerate(LAMBDAS):
        for f in range(FOLDS):
            tr, te = folds != f, folds == f
            w = _solve(a[tr], y[tr], lam)  # [E,P]
            errors[k, f] = (((a[te] @ w) - y[te]) ** 2 * m[te]).sum()
    return errors


def one_standard_error(errors: torch.Tensor) -> int:
    """errors [L,K]: each strength's (ascending) error on each of K folds -> index of the largest
    strength whose total is within one standard error (from the K fold errors) of the best total."""
    total = errors.sum(1)
    best = int(total.argmin())
    se = float(errors[best].std() * errors.shape[1] ** 0.5)  # SE of a K-fold sum
    return max(k for k in range(len(total)) if float(total[k]) <= float(total[best]) + se)


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
        lam = LAMBDAS[one_standard_error(cv_errors(a, y, m))]
    y, _ = _targets(uv, mask, mean, side)
    w = _solve(a, y, lam) / std.unsqueeze(1)  # [E,P] per raw code unit
    return w.reshape(e, 3, side, side).float().contiguous(), lam
