"""The head pose as a condition of the generator's convolutional part, and format-1 checkpoints."""

import numpy as np
import pytest
import torch

from assets import expression
from assets.artifacts import KEYS, ExpressionTrack
from generation.gan import checkpoint
from generation.gan import train as train_mod
from generation.gan.config import make_config
from generation.gan.data import prepare
from generation.gan.frames import frames_for_track, source_pose, synthesize
from generation.gan.networks import Discriminator, Generator
from assets.errors import UsageError
from tests.gan.synth import TINY, make_dataset


def _perturbed(cfg):
    torch.manual_seed(0)
    g = Generator(cfg)
    for p in g.parameters():  # zero-initialised output and FiLM; perturb to test the wiring
        torch.nn.init.normal_(p, std=0.3)
    g.pose_mean.copy_(torch.tensor([4.0, 2.0, -1.0]))
    g.pose_std.copy_(torch.tensor([5.0, 3.0, 0.5]))
    return g.eval()


def test_pose_reaches_the_convolutions_only_and_far_poses_are_clipped():
    cfg = make_config("cpu-demo", **TINY)
    g = _perturbed(cfg)
    z, e = torch.zeros(2, cfg.z_dim), torch.zeros(2, expression.E)
    mean_pose = g.pose_mean.expand(2, -1)
    with torch.no_grad():
        at_mean = g(z, e, mean_pose)
        assert torch.equal(g(z, e), at_mean)  # no pose = her mean pose
        turned = g(z, e, mean_pose + torch.tensor([10.0, 0, 0]))
        assert (turned - at_mean).abs().mean() > 1e-3
        far = g(z, e, mean_pose + torch.tensor([100.0, 0, 0]))  # 20 std away: clipped at 3 std
        assert torch.allclose(far, g(z, e, mean_pose + torch.tensor([15.0, 0, 0])))
        g.to_rgb.weight.zero_()
        g.to_rgb.bias.zero_()
        assert torch.equal(g(z, e, mean_pose), g(z, e, mean_pose + 10))  # the linear part is code-only
    d = Discriminator(cfg)
    x, mask = torch.rand(2, 3, 16, 16), torch.ones(2, 1, 16, 16)
    assert not torch.allclose(d(x, mask, e, torch.zeros(2, 3)), d(x, mask, e, torch.ones(2, 3)))
    with pytest.raises(UsageError, match="pose_dims"):
        make_config("cpu-demo", pose_dims=4)


def test_a_track_moves_around_her_mean_pose():
    cfg = make_config("cpu-demo", **TINY)
    g = _perturbed(cfg)
    motion = np.zeros((5, 6), np.float32)
    motion[:, 1] = [0, 1, 2, 3, 4]  # a nod, median 2
    p = source_pose(g, motion)
    assert np.allclose(p[:, 0], 4.0) and np.allclose(p[:, 2], -1.0)
    assert np.allclose(p[:, 1], [0, 1, 2, 3, 4])  # 2 + (nod - 2)
    track = ExpressionTrack(fps=30.0, codes=expression.neutral(5), pose=motion, source="idle")
    ckpt = {"format": checkpoint.FORMAT, "version": checkpoint.VERSION, "subject_id": "x", "subject": "rose",
            "config": cfg.to_dict(), "stats": {}, "step": 1, "G_ema": g.state_dict()}
    frames = frames_for_track(ckpt, track, sigma=0.0).frames
    assert not np.array_equal(frames[0], frames[-1])  # same code, different pose
    assert np.array_equal(frames[2], synthesize(g, expression.neutral(1), torch.zeros(1, cfg.z_dim))[0])


@pytest.mark.slow
def test_training_learns_what_the_pose_explains():
    """Procedural textures lit from one side as the head turns: the pose model's held-out
    reconstruction beats its own code-only linear part and the same model given wrong poses."""
    from generation.gan.checkpoint import generator_from
    from generation.gan.evaluate import reconstruction

    ds = make_dataset(n=40, res=32, synthetic_fraction=1.0, pose_shading=0.35)
    cfg = make_config("cpu-demo", **{**TINY, "resolution": 32, "steps": 150, "batch": 8, "ema_beta": 0.9})
    data = prepare(ds, cfg.resolution, cfg.min_quality, cfg.holdout, cfg.seed)
    g = generator_from(train_mod.Trainer(data, cfg).run(progress=False))
    model = reconstruction(g, data, data.holdout_idx)
    linear = generator_from(train_mod.Trainer(data, cfg).state())  # step 0: mean + ridge basis, no convolution
    assert not linear.to_rgb.weight.any()
    lin = reconstruction(linear, data, data.holdout_idx)
    wrong = prepare(ds, cfg.resolution, cfg.min_quality, cfg.holdout, cfg.seed)
    wrong.pose[data.holdout_idx] = -data.pose[data.holdout_idx]  # each held-out head turned the other way
    mirrored = reconstruction(g, wrong, data.holdout_idx)
    assert model["psnr_db"] > lin["psnr_db"] + 1.0, (model, lin)
    assert model["psnr_db"] > mirrored["psnr_db"] + 1.0, (model, mirrored)


def _format_1(ckpt: dict) -> dict:
    """What a checkpoint written before the pose condition looked like."""
    strip = lambda sd: {k: v for k, v in sd.items() if not k.startswith("pose_")}  # noqa: E731
    cfg = {k: v for k, v in ckpt["config"].items() if k not in ("pose_dims", "pose_noise")}
    return {**ckpt, "version": 1, "config": cfg, "G_ema": strip(ckpt["G_ema"]),
            "stats": {k: v for k, v in ckpt["stats"].items() if not k.startswith("pose_")},
            "train": {**ckpt["train"], "G": strip(ckpt["train"]["G"])}}


def _run(vault, steps, resume=False, **over):
    return train_mod.run_subject(vault, "cpu-demo", steps=steps, seed=0, progress=False, resume=resume,
                                 overrides={**TINY, **over}, say=lambda s: None)[1]


def test_a_format_1_checkpoint_still_makes_frames_and_resumes_exactly(make_subject):
    vault = make_subject()
    vault.put(KEYS["dataset"], make_dataset(pose_shading=0.3).to_bytes(), kind="dataset")
    straight = _run(vault, 6, pose_dims=0)
    _run(vault, 3, pose_dims=0)
    old = _format_1(checkpoint.load(vault, "checkpoint/current"))
    checkpoint.save(vault, "checkpoint/current", old)
    loaded = checkpoint.load(vault, "checkpoint/current")
    assert loaded["version"] == checkpoint.VERSION and loaded["config"]["pose_dims"] == 0
    g = checkpoint.generator_from(loaded)
    assert g(torch.zeros(1, g.z_dim), torch.zeros(1, expression.E), torch.ones(1, 3)).shape == (1, 3, 16, 16)
    resumed = _run(vault, 6, resume=True)  # the stored config (code only) wins over today's default
    assert resumed.cfg.pose_dims == 0
    for a, b in ((straight.G, resumed.G), (straight.D, resumed.D), (straight.G_ema, resumed.G_ema)):
        sa, sb = a.state_dict(), b.state_dict()
        assert sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)
    ckpt = checkpoint.load(vault, "checkpoint/current")
    ckpt["version"] = 0
    with pytest.raises(checkpoint.CheckpointError, match="format version 0; this program reads 1, 2: train again"):
        checkpoint.from_bytes(checkpoint.to_bytes(ckpt), vault.vault_id)
