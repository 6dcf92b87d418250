"""SubjectDataset -> training tensors at the preset's resolution, plus the stats a checkpoint keeps."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from assets.artifacts import KEYS, ArtifactError, SubjectDataset
from assets.errors import UsageError

NO_DATA_HINT = ("ingest photos or a video first, e.g. `memorial ingest NAME photo.jpg` "
                "(it fits the head too; or `memorial subject fit NAME` after `--no-fit`)")


POSE_STD_FLOOR = 0.5  # degrees: a subject seen at one pose only does not make G hypersensitive to it


class NoUsableSamples(UsageError):
    pass


@dataclass
class TrainingData:
    uv: torch.Tensor  # [N,3,R,R] float32 in -1..1
    mask: torch.Tensor  # [N,1,R,R] float32 0/1
    codes: torch.Tensor  # [N,E] float32
    pose: torch.Tensor  # [N,3] float32 yaw, pitch, roll in degrees (source camera)
    synthetic: torch.Tensor  # [N] bool
    train_idx: torch.Tensor  # [n_train] int64, indices into the tensors above
    holdout_idx: torch.Tensor  # [n_hold] int64
    digest: str  # sha256 of the dataset bytes, so a resume on other data is refused
    source_index: np.ndarray = None  # [N] index of each usable sample in the SubjectDataset

    def stats(self) -> dict:
        """What a checkpoint keeps about its data (tensors and plain values only)."""
        m = self.mask[self.train_idx]
        x = self.uv[self.train_idx]
        seen = m.sum(0)  # [1,R,R]
        global_mean = (x * m).sum((0, 2, 3)) / m.sum().clamp_min(1)  # [3]
        mean = torch.where(seen > 0, (x * m).sum(0) / seen.clamp_min(1), global_mean.view(3, 1, 1))
        codes = self.codes[self.train_idx]
        pose = self.pose[self.train_idx]
        return {"mean_texture": mean.unsqueeze(0).contiguous(), "code_mean": codes.mean(0),
                "code_std": codes.std(0, unbiased=False), "coverage": (seen > 0).float(),
                "pose_mean": pose.mean(0), "pose_std": pose.std(0, unbiased=False).clamp_min(POSE_STD_FLOOR),
                "train_idx": self.train_idx.clone(), "holdout_idx": self.holdout_idx.clone(),
                "n_samples": int(len(self.uv)), "dataset_sha256": self.digest}


def load_dataset(vault) -> tuple[SubjectDataset, bytes]:
    try:
        raw = vault.get(KEYS["dataset"])
    except KeyError:
        raise NoUsableSamples(f"subject '{vault.name}' has no dataset yet: {NO_DATA_HINT}") from None
    try:
        return SubjectDataset.from_bytes(raw), raw
    except ArtifactError as exc:
        raise UsageError(f"the stored dataset cannot be read ({exc}); re-run `memorial subject fit {vault.name}`") from None


def prepare(ds: SubjectDataset, resolution: int, min_quality: float, holdout: float, seed: int,
            digest: str = "") -> TrainingData:
    """Keep usable samples, resize to the training side, split off held-out samples.

    Held-out samples are real photos when there are at least 5 of them; otherwise (single-photo
    subjects) they are drawn from the synthetic renders so the one real photo stays in training.
    """
    usable = np.flatnonzero((ds.quality >= min_quality) & (ds.mask.reshape(len(ds), -1).max(1) > 0))
    if len(usable) < 1:
        raise NoUsableSamples(f"no usable samples ({len(ds)} in the dataset, none with quality >= {min_quality} "
                              f"and visible texels): {NO_DATA_HINT}")
    uv = torch.from_numpy(ds.uv[usable]).permute(0, 3, 1, 2).float() / 127.5 - 1  # [N,3,H,W]
    mask = torch.from_numpy(ds.mask[usable]).unsqueeze(1).float() / 255.0  # [N,1,H,W]
    if uv.shape[-1] != resolution or uv.shape[-2] != resolution:
        uv = F.interpolate(uv, size=(resolution, resolution), mode="area" if uv.shape[-1] > resolution else "bilinear")
        mask = F.interpolate(mask, size=(resolution, resolution), mode="area" if mask.shape[-1] > resolution else "bilinear")
    mask = (mask > 0.5).float()
    n = len(usable)
    synthetic = torch.from_numpy(ds.synthetic[usable].astype(bool))
    rng = np.random.default_rng(seed)
    real = np.flatnonzero(~synthetic.numpy())
    pool = real if len(real) >= 5 else np.flatnonzero(synthetic.numpy())
    n_hold = int(round(holdout * n)) if n >= 5 else 0
    n_hold = min(n_hold, len(pool))
    hold = np.sort(rng.choice(pool, size=n_hold, replace=False)) if n_hold else np.zeros(0, dtype=np.int64)
    train = np.setdiff1d(np.arange(n), hold)
    return TrainingData(uv=uv.contiguous(), mask=mask.contiguous(),
                        codes=torch.from_numpy(ds.codes[usable].astype(np.float32)),
                        pose=torch.from_numpy(ds.pose[usable, :3].astype(np.float32)), synthetic=synthetic,
                        train_idx=torch.from_numpy(train.astype(np.int64)),
                        holdout_idx=torch.from_numpy(hold.astype(np.int64)), digest=digest, source_index=usable)


def digest(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()
