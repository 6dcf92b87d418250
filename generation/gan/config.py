"""Training options: one dataclass, three presets, loadable from TOML, overridable by CLI."""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from assets.errors import UsageError


@dataclass
class GanConfig:
    preset: str = "cpu-demo"
    resolution: int = 128  # texture side, a power of two >= 8
    texture_side: int = 0  # the output texture's side, a power of two >= resolution; 0 = resolution
    basis_side: int = 64  # the linear expression basis' side (at most the texture's), enlarged to it
    z_dim: int = 32  # per-sample noise; fixed per frame sequence
    w_dim: int = 128  # style vector fed to every synthesis block
    id_dim: int = 32  # learned per-subject identity latent
    channel_base: int = 2048  # channels at resolution r: min(channel_max, channel_base // r)
    channel_max: int = 128
    d_channel_base: int = 1024
    d_channel_max: int = 128
    batch: int = 8  # per process
    steps: int = 600
    lr_g: float = 0.002
    lr_d: float = 0.002
    beta1: float = 0.0
    beta2: float = 0.99
    r1_gamma: float = 1.0
    r1_every: int = 4  # lazy R1: computed every k D steps, scaled by k
    recon_weight: float = 20.0  # masked MSE on visible texels, G(z=0, e_i) vs real texture i
    gan_weight: float = 1.0
    code_noise: float = 0.5  # reconstruction sees codes + noise (x per-entry std): smooth in the code, not memorised
    pose_dims: int = 3  # head-pose angles (yaw, pitch, roll) the convolutional part sees; 0 = code only (format 1)
    pose_noise: float = 0.5  # reconstruction sees poses + noise (x per-angle std), as for the code
    basis_l2: float = 0.1  # unused since the basis is solved in closed form (linear_init); kept so stored configs load
    ema_beta: float = 0.99
    augment: list[str] = field(default_factory=lambda: ["color", "translation", "cutout"])
    augment_p: float = 0.5
    holdout: float = 0.1  # fraction of samples kept out of training for evaluation
    min_quality: float = 0.2  # samples below this quality are not used
    checkpoint_every: int = 200
    log_every: int = 10
    amp: bool = True  # mixed precision, only ever used on CUDA
    device: str = "auto"  # auto | cpu | cuda
    seed: int = 0
    num_threads: int = 0  # 0 = one per core but one on CPU (train.cpu_threads), else torch default
    time_budget_s: float = 0.0  # stop (with a checkpoint) after this much training time; 0 = no limit

    def __post_init__(self) -> None:
        r = self.resolution
        if r < 8 or r & (r - 1):
            raise UsageError(f"resolution must be a power of two >= 8, got {r}")
        t = self.texture_side
        if t and (t < r or t & (t - 1)):
            raise UsageError(f"texture_side must be 0 or a power of two >= resolution ({r}), got {t}")
        if self.basis_side < 4 or self.basis_side & (self.basis_side - 1):
            raise UsageError(f"basis_side must be a power of two >= 4, got {self.basis_side}")
        if self.batch < 1 or self.steps < 0:
            raise UsageError("batch must be >= 1 and steps >= 0")
        if not 0 <= self.pose_dims <= 3:
            raise UsageError(f"pose_dims must be 0..3 (yaw, pitch, roll), got {self.pose_dims}")
        from . import augment

        unknown = [a for a in self.augment if a not in augment.AUGMENTS]
        if unknown:
            raise UsageError(f"unknown augmentation {unknown[0]!r} (known: {', '.join(augment.AUGMENTS)})")

    @property
    def output_side(self) -> int:
        """The side of the textures G makes (the convolutions' output is enlarged to it)."""
        return self.texture_side or self.resolution

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


PRESETS: dict[str, dict] = {
    # cpu-demo fits "a usable model in <= 10 minutes on 2 cores": thin convolutions (the mean
    # texture and the linear expression basis carry most of the picture) and a time budget
    # that ends training early, with a checkpoint, on a slower or busy machine.
    # Its textures are 256² (mean and linear basis; the convolutions stay at 128², enlarged): in 5-fold
    # cross-validation on the shared clip's training frames, rendered on the head, the closed-form
    # texture scored 21.98 dB at 128² (basis 64²), 23.16 at 256² (basis 64²), 23.73 (basis 128²),
    # 24.09 (basis 256²); a step costs ~12 % more CPU, the checkpoint is ~36 MB larger.
    "cpu-demo": dict(resolution=128, texture_side=256, basis_side=256, batch=8, steps=1000, channel_base=512,
                     channel_max=128,
                     d_channel_base=256, d_channel_max=128, ema_beta=0.98, checkpoint_every=200, amp=False,
                     time_budget_s=480.0),
    # gpu: measured on one H200 (tests/benchmarks/bench_gpu.py, procedural 256² data only: no real
    # subject went to the GPU): the first version (batch 32, 4x the top-level width, R1 every 4
    # steps) trained at 136 img/s and its held-out PSNR fell while it trained; this one, with D's
    # strided levels, at 808 img/s, its held-out PSNR level or rising over 45 s. 2500 steps of 128
    # take about 7 minutes there. What is left of a step: elementwise work and R1's double backward.
    "gpu": dict(resolution=256, batch=128, steps=2500, channel_base=4096, channel_max=256,
                d_channel_base=4096, d_channel_max=256, w_dim=256, r1_every=16, ema_beta=0.999,
                checkpoint_every=500),
    "gpu-hq": dict(resolution=512, batch=16, steps=50000, channel_base=32768, channel_max=512,
                   d_channel_base=32768, d_channel_max=512, w_dim=512, ema_beta=0.999, checkpoint_every=2000),
}


def make_config(preset: str = "cpu-demo", toml_path: Path | None = None, **overrides) -> GanConfig:
    """Preset values, then the TOML file's, then CLI overrides (None means not given)."""
    if preset not in PRESETS:
        raise UsageError(f"unknown preset {preset!r} (choose from {', '.join(PRESETS)})")
    values = dict(PRESETS[preset], preset=preset)
    if toml_path is not None:
        values.update(_read_toml(Path(toml_path)))
    values.update({k: v for k, v in overrides.items() if v is not None})
    return from_dict(values)


def from_dict(values: dict) -> GanConfig:
    names = {f.name for f in dataclasses.fields(GanConfig)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise UsageError(f"unknown training option {unknown[0]!r}")
    try:
        return GanConfig(**values)
    except TypeError as exc:
        raise UsageError(f"bad training options: {exc}") from None


def _read_toml(path: Path) -> dict:
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise UsageError(f"config file not found: {path}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"config file {path} is not valid TOML: {exc}") from None
    return data.get("train", data)
