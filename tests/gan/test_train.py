"""Training through the vault: determinism, exact resume, failure handling, checkpoints."""

import io

import pytest
import torch

from assets import expression
from assets.artifacts import KEYS
from assets.errors import MemorialError
from generation.gan import checkpoint, losses
from generation.gan import train as train_mod
from generation.gan.data import NoUsableSamples, prepare
from generation.gan.config import make_config
from tests.gan.synth import TINY, make_dataset


def put_dataset(vault, **kw):
    ds = make_dataset(**kw)
    vault.put(KEYS["dataset"], ds.to_bytes(), kind="dataset")
    return ds


def run(vault, steps, resume=False, seed=0, **over):
    return train_mod.run_subject(vault, "cpu-demo", steps=steps, seed=seed, progress=False, resume=resume,
                                 overrides={**TINY, **over}, say=lambda s: None)[1]


def weights(trainer) -> dict:
    return {**{"G." + k: v for k, v in trainer.G.state_dict().items()},
            **{"D." + k: v for k, v in trainer.D.state_dict().items()},
            **{"E." + k: v for k, v in trainer.G_ema.state_dict().items()}}


def same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_deterministic_for_a_seed_and_seed_matters(make_subject):
    vault = make_subject()
    put_dataset(vault)
    a, b, c = run(vault, 6), run(vault, 6), run(vault, 6, seed=1)
    assert same(weights(a), weights(b))
    assert not same(weights(a), weights(c))


def test_resume_continues_exactly(make_subject):
    vault = make_subject()
    put_dataset(vault)
    straight = weights(run(vault, 8))
    run(vault, 4)
    stored = checkpoint.load(vault, "checkpoint/current")
    assert stored["step"] == 4
    resumed = run(vault, 8, resume=True)
    assert resumed.step == 8
    assert same(straight, weights(resumed))
    lines = vault.get("train/current/stats.jsonl").decode().splitlines()
    assert [int(__import__("json").loads(x)["step"]) for x in lines] == list(range(1, 9))
    assert len(vault.list("train/current/options/")) >= 1


def test_checkpoint_is_plain_tensors_and_refuses_foreign_ones(make_subject):
    vault = make_subject()
    put_dataset(vault)
    run(vault, 2)
    raw = vault.get("checkpoint/current")
    ckpt = torch.load(io.BytesIO(raw), weights_only=True)  # no pickled code needed
    assert ckpt["format"] == "GeneratorCheckpoint" and ckpt["stats"]["mean_texture"].shape == (1, 3, 16, 16)
    with pytest.raises(checkpoint.CheckpointError, match="another subject"):
        checkpoint.from_bytes(raw, "some-other-vault-id")
    ckpt["version"] = 99
    with pytest.raises(checkpoint.CheckpointError, match="version 99"):
        checkpoint.from_bytes(checkpoint.to_bytes(ckpt), vault.vault_id)
    with pytest.raises(checkpoint.CheckpointError, match="not a generator checkpoint"):
        checkpoint.from_bytes(b"garbage", vault.vault_id)


def test_resume_of_an_older_discriminator_is_refused_but_its_generator_still_loads(make_subject):
    """A checkpoint written before D's levels became strided convolutions: resuming it would
    crash deep in torch; it is refused with one line, and its G_ema still makes frames."""
    vault = make_subject()
    put_dataset(vault)
    run(vault, 2)
    ckpt = checkpoint.load(vault, "checkpoint/current")
    old_d = {k: (v[..., :3, :3].contiguous() if v.ndim == 4 and v.shape[-1] == 4 else v)
             for k, v in ckpt["train"]["D"].items()}  # the old 3x3 level kernels
    assert old_d.keys() == ckpt["train"]["D"].keys() and any(v.shape[-1] == 3 for v in old_d.values())
    ckpt["train"]["D"] = old_d
    checkpoint.save(vault, "checkpoint/current", ckpt)
    with pytest.raises(MemorialError, match="older version.*without --resume"):
        run(vault, 4, resume=True)
    g = checkpoint.generator_from(checkpoint.load(vault, "checkpoint/current"))
    assert g(torch.zeros(1, g.z_dim), torch.zeros(1, expression.E)).shape[1] == 3


def test_no_usable_samples_says_what_to_ingest(make_subject):
    vault = make_subject()
    with pytest.raises(NoUsableSamples, match="ingest"):
        run(vault, 2)
    put_dataset(vault, quality=0.05)
    with pytest.raises(NoUsableSamples, match="no usable samples.*ingest"):
        run(vault, 2)
    assert not vault.exists("checkpoint/current")


def test_resume_without_checkpoint_or_on_changed_data_is_refused(make_subject):
    vault = make_subject()
    put_dataset(vault)
    with pytest.raises(MemorialError, match="nothing to resume"):
        run(vault, 4, resume=True)
    run(vault, 2)
    put_dataset(vault, seed=5)
    with pytest.raises(MemorialError, match="dataset changed"):
        run(vault, 4, resume=True)


def test_nan_rolls_back_and_lowers_learning_rate(make_subject, monkeypatch):
    vault = make_subject()
    put_dataset(vault)
    real = losses.g_loss
    calls = {"n": 0}

    def flaky(logits):
        calls["n"] += 1
        out = real(logits)
        return out * float("nan") if calls["n"] == 5 else out

    monkeypatch.setattr(losses, "g_loss", flaky)
    messages = []
    trainer = train_mod.run_subject(vault, "cpu-demo", steps=8, progress=False, say=messages.append,
                                    overrides={**TINY, "checkpoint_every": 3})[1]
    assert trainer.step == 8 and trainer.lr_scale == 0.5 and trainer.rollbacks == 1
    assert any("non-finite loss at step 5: rolled back to step 3" in m for m in messages)
    assert all(torch.isfinite(p).all() for p in trainer.G.parameters())
    monkeypatch.setattr(losses, "g_loss", lambda logits: real(logits) * float("nan"))
    with pytest.raises(train_mod.TrainingDiverged):
        run(vault, 4)


def test_ctrl_c_saves_a_clean_checkpoint(make_subject, monkeypatch):
    vault = make_subject()
    put_dataset(vault)
    real_step = train_mod.Trainer.train_step

    def interrupting(self):
        if self.step == 3:
            raise KeyboardInterrupt
        return real_step(self)

    monkeypatch.setattr(train_mod.Trainer, "train_step", interrupting)
    with pytest.raises(train_mod.TrainingInterrupted, match="step 3.*--resume"):
        run(vault, 10)
    assert checkpoint.load(vault, "checkpoint/current")["step"] == 3


def test_gpu_out_of_memory_names_a_smaller_preset(make_subject, monkeypatch):
    vault = make_subject()
    put_dataset(vault)

    def oom(self):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory")

    monkeypatch.setattr(train_mod.Trainer, "train_step", oom)
    with pytest.raises(MemorialError, match="out of memory.*--preset gpu"):
        train_mod.run_subject(vault, "gpu-hq", steps=2, progress=False, say=lambda s: None,
                              overrides={**TINY, "device": "cpu"})


def test_training_learns_the_expression_conditioning():
    """On procedural textures the eyes/mouth follow the code: held-out reconstruction must beat
    the mean texture, and beat the same generator given the wrong (another sample's) code."""
    from generation.gan.evaluate import code_response, reconstruction, _mean_baseline
    from generation.gan.checkpoint import generator_from

    ds = make_dataset(n=40, res=32, synthetic_fraction=1.0)
    cfg = make_config("cpu-demo", **{**TINY, "resolution": 32, "steps": 150, "batch": 8, "ema_beta": 0.9})
    data = prepare(ds, cfg.resolution, cfg.min_quality, cfg.holdout, cfg.seed)
    state = train_mod.Trainer(data, cfg).run(progress=False)
    g = generator_from(state)
    model = reconstruction(g, data, data.holdout_idx)
    base = _mean_baseline(state["stats"]["mean_texture"], data, data.holdout_idx)
    assert model["n"] == 8
    assert model["psnr_db"] > base["psnr_db"] + 0.7, (model, base)
    wrong = prepare(ds, cfg.resolution, cfg.min_quality, cfg.holdout, cfg.seed)
    wrong.codes[data.holdout_idx] = data.codes[data.holdout_idx.roll(1)]  # each held-out sample gets another's code
    shuffled = reconstruction(g, wrong, data.holdout_idx)
    assert model["psnr_db"] > shuffled["psnr_db"] + 0.7, (model, shuffled)
    resp = code_response(g, data)
    assert resp["jaw_open"] > resp["mouth_pucker"], resp  # varied in the data vs never varied
