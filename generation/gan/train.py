"""Training loop: one process on CPU/GPU, or DistributedDataParallel under torchrun.

Randomness is derived from (seed, rank, step) at every step instead of carried in a
generator, so `--resume` replays exactly what an uninterrupted run would have done, and a
CPU run is a pure function of its seed. Rank 0 reads the vault and broadcasts the dataset
bytes over the process group (no plaintext on disk); only rank 0 writes checkpoints.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch
import torch.distributed as dist

from assets.artifacts import SubjectDataset
from assets.errors import MemorialError
from . import augment, checkpoint, linear_init, losses
from .config import GanConfig, make_config
from .data import TrainingData, digest, load_dataset, prepare
from .networks import Discriminator, Generator

MAX_ROLLBACKS = 4
SMALLER = {"gpu-hq": "gpu", "gpu": "cpu-demo"}


class TrainingInterrupted(MemorialError):
    exit_code = 130


class TrainingDiverged(MemorialError):
    pass


@dataclass
class Dist:
    """Where this process sits in the (possibly 1-process) group."""

    rank: int = 0
    world: int = 1
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    owns_group: bool = False  # this call joined the group, so it also leaves it

    @property
    def active(self) -> bool:
        return self.world > 1


def _wants_cuda(cfg: GanConfig) -> bool:
    return cfg.device == "cuda" or (cfg.device == "auto" and torch.cuda.is_available())


def init_distributed(cfg: GanConfig) -> Dist:
    """Join the torchrun group when WORLD_SIZE > 1 (NCCL on GPUs, gloo on CPU)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    owns = world > 1 and not dist.is_initialized()
    if owns:
        dist.init_process_group(backend="nccl" if _wants_cuda(cfg) else "gloo")
    d = current_dist(cfg)
    d.owns_group = owns
    return d


def current_dist(cfg: GanConfig) -> Dist:
    rank, world = (dist.get_rank(), dist.get_world_size()) if dist.is_initialized() else (0, 1)
    if _wants_cuda(cfg):
        local = int(os.environ.get("LOCAL_RANK", rank))
        torch.cuda.set_device(local)
        device = torch.device("cuda", local)
    else:
        device = torch.device("cpu")
    return Dist(rank, world, device)


def broadcast_bytes(data: bytes | None, d: Dist) -> bytes:
    """Rank 0's bytes on every rank, through the process group (memory only)."""
    if not d.active:
        assert data is not None
        return data
    box = [data if d.rank == 0 else None]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def _get_or_empty(vault, key: str) -> bytes:
    try:
        return vault.get(key)
    except KeyError:
        return b""


def _shared_dataset(vault, d: Dist) -> tuple[SubjectDataset, bytes]:
    """Rank 0 reads dataset/current; a failure there stops every rank instead of leaving them waiting."""
    if d.rank == 0:
        try:
            ds, raw = load_dataset(vault)
        except MemorialError:
            if d.active:
                broadcast_bytes(b"", d)
            raise
        broadcast_bytes(raw, d)
        return ds, raw
    raw = broadcast_bytes(None, d)
    if not raw:
        raise MemorialError("rank 0 could not read the dataset")
    return SubjectDataset.from_bytes(raw), raw


def amp_enabled(cfg: GanConfig, device: torch.device) -> bool:
    """Mixed precision only on CUDA; CPU runs stay in float32 so they are exact and deterministic."""
    return cfg.amp and device.type == "cuda"


def _autocast(on: bool):
    return torch.autocast("cuda", dtype=torch.bfloat16) if on else nullcontext()


def cpu_threads() -> int:
    """Threads for CPU training: one core left free. With a thread on every core, one busy core
    stalls every parallel region at its barrier (measured on 2 shared cores: 3.1 s/step with 2
    threads vs 0.47 s/step with 1 under load, 0.14 vs 0.24 s idle); the count is fixed for the
    whole run so the result does not depend on the load."""
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        n = os.cpu_count() or 1
    return max(1, n - 1)


def step_generator(seed: int, rank: int, step: int, device: torch.device | str = "cpu") -> torch.Generator:
    """The step's generator, on the training device so no random tensor crosses the bus."""
    state = np.random.SeedSequence([seed, rank, step]).generate_state(2, dtype=np.uint32)
    return torch.Generator(device=device).manual_seed(int(state[0]) << 32 | int(state[1]))


class Trainer:
    """Holds the networks, optimisers and EMA; `run()` trains to cfg.steps."""

    def __init__(self, data: TrainingData, cfg: GanConfig, d: Dist | None = None, subject_id: str = "",
                 subject: str = "", resume: dict | None = None, texture_data: TrainingData | None = None):
        """`data` at the convolutions' side (cfg.resolution); `texture_data`, the same samples at the
        texture's side (cfg.output_side), gives the mean texture and the linear basis (default: `data`)."""
        self.cfg, self.data, self.d = cfg, data, d or Dist()
        tex = data if texture_data is None else texture_data
        if tex.uv.shape[-1] != cfg.output_side or not torch.equal(tex.train_idx, data.train_idx):
            raise MemorialError(f"texture data at {tex.uv.shape[-1]}² do not match texture_side {cfg.output_side} "
                                "or the training split")
        self.subject_id, self.subject = subject_id, subject
        dev = self.d.device
        torch.manual_seed(cfg.seed)
        self.G = Generator(cfg)
        self.D = Discriminator(cfg)
        self.stats = tex.stats()
        self.G.mean_texture.copy_(self.stats["mean_texture"])
        self.G.code_mean.copy_(self.stats["code_mean"])
        self.G.pose_mean.copy_(self.stats["pose_mean"][: cfg.pose_dims])
        self.G.pose_std.copy_(self.stats["pose_std"][: cfg.pose_dims])
        self.ridge_lambda = None
        if resume is None and len(data.train_idx) > 1:  # a resumed run gets its basis from the checkpoint
            basis, self.ridge_lambda = linear_init.ridge_basis(
                tex.uv[tex.train_idx], tex.mask[tex.train_idx], tex.codes[tex.train_idx],
                self.stats["mean_texture"], self.stats["code_mean"], self.G.basis.shape[-1])
            with torch.no_grad():
                self.G.basis.copy_(basis)
        # The linear part stays at its closed-form optimum: trained on, Adam's per-entry steps of
        # ~lr made its rarely-informative entries wander (measured on the shared real clip: the
        # linear part fell from +0.87 dB over the mean texture at step 0 to +0.40 dB at step 878).
        # The convolutions learn what is not linear.
        self.G.basis.requires_grad_(False)
        self.G.to(dev)
        self.D.to(dev)
        if dev.type == "cuda":  # tensor cores want NHWC; on CPU the default layout is kept (exact, tested)
            self.G.to(memory_format=torch.channels_last)
            self.D.to(memory_format=torch.channels_last)
        self.G_ema = copy.deepcopy(self.G).eval().requires_grad_(False)
        self.opt_G = torch.optim.Adam([p for p in self.G.parameters() if p.requires_grad], lr=cfg.lr_g,
                                      betas=(cfg.beta1, cfg.beta2))
        self.opt_D = torch.optim.Adam(self.D.parameters(), lr=cfg.lr_d, betas=(cfg.beta1, cfg.beta2))
        self.step = 0
        self.lr_scale = 1.0
        self.rollbacks = 0
        self.log_lines: list[str] = []
        if resume is not None:
            self.load_state(resume)
        self.amp = amp_enabled(cfg, dev)
        if self.d.active:
            from torch.nn.parallel import DistributedDataParallel as DDP

            ids = [dev.index] if dev.type == "cuda" else None
            self.G_train = DDP(self.G, device_ids=ids, broadcast_buffers=False)
            self.D_train = DDP(self.D, device_ids=ids, broadcast_buffers=False)
        else:
            self.G_train, self.D_train = self.G, self.D
        layout = torch.channels_last if dev.type == "cuda" else torch.contiguous_format
        self.train_uv = data.uv[data.train_idx].to(dev).contiguous(memory_format=layout)  # [n,3,R,R]
        self.train_mask = data.mask[data.train_idx].to(dev).contiguous(memory_format=layout)  # [n,1,R,R]
        self.train_codes = data.codes[data.train_idx].to(dev)  # [n,E]
        self.train_pose = data.pose[data.train_idx].to(dev)  # [n,3] degrees
        self.code_scale = cfg.code_noise * self.stats["code_std"].clamp_min(0.05).to(dev)  # [E]

    # ----- state ------------------------------------------------------------------------------

    def state(self) -> dict:
        """The checkpoint dict: G_ema for inference, the rest to resume exactly."""
        cpu = lambda sd: {k: v.detach().cpu().clone() for k, v in sd.items()}  # noqa: E731
        return {
            "format": checkpoint.FORMAT, "version": checkpoint.VERSION,
            "subject_id": self.subject_id, "subject": self.subject,
            "config": self.cfg.to_dict(), "stats": self.stats, "step": self.step,
            "G_ema": cpu(self.G_ema.state_dict()),
            "train": {"G": cpu(self.G.state_dict()), "D": cpu(self.D.state_dict()),
                      "opt_G": copy.deepcopy(self.opt_G.state_dict()), "opt_D": copy.deepcopy(self.opt_D.state_dict()),
                      "lr_scale": self.lr_scale, "rollbacks": self.rollbacks, "log": list(self.log_lines)},
        }

    def load_state(self, ckpt: dict) -> None:
        t = ckpt["train"]
        self.G.load_state_dict(t["G"])
        self.G_ema.load_state_dict(ckpt["G_ema"])
        try:
            self.D.load_state_dict(t["D"])
            self.opt_G.load_state_dict(t["opt_G"])
            self.opt_D.load_state_dict(t["opt_D"])
        except (ValueError, RuntimeError):  # written before the linear basis was solved in closed
            # form, or before D's levels became strided convolutions: its generator still works
            raise MemorialError("this checkpoint's training state is from an older version; "
                                "train again without --resume") from None
        self.step = int(ckpt["step"])
        self.lr_scale = float(t["lr_scale"])
        self.rollbacks = int(t["rollbacks"])
        self.log_lines = list(t["log"])
        self._set_lr()

    def _set_lr(self) -> None:
        for group in self.opt_G.param_groups:
            group["lr"] = self.cfg.lr_g * self.lr_scale
        for group in self.opt_D.param_groups:
            group["lr"] = self.cfg.lr_d * self.lr_scale

    # ----- one step -----------------------------------------------------------------------------

    def train_step(self) -> dict:
        cfg, dev = self.cfg, self.d.device
        gen = step_generator(cfg.seed, self.d.rank, self.step, dev)
        idx = torch.randint(len(self.train_uv), (cfg.batch,), generator=gen, device=dev)
        real, mask, code = self.train_uv[idx], self.train_mask[idx], self.train_codes[idx]
        z = torch.randn(cfg.batch, cfg.z_dim, generator=gen, device=dev)
        jitter = torch.randn(cfg.batch, code.shape[1], generator=gen, device=dev) * self.code_scale  # [B,E]
        pose = self.train_pose[idx]  # [B,3] degrees
        if cfg.pose_dims:  # drawn only for pose models, so a code-only (format 1) run replays exactly
            pose_jit = pose[:, : cfg.pose_dims] + cfg.pose_noise * self.G.pose_std * torch.randn(
                cfg.batch, cfg.pose_dims, generator=gen, device=dev)  # [B,P]
        else:
            pose_jit = pose[:, :0]
        d_pose = self.G.pose_input(pose, cfg.batch)  # [B,P] standardised, what D is conditioned on
        aug = lambda x, m: augment.apply(x, m, cfg.augment, cfg.augment_p, gen)  # noqa: E731

        # D step: one forward over [real; fake] so DDP sees one forward per backward.
        do_r1 = cfg.r1_gamma > 0 and cfg.r1_every > 0 and self.step % cfg.r1_every == 0
        with torch.no_grad(), _autocast(self.amp):
            fake = self.G(z, code, pose, conv_side=True).float()
        real_a, real_m = aug(real, mask)
        fake_a, fake_m = aug(fake, mask)
        real_a = real_a.detach().requires_grad_(do_r1)
        with _autocast(self.amp and not do_r1):
            logits = self.D_train(torch.cat([real_a, fake_a]), torch.cat([real_m, fake_m]),
                                  torch.cat([code, code]), torch.cat([d_pose, d_pose])).float()
        real_l, fake_l = logits[: cfg.batch], logits[cfg.batch:]
        loss_d = losses.d_loss(real_l, fake_l)
        r1 = losses.r1_penalty(real_l, real_a) if do_r1 else torch.zeros((), device=dev)
        self.opt_D.zero_grad(set_to_none=True)
        (loss_d + (cfg.r1_gamma / 2) * cfg.r1_every * r1).backward()
        self.opt_D.step()

        # G step: adversarial on random z, reconstruction of the real sample at z = 0.
        self.D.requires_grad_(False)
        z_all = torch.cat([z, torch.zeros_like(z)])
        with _autocast(self.amp):
            out = self.G_train(z_all, torch.cat([code, code + jitter]), torch.cat([pose[:, : cfg.pose_dims], pose_jit]),
                               conv_side=True).float()
            fake, recon = out[: cfg.batch], out[cfg.batch:]
            fake_a, fake_m = aug(fake, mask)
            loss_g = losses.g_loss(self.D(fake_a, fake_m, code, d_pose).float())
        loss_rec = losses.masked_mse(recon, real, mask)
        self.opt_G.zero_grad(set_to_none=True)
        (cfg.gan_weight * loss_g + cfg.recon_weight * loss_rec).backward()
        self.opt_G.step()
        self.D.requires_grad_(True)

        with torch.no_grad():
            torch._foreach_lerp_(list(self.G_ema.parameters()), list(self.G.parameters()), 1 - cfg.ema_beta)
            for be, b in zip(self.G_ema.buffers(), self.G.buffers()):
                be.copy_(b)
        self.step += 1
        # Device tensors: reading them (float()) would wait for the GPU every step.
        return {"loss_d": loss_d.detach(), "loss_g": loss_g.detach(), "recon": loss_rec.detach(), "r1": r1.detach()}

    def _out_of_time(self, elapsed: float) -> bool:
        """Rank 0's clock decides for everyone, so all ranks stop at the same step."""
        if self.cfg.time_budget_s <= 0:
            return False
        flag = torch.tensor([float(elapsed > self.cfg.time_budget_s)], device=self.d.device)
        if self.d.active:
            dist.broadcast(flag, src=0)
        return bool(flag.item() > 0)

    def _all_finite(self, finite: torch.Tensor) -> bool:
        """`finite`: a device flag, 1 while every loss since the last check was finite (one host read here)."""
        ok = finite.float().reshape(1)
        if self.d.active:
            dist.all_reduce(ok, op=dist.ReduceOp.MIN)
        return bool(ok.item() > 0)

    def _must_check(self) -> bool:
        """On CPU every step is checked (reading a CPU tensor costs nothing); on a GPU only at log and
        checkpoint steps, so the host never waits for the device in between."""
        cfg = self.cfg
        return (self.d.device.type != "cuda" or self.step % cfg.log_every == 0 or self.step >= cfg.steps
                or self.step % cfg.checkpoint_every == 0 or (cfg.time_budget_s > 0 and self.step % 50 == 0))

    # ----- the loop ---------------------------------------------------------------------------

    def run(self, sink: Callable[[dict], None] | None = None, progress: bool = True,
            say: Callable[[str], None] = print) -> dict:
        """Train to cfg.steps; `sink(state)` stores a checkpoint (rank 0 only)."""
        from tqdm import tqdm

        cfg, lead = self.cfg, self.d.rank == 0
        good = self.state()
        bar = tqdm(total=cfg.steps, initial=self.step, unit="step", disable=not (progress and lead),
                   dynamic_ncols=True, desc=f"train {cfg.preset} {cfg.resolution}²")
        t0, s0 = time.perf_counter(), self.step
        t_start = t0
        finite = torch.ones((), dtype=torch.bool, device=self.d.device)
        try:
            while self.step < cfg.steps:
                figures = self.train_step()
                finite = finite & torch.isfinite(torch.stack(list(figures.values()))).all()
                bar.update(1)
                if not self._must_check():
                    continue
                if not self._all_finite(finite):
                    good = self._roll_back(good, say)
                    finite = torch.ones((), dtype=torch.bool, device=self.d.device)
                    bar.n = self.step
                    t0, s0 = time.perf_counter(), self.step
                    continue
                figures = {k: float(v) for k, v in figures.items()}
                elapsed = time.perf_counter() - t0
                img_s = (self.step - s0) * cfg.batch * self.d.world / max(elapsed, 1e-9)
                if self.step % cfg.log_every == 0 or self.step == cfg.steps:
                    line = {"step": self.step, **{k: round(v, 5) for k, v in figures.items()},
                            "img_per_s": round(img_s, 2), "lr_scale": self.lr_scale,
                            "time": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
                    self.log_lines.append(json.dumps(line))
                    bar.set_postfix(D=f"{figures['loss_d']:.3f}", G=f"{figures['loss_g']:.3f}",
                                    rec=f"{figures['recon']:.4f}", img_s=f"{img_s:.1f}")
                out_of_time = self._out_of_time(time.perf_counter() - t_start)
                if self.step % cfg.checkpoint_every == 0 or self.step == cfg.steps or out_of_time:
                    good = self.state()
                    if lead and sink is not None:
                        sink(good)
                if out_of_time:
                    if lead:
                        bar.close()
                        say(f"Time budget of {cfg.time_budget_s:g} s reached at step {self.step} of {cfg.steps}; "
                            "checkpoint saved (continue with --resume).")
                    break
        except KeyboardInterrupt:
            bar.close()
            if lead and sink is not None:
                sink(self.state())
            raise TrainingInterrupted(f"interrupted at step {self.step}; checkpoint saved, continue with --resume")
        except torch.cuda.OutOfMemoryError:
            bar.close()
            smaller = SMALLER.get(cfg.preset)
            hint = f"try --preset {smaller}" if smaller else "try a smaller --batch"
            raise MemorialError(f"GPU out of memory with preset {cfg.preset} (batch {cfg.batch}): {hint}") from None
        bar.close()
        return self.state()

    def _roll_back(self, good: dict, say: Callable[[str], None]) -> dict:
        bad_step = self.step
        self.rollbacks += 1
        if self.rollbacks > MAX_ROLLBACKS:
            raise TrainingDiverged(f"training diverged {self.rollbacks} times (last at step {bad_step}); "
                                   "try a lower learning rate in a --config file")
        lr_scale = self.lr_scale * 0.5
        rollbacks = self.rollbacks
        self.load_state(good)
        self.lr_scale, self.rollbacks = lr_scale, rollbacks
        self._set_lr()
        message = (f"non-finite loss at step {bad_step}: rolled back to step {self.step}, "
                   f"learning rate x{self.lr_scale:g}")
        self.log_lines.append(json.dumps({"step": self.step, "event": "rollback", "message": message}))
        if self.d.rank == 0:
            say(message)
        return self.state()


# ----- vault-level entry points ------------------------------------------------------------------


def stats_key(name: str) -> str:
    return f"train/{name}/stats.jsonl"


def options_key(name: str, started: str) -> str:
    return f"train/{name}/options/{started}.json"


def train_subject(vault, preset: str = "cpu-demo", steps: int | None = None, seed: int | None = 0, progress: bool = True,
                  *, name: str = checkpoint.DEFAULT_NAME, resume: bool = False, toml_path=None,
                  overrides: dict | None = None, say: Callable[[str], None] = print) -> str:
    """Train on the vault's dataset/current and return the checkpoint key.

    Under torchrun every rank calls this with its own opened vault; rank 0 reads the
    dataset and writes checkpoints, stats and the resolved options.
    """
    return run_subject(vault, preset, steps, seed, progress, name=name, resume=resume, toml_path=toml_path,
                       overrides=overrides, say=say)[0]


def run_subject(vault, preset: str = "cpu-demo", steps: int | None = None, seed: int | None = 0, progress: bool = True,
                *, name: str = checkpoint.DEFAULT_NAME, resume: bool = False, toml_path=None,
                overrides: dict | None = None, say: Callable[[str], None] = print) -> tuple[str, Trainer]:
    """`train_subject`, also returning the Trainer (tests compare ranks' weights with it)."""
    key = checkpoint.key_for(name)
    cfg = make_config(preset, toml_path, **{"steps": steps, "seed": seed, **(overrides or {})})
    d = init_distributed(cfg)
    try:
        return _run(vault, cfg, d, key, name, resume, steps, progress, say)
    finally:
        if d.owns_group and dist.is_initialized():
            dist.destroy_process_group()


def _run(vault, cfg: GanConfig, d: Dist, key: str, name: str, resume: bool, steps: int | None, progress: bool,
         say: Callable[[str], None]) -> tuple[str, Trainer]:
    prior = None
    if resume:
        blob = _get_or_empty(vault, key) if d.rank == 0 else b""
        blob = broadcast_bytes(blob, d)
        if not blob:
            raise MemorialError(f"nothing to resume: subject '{vault.name}' has no {key}")
        prior = checkpoint.from_bytes(blob, vault.vault_id, where=key)
        stored = checkpoint.config_of(prior)
        from .config import from_dict

        cfg = from_dict({**stored.to_dict(), "steps": steps or stored.steps})
    elif d.rank == 0 and vault.exists(key):
        say(f"Replacing the existing {key} (use --resume to continue it).")
    if cfg.num_threads:
        torch.set_num_threads(cfg.num_threads)
    elif d.device.type == "cpu" and "OMP_NUM_THREADS" not in os.environ:
        torch.set_num_threads(cpu_threads())
    ds, raw = _shared_dataset(vault, d)
    data = prepare(ds, cfg.resolution, cfg.min_quality, cfg.holdout, cfg.seed, digest(raw))
    if prior is not None and prior["stats"]["dataset_sha256"] != data.digest:
        raise MemorialError("the dataset changed since this checkpoint was written; train again without --resume")
    side = cfg.output_side
    texture_data = prepare(ds, side, cfg.min_quality, cfg.holdout, cfg.seed, data.digest) if side != cfg.resolution else None
    trainer = Trainer(data, cfg, d, subject_id=vault.vault_id, subject=vault.name, resume=prior,
                      texture_data=texture_data)
    started = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    if d.rank == 0:
        run_no = len(vault.list(f"train/{name}/options/")) + 1
        vault.put_json(options_key(name, f"{run_no:04d}-{started}"), {
            "config": cfg.to_dict(), "checkpoint": key, "resumed_from_step": trainer.step, "world_size": d.world,
            "device": str(d.device), "amp": trainer.amp, "threads": torch.get_num_threads(),
            "torch": torch.__version__, "started": started,
            "samples": {"train": int(len(data.train_idx)), "holdout": int(len(data.holdout_idx)),
                        "synthetic": int(data.synthetic.sum())}}, kind="train-options")
        vault.log("train_start", checkpoint=key, preset=cfg.preset, steps=cfg.steps, resume_step=trainer.step,
                  world_size=d.world)
        say(f"Training {cfg.preset} ({cfg.resolution}², textures {side}², batch {cfg.batch} x {d.world}) on "
            f"{len(data.train_idx)} samples ({len(data.holdout_idx)} held out), steps {trainer.step} -> {cfg.steps} "
            f"on {d.device}.")

    def sink(state: dict) -> None:
        checkpoint.save(vault, key, state)
        vault.put(stats_key(name), ("\n".join(state["train"]["log"]) + "\n").encode(), kind="train-stats")

    final = trainer.run(sink=sink if d.rank == 0 else None, progress=progress, say=say)
    if d.rank == 0:
        vault.log("train_done", checkpoint=key, step=final["step"], rollbacks=final["train"]["rollbacks"])
    return key, trainer
