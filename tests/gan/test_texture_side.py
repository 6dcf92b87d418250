"""Textures at a larger side than the convolutions: mean and linear basis sharp, convolutions cheap."""

import numpy as np
import pytest
import torch

from assets import expression
from assets.artifacts import KEYS
from assets.errors import MemorialError, UsageError
from generation.gan import checkpoint
from generation.gan import train as train_mod
from generation.gan.config import make_config
from generation.gan.data import prepare
from generation.gan.evaluate import reconstruction
from tests.gan.synth import TINY, make_dataset

SHARP = {**TINY, "texture_side": 32, "basis_side": 32}


def test_texture_side_is_checked():
    with pytest.raises(UsageError, match="texture_side"):
        make_config("cpu-demo", **{**TINY, "texture_side": 8})  # below the convolutions' 16
    with pytest.raises(UsageError, match="texture_side"):
        make_config("cpu-demo", **{**TINY, "texture_side": 24})
    with pytest.raises(UsageError, match="basis_side"):
        make_config("cpu-demo", **{**TINY, "basis_side": 6})
    assert make_config("cpu-demo", **TINY).output_side == 16


def test_sharp_textures_keep_detail_the_convolutions_side_loses(make_subject):
    """Procedural 32² textures, convolutions at 16²: the 32² model's mean and basis are at 32², so it
    reconstructs its training samples better than a model whose textures are 16², enlarged."""
    ds = make_dataset(n=30, res=32, synthetic_fraction=1.0)
    cfg = make_config("cpu-demo", **SHARP)
    low = prepare(ds, 16, cfg.min_quality, cfg.holdout, cfg.seed)
    sharp = prepare(ds, 32, cfg.min_quality, cfg.holdout, cfg.seed)
    trainer = train_mod.Trainer(low, cfg, texture_data=sharp)
    for _ in range(3):  # a few steps: the convolutions' 16² output is enlarged and trained through D at 16²
        trainer.train_step()
    state = trainer.state()
    g = checkpoint.generator_from(state)
    assert g(torch.zeros(2, g.z_dim), torch.zeros(2, expression.E)).shape == (2, 3, 32, 32)
    assert state["stats"]["mean_texture"].shape == (1, 3, 32, 32) and g.basis.shape[-1] == 32
    small_cfg = make_config("cpu-demo", **{**TINY, "basis_side": 32})
    small = checkpoint.generator_from(train_mod.Trainer(low, small_cfg).state())
    with torch.no_grad():  # the 16² model's textures, enlarged to 32² as a renderer would
        e = sharp.codes[sharp.train_idx]
        big = torch.nn.functional.interpolate(small(torch.zeros(len(e), small.z_dim), e), size=(32, 32),
                                              mode="bilinear", align_corners=False)
        mine = g(torch.zeros(len(e), g.z_dim), e)
    m = sharp.mask[sharp.train_idx]
    err = lambda x: float((((x - sharp.uv[sharp.train_idx]) ** 2) * m).sum() / (3 * m.sum()))  # noqa: E731
    assert err(mine) < 0.8 * err(big), (err(mine), err(big))
    assert np.isfinite(reconstruction(g, sharp, sharp.train_idx)["psnr_db"])  # evaluation reads 32² textures
    with pytest.raises(MemorialError, match="texture_side"):
        train_mod.Trainer(low, cfg)  # 16² texture data for a 32² texture


def test_sharp_training_through_the_vault_resumes_exactly(make_subject):
    vault = make_subject()
    vault.put(KEYS["dataset"], make_dataset(res=32).to_bytes(), kind="dataset")
    run = lambda steps, resume=False: train_mod.run_subject(  # noqa: E731
        vault, "cpu-demo", steps=steps, seed=0, progress=False, resume=resume, overrides=SHARP, say=lambda s: None)[1]
    straight = run(4).G_ema.state_dict()
    run(2)
    resumed = run(4, resume=True).G_ema.state_dict()
    assert straight["mean_texture"].shape == (1, 3, 32, 32)
    assert straight.keys() == resumed.keys() and all(torch.equal(straight[k], resumed[k]) for k in straight)
