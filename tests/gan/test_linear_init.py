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
    noise = np.random.default_rng(0).normal(0, 25, ds.uv.shape)  # averaging 2x2 texels would choose 10, not 30
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
