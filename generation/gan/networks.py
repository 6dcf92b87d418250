"""Generator and discriminator for one subject's face texture in the head's UV space.

G(z, e): a mapping MLP turns [z, e, identity latent] into a style w; a learned 4x4 constant
is upsampled to the texture side with convolutions whose channels are modulated by w
(FiLM). The output is the subject's mean texture (a buffer from the data stats) plus a learned
linear texture basis driven by the code (at most 64², upsampled) plus the convolutional
residual: a short CPU run starts from the right person, the linear part learns the bulk of
each expression's texture change within minutes, and the convolutions (trained with the
adversarial loss) add what is not linear.
The convolutional part also sees the head pose (yaw, pitch, roll in the source camera): in a
real unwrap, shading and self-occlusion change with pose, which no function of the expression
code can model (held-out frames of the shared clip face the camera at another pitch than the
training ones). The linear part stays code-only, so "G without its convolutions" is the plain
code basis and the difference between them is what the convolutions add. (On the shared clip
the pose added +0.03 dB: what differs there from frame to frame is in neither code nor pose.)
The texture may be larger than the convolutions' side (`texture_side`): the mean texture and the
basis keep the photos' detail, the convolutions' output is enlarged to it.
The identity latent is one learned vector: every frame is the same person by construction.

D(x, e, pose): sees the masked texture and the mask (4 channels), so it only judges texels that
a photo actually showed; its score is a plain linear output plus a projection term
<embed([e, pose]), features> (Miyato & Koyama 2018) that makes it judge "this face for this code
at this pose".
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from assets import expression
from .config import GanConfig

E = expression.E


def _channels(res: int, base: int, cap: int) -> int:
    return max(4, min(cap, base // res))


class _StyledBlock(nn.Module):
    """Optional 2x upsample, 3x3 conv, pixel norm, FiLM from w, leaky ReLU."""

    def __init__(self, c_in: int, c_out: int, w_dim: int, up: bool):
        super().__init__()
        self.up = up
        self.conv = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.film = nn.Linear(w_dim, 2 * c_out)
        nn.init.zeros_(self.film.weight)
        nn.init.zeros_(self.film.bias)

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        if self.up:
            x = F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False)
        x = self.conv(x)
        x = x * torch.rsqrt(x.pow(2).mean(dim=1, keepdim=True) + 1e-8)  # pixel norm keeps features ~1
        scale, shift = self.film(w).unsqueeze(-1).unsqueeze(-1).chunk(2, dim=1)  # [B,C,1,1] each
        return F.leaky_relu(x * (1 + scale) + shift, 0.2)


class Generator(nn.Module):
    def __init__(self, cfg: GanConfig):
        super().__init__()
        self.resolution = cfg.output_side  # the texture's side; the convolutions work at cfg.resolution
        self.conv_side = cfg.resolution
        self.z_dim = cfg.z_dim
        self.pose_dims = cfg.pose_dims
        self.identity = nn.Parameter(torch.randn(cfg.id_dim) * 0.1)  # per-subject identity latent
        self.mapping = nn.Sequential(
            nn.Linear(cfg.z_dim + E + cfg.pose_dims + cfg.id_dim, cfg.w_dim), nn.LeakyReLU(0.2),
            nn.Linear(cfg.w_dim, cfg.w_dim), nn.LeakyReLU(0.2),
            nn.Linear(cfg.w_dim, cfg.w_dim), nn.LeakyReLU(0.2),
        )
        ch = lambda r: _channels(r, cfg.channel_base, cfg.channel_max)  # noqa: E731
        self.const = nn.Parameter(torch.randn(1, ch(4), 4, 4))
        self.project = nn.Linear(cfg.w_dim, ch(4) * 16)  # w also enters spatially, not only as FiLM
        blocks = [_StyledBlock(ch(4), ch(4), cfg.w_dim, up=False)]
        for k in range(3, int(math.log2(cfg.resolution)) + 1):
            blocks.append(_StyledBlock(ch(2 ** (k - 1)), ch(2 ** k), cfg.w_dim, up=True))
        self.blocks = nn.ModuleList(blocks)
        self.to_rgb = nn.Conv2d(ch(cfg.resolution), 3, 1)
        nn.init.zeros_(self.to_rgb.weight)
        nn.init.zeros_(self.to_rgb.bias)
        rb = min(self.resolution, cfg.basis_side)
        self.basis = nn.Parameter(torch.zeros(E, 3, rb, rb))  # linear expression texture basis
        self.register_buffer("mean_texture", torch.zeros(1, 3, self.resolution, self.resolution))
        self.register_buffer("code_mean", torch.zeros(E))
        self.register_buffer("pose_mean", torch.zeros(cfg.pose_dims))  # degrees, of the training samples
        self.register_buffer("pose_std", torch.ones(cfg.pose_dims))

    def pose_input(self, pose: torch.Tensor | None, batch: int) -> torch.Tensor:
        """pose [B,>=P] degrees (yaw, pitch, roll, ...) or None (the training mean) -> [B,P] standardised,
        clipped to +-3 so a pose far outside the data is not extrapolated."""
        p = self.pose_dims
        if pose is None or p == 0:
            return self.pose_mean.new_zeros(batch, p)
        assert pose.ndim == 2 and pose.shape[0] == batch and pose.shape[1] >= p, (pose.shape, batch, p)
        return ((pose[:, :p] - self.pose_mean) / self.pose_std).clamp(-3, 3)

    def forward(self, z: torch.Tensor, e: torch.Tensor, pose: torch.Tensor | None = None,
                conv_side: bool = False) -> torch.Tensor:
        """z [B,Z], e [B,E], pose [B,P] degrees or None -> texture [B,3,S,S] in -1..1 (not clamped).
        With conv_side the texture is made at the convolutions' side R instead (what D and the
        reconstruction loss see in training): the mean and the basis area-averaged to R, which is
        cheaper than making S² and averaging it, and the same up to the convolutions' enlargement."""
        assert z.ndim == 2 and z.shape[1] == self.z_dim and e.shape == (z.shape[0], E), (z.shape, e.shape)
        ident = self.identity.unsqueeze(0).expand(z.shape[0], -1)
        w = self.mapping(torch.cat([z, e, self.pose_input(pose, z.shape[0]), ident], dim=1))  # [B,w_dim]
        x = self.const + self.project(w).view(-1, *self.const.shape[1:])  # [B,C,4,4]
        for block in self.blocks:
            x = block(x, w)
        side = self.conv_side if conv_side else self.resolution
        mean, basis = self.mean_texture, self.basis
        if mean.shape[-1] > side:
            mean = F.avg_pool2d(mean, mean.shape[-1] // side)
        if basis.shape[-1] > side:
            basis = F.avg_pool2d(basis, basis.shape[-1] // side)
        linear = torch.einsum("be,echw->bchw", e - self.code_mean, basis)  # [B,3,rb,rb]
        return mean + self._enlarged(linear, side) + self._enlarged(self.to_rgb(x), side)

    @staticmethod
    def _enlarged(x: torch.Tensor, side: int) -> torch.Tensor:
        return x if x.shape[-1] == side else F.interpolate(x, size=(side, side), mode="bilinear", align_corners=False)


class Discriminator(nn.Module):
    def __init__(self, cfg: GanConfig):
        super().__init__()
        ch = lambda r: _channels(r, cfg.d_channel_base, cfg.d_channel_max)  # noqa: E731
        r = cfg.resolution
        self.from_rgb = nn.Conv2d(4, ch(r), 1)
        layers = []
        while r > 4:
            # One 4x4 stride-2 convolution per level sees every texel and halves the side. It
            # replaced "3x3 conv at full size, then 2x2 average pool": on an H200 that pool's
            # backward alone took 17 % of a training step's GPU time, and the full-size conv
            # cost 2.25x the arithmetic (tests/benchmarks/bench_gpu.py --part profile).
            layers += [nn.Conv2d(ch(r), ch(r // 2), 4, stride=2, padding=1), nn.LeakyReLU(0.2)]
            r //= 2
        self.body = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(ch(4) * 16, ch(4)), nn.LeakyReLU(0.2))
        self.out = nn.Linear(ch(4), 1)
        self.pose_dims = cfg.pose_dims
        self.embed = nn.Linear(E + cfg.pose_dims, ch(4), bias=False)  # projection of the continuous condition

    def forward(self, x: torch.Tensor, mask: torch.Tensor, e: torch.Tensor,
                pose: torch.Tensor | None = None) -> torch.Tensor:
        """x [B,3,H,W], mask [B,1,H,W], e [B,E], pose [B,P] standardised (as G.pose_input gives) -> logits [B]."""
        assert x.ndim == 4 and mask.shape == (x.shape[0], 1, *x.shape[2:]) and e.shape == (x.shape[0], E)
        if pose is None:
            pose = e.new_zeros(len(e), self.pose_dims)
        assert pose.shape == (len(e), self.pose_dims), pose.shape
        h = F.leaky_relu(self.from_rgb(torch.cat([x * mask, mask], dim=1)), 0.2)
        h = self.head(self.body(h))  # [B,C]
        return self.out(h).squeeze(1) + (self.embed(torch.cat([e, pose], dim=1)) * h).sum(1)
