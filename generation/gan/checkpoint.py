"""GeneratorCheckpoint: a plain dict of tensors, config and data stats, stored in the vault.

Written with torch.save into memory and put into the vault in one atomic `put`; read back
with `torch.load(weights_only=True)`, so loading never runs pickled code. A checkpoint
names its subject (vault id) and format version; anything else is refused.

Version 2 added the head pose to the generator's convolutional part (config `pose_dims`, G's
`pose_mean`/`pose_std` buffers, D's wider projection). A version 1 checkpoint is read as a
code-only model (`pose_dims = 0`): it makes the same frames as before and resumes exactly.
"""

from __future__ import annotations

import io

import torch

from assets.errors import MemorialError, UsageError
from .config import GanConfig, from_dict

FORMAT = "GeneratorCheckpoint"
VERSION = 2
READABLE = (1, 2)
DEFAULT_NAME = "current"


class CheckpointError(MemorialError):
    exit_code = 2


def key_for(name: str) -> str:
    if not name or "/" in name or any(ord(c) < 33 for c in name):
        raise UsageError(f"invalid checkpoint name {name!r}")
    return f"checkpoint/{name}"


def to_bytes(ckpt: dict) -> bytes:
    buf = io.BytesIO()
    torch.save(ckpt, buf)
    return buf.getvalue()


def from_bytes(data: bytes, subject_id: str | None = None, where: str = "checkpoint") -> dict:
    try:
        ckpt = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises several types for foreign or damaged data
        raise CheckpointError(f"{where} is not a generator checkpoint ({type(exc).__name__})") from None
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise CheckpointError(f"{where} is not a generator checkpoint")
    if ckpt.get("version") not in READABLE:
        raise CheckpointError(f"{where} has format version {ckpt.get('version')}; this program reads "
                              f"{', '.join(map(str, READABLE))}: train again")
    if subject_id is not None and ckpt.get("subject_id") != subject_id:
        raise CheckpointError(f"{where} belongs to another subject ({ckpt.get('subject')!r}); refusing to use it")
    return _upgrade(ckpt) if ckpt["version"] == 1 else ckpt


def _upgrade(ckpt: dict) -> dict:
    """Version 1 -> 2 in memory: a code-only model (pose_dims 0) with empty pose statistics."""
    empty = {"pose_mean": torch.zeros(0), "pose_std": torch.ones(0)}
    out = {**ckpt, "version": VERSION, "config": {**ckpt["config"], "pose_dims": 0},
           "stats": {**ckpt.get("stats", {}), **empty}, "G_ema": {**ckpt["G_ema"], **empty}}
    if "train" in ckpt:
        out["train"] = {**ckpt["train"], "G": {**ckpt["train"]["G"], **empty}}
    return out


def save(vault, key: str, ckpt: dict) -> None:
    vault.put(key, to_bytes(ckpt), kind="checkpoint",
              meta={"step": int(ckpt["step"]), "preset": ckpt["config"]["preset"],
                    "resolution": int(ckpt["config"]["resolution"])})


def load(vault, key: str) -> dict:
    try:
        data = vault.get(key)  # get() re-reads the index, so checkpoints of other processes are seen
    except KeyError:
        raise UsageError(f"subject '{vault.name}' has no {key}: train first with `memorial train {vault.name}`") from None
    return from_bytes(data, vault.vault_id, where=key)


def config_of(ckpt: dict) -> GanConfig:
    return from_dict(dict(ckpt["config"]))


def generator_from(ckpt: dict, device: str | torch.device = "cpu"):
    """The EMA generator of a checkpoint, in eval mode."""
    from .networks import Generator

    g = Generator(config_of(ckpt))
    g.load_state_dict(ckpt["G_ema"])
    g = g.to(device).eval().requires_grad_(False)
    if torch.device(device).type == "cuda":  # NHWC for tensor cores (unmeasured here: no GPU on this machine)
        g = g.to(memory_format=torch.channels_last)
    return g
