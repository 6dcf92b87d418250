"""GeneratorCheckpoint + ExpressionTrack -> FrameSequence, in batches, without flicker.

Flicker comes from two places: a different z per frame (the generator's free variation
jumps) and jittery codes. So one z serves the whole sequence, and the codes are smoothed
with a small Gaussian over time (sigma in frames; visemes survive sigma ~1 at 30 fps).
"""

from __future__ import annotations

import contextlib

import numpy as np
import torch

from assets import expression
from assets import vault_door
from assets.artifacts import KEYS, ExpressionTrack, FrameSequence
from . import checkpoint


def smooth_codes(codes: np.ndarray, sigma: float) -> np.ndarray:
    """[T,E] -> [T,E] Gaussian-smoothed along time (edges held), then clipped to valid ranges."""
    assert codes.ndim == 2 and codes.shape[1] == expression.E, codes.shape
    if sigma <= 0 or len(codes) < 2:
        return expression.clip(codes)
    from scipy.ndimage import gaussian_filter1d

    return expression.clip(gaussian_filter1d(codes.astype(np.float32), sigma, axis=0, mode="nearest"))


def sequence_z(z_dim: int, seed: int | None, truncation: float) -> torch.Tensor:
    """One z for a whole sequence: zero (the reconstruction-trained mean face) unless truncation > 0."""
    if seed is None or truncation <= 0:
        return torch.zeros(1, z_dim)
    return torch.randn(1, z_dim, generator=torch.Generator().manual_seed(seed)) * truncation


def to_uint8(x: torch.Tensor) -> np.ndarray:
    """[N,3,H,W] in -1..1 (any device, any float dtype) -> [N,H,W,3] uint8 on the CPU."""
    return ((x.float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()


def source_pose(generator, track_pose: np.ndarray) -> np.ndarray:
    """A track's head motion [T,6] -> the pose G is conditioned on [T,3] (degrees in the source camera).

    A track's pose is motion around a rest pose (idle sway, a nod while speaking, a driving video's own
    framing), while G knows poses as the subject's photos saw them: the track's median becomes her
    mean training pose and its motion is added on top."""
    angles = np.asarray(track_pose, np.float32)[:, :3]
    mean = np.zeros(3, np.float32)
    mean[: generator.pose_dims] = generator.pose_mean.detach().cpu().numpy()
    return angles - np.median(angles, axis=0) + mean if len(angles) else angles


@torch.inference_mode()
def synthesize(generator, codes: np.ndarray, z: torch.Tensor, batch: int = 64,
               pose: np.ndarray | None = None) -> np.ndarray:
    """codes [T,E], pose [T,3] degrees in the source camera (None: her mean pose) -> uint8 textures
    [T,H,W,3] with the same z for every frame."""
    assert codes.ndim == 2 and codes.shape[1] == expression.E and z.shape[0] == 1, (codes.shape, z.shape)
    assert pose is None or (pose.ndim == 2 and len(pose) == len(codes) and pose.shape[1] >= 3), pose
    device = next(generator.parameters()).device
    z = z.to(device)
    out = []
    # bf16 on CUDA (frames are 8-bit in the end); CPU stays fp32 and exact
    fast = torch.autocast("cuda", dtype=torch.bfloat16) if device.type == "cuda" else contextlib.nullcontext()
    for start in range(0, len(codes), batch):
        e = torch.from_numpy(np.ascontiguousarray(codes[start:start + batch], dtype=np.float32)).to(device)
        p = None if pose is None else torch.from_numpy(np.ascontiguousarray(pose[start:start + batch, :3],
                                                                             dtype=np.float32)).to(device)
        with fast:
            x = generator(z.expand(len(e), -1), e, p)  # [b,3,H,W]
        out.append(to_uint8(x))
    r = generator.resolution
    return np.concatenate(out) if out else np.zeros((0, r, r, 3), np.uint8)


def frames_for_track(ckpt: dict, track: ExpressionTrack, *, sigma: float = 1.0, seed: int | None = None,
                     truncation: float = 0.0, batch: int = 64, device: str = "cpu") -> FrameSequence:
    g = checkpoint.generator_from(ckpt, device)
    codes = smooth_codes(track.codes, sigma)
    frames = synthesize(g, codes, sequence_z(g.z_dim, seed, truncation), batch, source_pose(g, track.pose))
    assert frames.shape[0] == len(track.codes)
    meta = {"checkpoint_step": int(ckpt["step"]), "subject": ckpt.get("subject", ""), "smoothing_sigma": sigma,
            "z_seed": seed, "truncation": truncation, "ai_generated": True}
    return FrameSequence(fps=track.fps, frames=frames, meta=meta)


def load_track(vault, track) -> tuple[str, ExpressionTrack]:
    if isinstance(track, ExpressionTrack):
        return "", track
    return track, vault_door.read(vault, "track", track)


def generate_frames(vault, track, checkpoint_key: str = "checkpoint/current", *, sigma: float = 1.0,
                    seed: int | None = None, truncation: float = 0.0, store: bool = True) -> FrameSequence:
    """Frames for a track (an ExpressionTrack or the name of one in the vault); stored as frames/NAME."""
    name, trk = load_track(vault, track)
    ckpt = checkpoint.load(vault, checkpoint_key)
    seq = frames_for_track(ckpt, trk, sigma=sigma, seed=seed, truncation=truncation)
    seq.meta.update({"checkpoint": checkpoint_key, "track": name})
    if store and name:
        vault.put(KEYS["frames"].format(name=name), seq.to_bytes(), kind="frames",
                  meta={"frames": len(seq.frames), "fps": seq.fps, "checkpoint": checkpoint_key})
        vault.log("frames", track=name, checkpoint=checkpoint_key, frames=len(seq.frames))
    return seq
