"""Frames from a track, and the train / frames / evaluate commands with their bad inputs."""

import numpy as np
import pytest
import torch

from assets import expression
from assets.artifacts import KEYS, ExpressionTrack, FrameSequence
from generation.gan import checkpoint
from generation.gan.config import make_config
from generation.gan.frames import frames_for_track, smooth_codes, synthesize
from generation.gan.networks import Generator
from generation.vault import open_vault
from tests.conftest import OWNER_PASS
from tests.gan.synth import TINY, make_dataset

TOML = "\n".join(f"{k} = {v!r}" if not isinstance(v, str) else f'{k} = "{v}"' for k, v in TINY.items()) + "\n"


def _ckpt(seed=0):
    cfg = make_config("cpu-demo", **TINY)
    torch.manual_seed(seed)
    g = Generator(cfg)
    for p in g.parameters():  # random, not zero-initialised: frames must differ with the code
        torch.nn.init.normal_(p, std=0.3)
    return {"format": checkpoint.FORMAT, "version": checkpoint.VERSION, "subject_id": "x", "subject": "rose",
            "config": cfg.to_dict(), "stats": {}, "step": 7, "G_ema": g.state_dict()}


def _track(t=30, noise=0.0, seed=0):
    rng = np.random.default_rng(seed)
    codes = expression.neutral(t)
    codes[:, expression.index("jaw_open")] = 0.5 + 0.4 * np.sin(np.linspace(0, 3, t))
    codes += rng.normal(0, noise, codes.shape).astype(np.float32)
    return ExpressionTrack(fps=30.0, codes=expression.clip(codes), pose=np.zeros((t, 6), np.float32), source="idle")


def test_frames_shape_fixed_z_and_batch_invariance():
    ckpt = _ckpt()
    seq = frames_for_track(ckpt, _track(30), sigma=0.0)
    assert isinstance(seq, FrameSequence) and seq.frames.shape == (30, 16, 16, 3) and seq.frames.dtype == np.uint8
    g = checkpoint.generator_from(ckpt)
    codes = _track(30).codes
    z = torch.zeros(1, g.z_dim)
    assert np.array_equal(synthesize(g, codes, z, batch=7), synthesize(g, codes, z, batch=64))
    same = np.repeat(codes[:1], 5, axis=0)
    out = synthesize(g, same, torch.randn(1, g.z_dim), batch=2)
    assert all(np.array_equal(out[0], f) for f in out)  # one z for the whole sequence
    assert not np.array_equal(seq.frames[0], seq.frames[15])  # the code matters
    roundtrip = FrameSequence.from_bytes(seq.to_bytes())
    assert np.array_equal(roundtrip.frames, seq.frames) and roundtrip.meta["ai_generated"]


def test_smoothing_removes_flicker_from_jittery_codes():
    ckpt = _ckpt()
    noisy = _track(60, noise=0.15)
    flick = lambda f: np.abs(np.diff(f.astype(np.float32), n=2, axis=0)).mean()  # noqa: E731
    raw = frames_for_track(ckpt, noisy, sigma=0.0).frames
    smooth = frames_for_track(ckpt, noisy, sigma=1.5).frames
    assert flick(smooth) < 0.5 * flick(raw)
    codes = smooth_codes(noisy.codes, 1.5)
    assert codes.shape == noisy.codes.shape and np.all(codes >= expression.LOW) and np.all(codes <= expression.HIGH)


@pytest.fixture
def subject_with_data(make_subject):
    vault = make_subject("rose")
    vault.put(KEYS["dataset"], make_dataset(n=20, res=16).to_bytes(), kind="dataset")
    vault.put(KEYS["track"].format(name="hello"), _track(12).to_bytes(), kind="track")
    return vault


def test_cli_train_frames_evaluate(subject_with_data, cli, tmp_path):
    cfg = tmp_path / "tiny.toml"
    cfg.write_text("[train]\n" + TOML)
    r = cli("train", "rose", "--steps", "4", "--config", cfg, "--no-progress", "--seed", "3")
    assert r.exit_code == 0, r.output
    assert "checkpoint/current" in r.output
    fresh = lambda: open_vault("rose", OWNER_PASS)  # noqa: E731  a fresh handle sees what the command wrote
    vault = fresh()
    ckpt = checkpoint.load(vault, "checkpoint/current")
    assert ckpt["step"] == 4 and ckpt["config"]["seed"] == 3 and ckpt["config"]["resolution"] == 16
    options = vault.get_json(vault.list("train/current/options/")[0].key)
    assert options["config"]["batch"] == TINY["batch"] and options["world_size"] == 1
    r = cli("train", "rose", "--resume", "--steps", "6", "--no-progress")
    assert r.exit_code == 0, r.output
    assert checkpoint.load(fresh(), "checkpoint/current")["step"] == 6
    r = cli("frames", "rose", "--track", "hello")
    assert r.exit_code == 0, r.output
    vault = fresh()
    seq = FrameSequence.from_bytes(vault.get("frames/hello"))
    assert seq.frames.shape == (12, 16, 16, 3) and seq.meta["checkpoint"] == "checkpoint/current"
    r = cli("evaluate", "rose")
    assert r.exit_code == 0, r.output
    for needle in ("reconstruction, held-out", "identity consistency", "flicker", "memorisation", "frames/s"):
        assert needle in r.output
    assert fresh().exists("train/current/evaluation.json")
    # nothing in plaintext on disk: the run's stats live only inside the encrypted vault
    home = tmp_path / "home"
    assert not any(b'"loss_d"' in p.read_bytes() for p in home.rglob("*") if p.is_file())


def test_cli_bad_inputs_give_one_line_errors(make_subject, cli, tmp_path):
    vault = make_subject("rose")
    r = cli("train", "rose", "--steps", "2")
    assert r.exit_code != 0 and "ingest" in r.output and "Traceback" not in r.output
    r = cli("train", "rose", "--preset", "tpu")
    assert r.exit_code != 0 and "tpu" in r.output
    bad = tmp_path / "bad.toml"
    bad.write_text("batch = [")
    r = cli("train", "rose", "--config", bad)
    assert r.exit_code == 2 and "not valid TOML" in r.output
    r = cli("frames", "rose", "--track", "nope")
    assert r.exit_code != 0 and "no track named 'nope'" in r.output
    vault.put(KEYS["track"].format(name="hello"), _track(5).to_bytes(), kind="track")
    r = cli("frames", "rose", "--track", "hello")
    assert r.exit_code != 0 and "train first" in r.output
    r = cli("evaluate", "rose")
    assert r.exit_code != 0 and "memorial: error:" in r.output
    r = cli("train", "rose", passphrase="wrong-passphrase")
    assert r.exit_code != 0
    assert open_vault("rose", OWNER_PASS).list("checkpoint/") == []


def test_foreign_checkpoint_is_refused_by_frames(make_subject, cli):
    a = make_subject("rose")
    b = make_subject("lily")
    a.put(KEYS["dataset"], make_dataset(n=12, res=16).to_bytes(), kind="dataset")
    from generation.gan.train import train_subject

    train_subject(a, "cpu-demo", steps=1, progress=False, overrides=TINY, say=lambda s: None)
    b.put("checkpoint/current", a.get("checkpoint/current"), kind="checkpoint")
    b.put(KEYS["track"].format(name="hello"), _track(5).to_bytes(), kind="track")
    r = cli("frames", "lily", "--track", "hello")
    assert r.exit_code != 0 and "another subject" in r.output


def test_help_has_examples(cli):
    for cmd in ("train", "frames", "evaluate"):
        r = cli(cmd, "--help")
        assert r.exit_code == 0 and "Example:" in r.output and f"memorial {cmd}" in r.output
