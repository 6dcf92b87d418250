"""The closed-form start of the linear expression basis, and the CPU thread rule."""

import pytest
import torch

from generation.gan import linear_init
from generation.gan import train as train_mod
from generation.gan.config import make_config
from generation.gan.data import prepare
from generation.gan.evaluate import _mean_baseline, reconstruction
from tests.gan.synth import TINY, make_dataset


def test_generator_starts_at_the_ridge_solution_and_it_follows_the_code():
    """Before any step, G already reconstructs held-out procedural samples better than the mean
    texture, and better than with another sample's code (so the start is conditioning, not noise)."""
    ds = make_dataset(n=40, res=32, synthetic_fraction=1.0)
    cfg = make_config("cpu-demo", **{**TINY, "resolution": 32})
    data = prepare(ds, cfg.resolution, cfg.min_quality, cfg.holdout, cfg.seed)
    trainer = train_mod.Trainer(data, cfg)
    assert trainer.ridge_lambda in linear_init.LAMBDAS
    g = trainer.G.eval()
    model = reconstruction(g, data, data.holdout_idx)
    base = _mean_baseline(trainer.stats["mean_texture"], data, data.holdout_idx)
    assert model["psnr_db"] > base["psnr_db"] + 1.0, (model, base)
    wrong = prepare(ds, cfg.resolution, cfg.min_quality, cfg.holdout, cfg.seed)
    wrong.codes[data.holdout_idx] = data.codes[data.holdout_idx.roll(1)]
    assert model["psnr_db"] > reconstruction(g, wrong, data.holdout_idx)["psnr_db"] + 1.0


def test_ridge_never_sees_held_out_samples():
    ds = make_dataset(n=30, res=16, synthetic_fraction=1.0)
    cfg = make_config("cpu-demo", **{**TINY, "resolution": 16})
    data = prepare(ds, 16, cfg.min_quality, cfg.holdout, cfg.seed)
    spoiled = prepare(ds, 16, cfg.min_quality, cfg.holdout, cfg.seed)
    spoiled.uv[spoiled.holdout_idx] = 1.0  # whatever the held-out textures are, the start is the same
    a, b = train_mod.Trainer(data, cfg).G.basis, train_mod.Trainer(spoiled, cfg).G.basis
    assert torch.equal(a, b) and a.abs().max() > 0


def test_cpu_training_leaves_one_core_free(monkeypatch):
    monkeypatch.setattr(train_mod.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    assert train_mod.cpu_threads() == 1
    monkeypatch.setattr(train_mod.os, "sched_getaffinity", lambda pid: set(range(8)), raising=False)
    assert train_mod.cpu_threads() == 7
    monkeypatch.setattr(train_mod.os, "sched_getaffinity", lambda pid: {0}, raising=False)
    assert train_mod.cpu_threads() == 1


def test_resuming_a_checkpoint_from_before_the_closed_form_basis_is_refused(make_subject):
    from assets.artifacts import KEYS
    from assets.errors import MemorialError
    from generation.gan import checkpoint

    vault = make_subject()
    vault.put(KEYS["dataset"], make_dataset().to_bytes(), kind="dataset")
    train_mod.run_subject(vault, "cpu-demo", steps=2, progress=False, overrides=TINY, say=lambda s: None)
    ckpt = checkpoint.load(vault, "checkpoint/current")
    old = ckpt["train"]["opt_G"]
    old["param_groups"][0]["params"] = old["param_groups"][0]["params"] + [max(old["param_groups"][0]["params"]) + 1]
    checkpoint.save(vault, "checkpoint/current", ckpt)  # as main's code wrote it: the basis had Adam state
    with pytest.raises(MemorialError, match="train again without --resume"):
        train_mod.run_subject(vault, "cpu-demo", steps=4, progress=False, resume=True, overrides=TINY,
                              say=lambda s: None)


def test_ridge_strength_from_a_texel_subset_matches_the_full_choice(monkeypatch):
    """The strength is cross-validated on every 2nd texel each way at 64² (noise as at full side);
    on noisy procedural textures it picks what all texels pick, and the basis is solved at 64²."""
    import numpy as np

    ds = make_dataset(n=30, res=64, synthetic_fraction=1.0)
    noise = np.random.default_rng(0).normal(0, 25, ds.uv.shape)  # averaging 2x2 texels would choose 30, not 100
    ds.uv[:] = np.clip(ds.uv + noise, 0, 255).astype(np.uint8)
    data = prepare(ds, 64, 0.2, 0.1, 0)
    st = data.stats()
    args = (data.uv, data.mask, data.codes, st["mean_texture"], st["code_mean"], 64)
    monkeypatch.setattr(linear_init, "CV_SIDE", 32)
    w_sub, lam_sub = linear_init.ridge_basis(*args)
    monkeypatch.setattr(linear_init, "CV_SIDE", 64)
    w_all, lam_all = linear_init.ridge_basis(*args)
    assert lam_sub == lam_all  # the final solve is at full size either way
    assert w_sub.shape[1:] == (3, 64, 64)


def test_one_standard_error_rule_takes_the_strongest_strength_that_fits_as_well():
    """Strengths ascending; fold errors [L,K]. The best total is 50 (index 1); its 5 fold errors have
    std 1.58, so one SE of a 5-fold sum is 3.54: index 2 (53) is within, index 3 (60) is not."""
    best = torch.tensor([8.0, 9.0, 10.0, 11.0, 12.0], dtype=torch.float64)
    errors = torch.stack([best + 2.0, best, best + 0.6, best + 2.0])
    assert linear_init.one_standard_error(errors) == 2
    even = torch.full((4, 5), 10.0, dtype=torch.float64) + torch.tensor([[1.0], [0.0], [0.1], [0.2]])
    assert linear_init.one_standard_error(even) == 1  # folds that agree exactly: no slack beyond the best


def test_the_basis_uses_the_rule_s_strength_where_it_is_stronger_than_the_best():
    """Control 5 always follows control 0 (as her lips press mostly with the jaw open), only control 0
    changes the texture, and the frames also change in ways no code says (a few whole-texture
    patterns). Here the best cross-validated strength is 100 and the rule's, one SE away, is 300."""
    g = torch.Generator().manual_seed(2)
    n, e, side = 60, 24, 16
    codes = torch.rand(n, e, generator=g)
    codes[:, 5] = 0.8 * codes[:, 0] + 0.2 * torch.rand(n, generator=g)
    truth = 0.3 * torch.randn(3, side, side, generator=g)
    unsaid = torch.einsum("nk,kchw->nchw", torch.randn(n, 6, generator=g), torch.randn(6, 3, side, side, generator=g))
    cm = codes.mean(0)
    uv = (codes[:, 0] - cm[0]).view(n, 1, 1, 1) * truth + 0.1 * unsaid
    mask, mean = torch.ones(n, 1, side, side), torch.zeros(1, 3, side, side)
    std = codes.double().std(0, unbiased=False).clamp_min(0.05)
    y, m = linear_init._targets(uv, mask, mean, side)
    errors = linear_init.cv_errors((codes.double() - cm.double()) / std, y, m)
    assert linear_init.LAMBDAS[int(errors.sum(1).argmin())] == 100.0
    basis, lam = linear_init.ridge_basis(uv, mask, codes, mean, cm, side)
    assert lam == 300.0
    assert basis.shape == (e, 3, side, side)
