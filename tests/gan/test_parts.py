"""Augmentations, losses, networks and config: the pieces, tested on tiny tensors."""

import pytest
import torch

from assets import expression
from assets.errors import UsageError
from generation.gan import augment, losses
from generation.gan.config import PRESETS, make_config
from generation.gan.networks import Discriminator, Generator
from generation.gan.train import amp_enabled
from tests.gan.synth import TINY


def _batch(b=4, r=16):
    g = torch.Generator().manual_seed(0)
    return torch.rand(b, 3, r, r, generator=g) * 2 - 1, torch.ones(b, 1, r, r)


@pytest.mark.parametrize("name", list(augment.AUGMENTS))
def test_augment_is_pure_for_a_seed_and_differentiable(name):
    x, m = _batch()
    x.requires_grad_(True)
    a1, m1 = augment.AUGMENTS[name](x, m, torch.Generator().manual_seed(3))
    a2, m2 = augment.AUGMENTS[name](x, m, torch.Generator().manual_seed(3))
    assert torch.equal(a1, a2) and torch.equal(m1, m2)
    assert a1.shape == x.shape and m1.shape == m.shape
    a1.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    a3, _ = augment.AUGMENTS[name](x, m, torch.Generator().manual_seed(4))
    assert not torch.equal(a1, a3)


def test_translation_moves_mask_with_content():
    x = torch.zeros(1, 3, 16, 16)
    m = torch.zeros(1, 1, 16, 16)
    x[..., 8, 8] = 1.0
    m[..., 8, 8] = 1.0
    for seed in range(10):
        ax, am = augment.translation(x, m, torch.Generator().manual_seed(seed))
        assert torch.equal((ax[:, :1] > 0.5).float(), am)


def test_cutout_removes_texels_from_mask():
    x, m = _batch(8)
    ax, am = augment.cutout(x, m, torch.Generator().manual_seed(1))
    assert (am == 0).any()
    assert torch.all(ax[am.expand_as(ax) == 0] == 0)
    assert torch.equal(ax[am.expand_as(ax) == 1], x[am.expand_as(ax) == 1])


def test_apply_with_p0_is_identity_and_rejects_bad_shapes():
    x, m = _batch()
    ax, am = augment.apply(x, m, list(augment.AUGMENTS), 0.0, torch.Generator().manual_seed(0))
    assert torch.equal(ax, x) and torch.equal(am, m)
    with pytest.raises(AssertionError):
        augment.apply(x, m[:, :, :8], ["color"], 1.0, torch.Generator())


def test_losses_match_the_seed_formulas():
    real, fake = torch.tensor([2.0, -1.0]), torch.tensor([0.5, -3.0])
    expect_d = (-torch.log(torch.sigmoid(real))).mean() + (-torch.log(1 - torch.sigmoid(fake))).mean()
    assert torch.allclose(losses.d_loss(real, fake), expect_d, atol=1e-6)
    assert torch.allclose(losses.g_loss(fake), (-torch.log(torch.sigmoid(fake))).mean(), atol=1e-6)


def test_r1_is_gradient_norm_and_masked_mse_ignores_hidden_texels():
    x = torch.randn(3, 3, 4, 4, requires_grad=True)
    w = torch.randn(3, 4, 4)
    logits = (x * w).sum((1, 2, 3))
    assert torch.allclose(losses.r1_penalty(logits, x), (w ** 2).sum() * torch.ones(()), rtol=1e-5)
    pred, target = torch.zeros(2, 3, 4, 4), torch.zeros(2, 3, 4, 4)
    mask = torch.zeros(2, 1, 4, 4)
    mask[:, :, :2] = 1
    target[:, :, 2:] = 5.0  # differs only where hidden
    assert losses.masked_mse(pred, target, mask) == 0
    target[:, :, 0, 0] = 1.0
    assert losses.masked_mse(pred, target, mask) > 0


def test_networks_shapes_conditioning_and_masked_judgement():
    cfg = make_config("cpu-demo", **TINY)
    torch.manual_seed(0)
    g, d = Generator(cfg), Discriminator(cfg)
    torch.nn.init.normal_(g.to_rgb.weight, std=0.5)  # zero-initialised output; perturb to test the wiring
    for block in g.blocks:
        torch.nn.init.normal_(block.film.weight, std=0.5)
    z, e = torch.randn(2, cfg.z_dim), torch.zeros(2, expression.E)
    x = g(z, e)
    assert x.shape == (2, 3, 16, 16)
    e2 = e.clone()
    e2[:, expression.index("jaw_open")] = 1.0
    assert not torch.allclose(g(z, e2), x)
    mask = torch.zeros(2, 1, 16, 16)
    mask[..., :8] = 1
    y = x.detach().clone()
    y[..., 8:] += 10.0  # hidden texels change
    assert torch.allclose(d(x, mask, e), d(y, mask, e))
    y[..., :8] += 1.0  # visible texels change
    assert not torch.allclose(d(x, mask, e), d(y, mask, e))
    with pytest.raises(AssertionError):
        g(z, torch.zeros(2, 5))


def test_presets_toml_and_overrides(tmp_path):
    assert {k: v["resolution"] for k, v in PRESETS.items()} == {"cpu-demo": 128, "gpu": 256, "gpu-hq": 512}
    f = tmp_path / "t.toml"
    f.write_text("[train]\nbatch = 3\nsteps = 7\naugment = ['color']\n")
    cfg = make_config("gpu", f, steps=9)
    assert (cfg.resolution, cfg.batch, cfg.steps, cfg.augment) == (256, 3, 9, ["color"])
    f.write_text("[train]\nbatchsize = 3\n")
    with pytest.raises(UsageError, match="batchsize"):
        make_config("gpu", f)
    f.write_text("batch = [\n")
    with pytest.raises(UsageError, match="not valid TOML"):
        make_config("gpu", f)
    with pytest.raises(UsageError, match="power of two"):
        make_config("cpu-demo", resolution=100)
    with pytest.raises(UsageError, match="unknown augmentation"):
        make_config("cpu-demo", augment=["blur"])
    with pytest.raises(UsageError, match="unknown preset"):
        make_config("tpu")


def test_mixed_precision_only_on_cuda():
    """Boundary test: no GPU here, so we check the decision, not a CUDA run."""
    cfg = make_config("gpu")
    assert cfg.amp and not amp_enabled(cfg, torch.device("cpu"))
    assert amp_enabled(cfg, torch.device("cuda", 0))
    assert not amp_enabled(make_config("gpu", amp=False), torch.device("cuda", 0))
