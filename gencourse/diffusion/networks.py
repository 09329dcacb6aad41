r"""Denoisers :math:`\varepsilon_\theta(x_t, t)`: networks that read a noisy input and its integer time step.

They know nothing about the diffusion process that trains them (:class:`~gencourse.diffusion.DDPM`
takes one as an argument). Both see the time step through the sinusoidal embedding of the
Transformer (Vaswani et al., 2017), as in Ho et al. (2020)  (eq:time-embedding):

.. math::

    e(t)_{2i} = \sin(t\, \omega_i), \quad e(t)_{2i+1} = \cos(t\, \omega_i), \qquad
    \omega_i = 10000^{-i / (d/2)}, \quad i = 0, \dots, d/2 - 1,

(stored as all the sines, then all the cosines) a smooth code in which nearby steps look
alike and which a network can read at every scale of :math:`t`.

- :class:`MLPDenoiser` for points in :math:`\mathbb{R}^d` (the 2-D data sets of the course);
- :class:`UNet` for images: a small U-Net (Ronneberger et al., 2015) in the style of Ho et
  al.: residual blocks with GroupNorm and SiLU, the time embedding added inside every block,
  strided convolutions down, transposed convolutions up, skip connections by concatenation and
  an optional self-attention block at the coarsest resolution.

Each has a ``config`` (the keyword arguments that rebuild it) and a ``data_shape`` (the shape of
one example); :data:`DENOISERS` names them so that a DDPM can rebuild its network from its config.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from gencourse.nets import mlp


def timestep_embedding(t: torch.Tensor, dim: int, max_period: float = 10_000.0) -> torch.Tensor:
    """The sinusoidal embedding of integer time steps ``t`` of shape ``(B,)``: ``(B, dim)``  (eq:time-embedding)."""
    if t.dtype.is_floating_point or t.dtype == torch.bool or t.dim() != 1:
        raise ValueError(f"time steps must be a 1-D tensor of integers, got dtype {t.dtype} and shape "
                         f"{tuple(t.shape)}; pass torch.full((batch,), t) or torch.randint(1, T + 1, (batch,))")
    if dim % 2:
        raise ValueError(f"the embedding holds sine-cosine pairs: dim must be even, got {dim}")
    half = dim // 2
    # float32 whatever the default dtype, so that a model cast to float64 sees the same features
    omega = torch.exp(-math.log(max_period) * torch.arange(half, device=t.device, dtype=torch.float32) / half)
    angles = t[:, None].float() * omega  # (B, half); integers up to 2^24 are exact in float32
    return torch.cat([angles.sin(), angles.cos()], dim=1)  # (B, dim)  (eq:time-embedding)


class TimeEmbedding(nn.Module):
    """``t -> MLP(sinusoidal(t))``: ``(B,)`` integers to ``(B, out_dim)`` features, in the dtype of the weights."""

    def __init__(self, sinusoid_dim: int, out_dim: int) -> None:
        super().__init__()
        self.sinusoid_dim = sinusoid_dim
        self.net = nn.Sequential(nn.Linear(sinusoid_dim, out_dim), nn.SiLU(), nn.Linear(out_dim, out_dim))

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        e = timestep_embedding(t, self.sinusoid_dim).to(self.net[0].weight.dtype)
        return self.net(e)


class MLPDenoiser(nn.Module):
    """``eps_theta(x_t, t)`` for points ``(B, dim)``: an MLP with SiLU on ``[x_t, embedding(t)]``.

    The time step enters once, as ``time_dim`` extra inputs; for 2-D data that is enough
    (the network is small next to what a data set of a few thousand points needs).
    """

    def __init__(self, dim: int = 2, hidden: Sequence[int] = (128, 128, 128), time_dim: int = 32) -> None:
        super().__init__()
        self.dim, self.hidden, self.time_dim = int(dim), tuple(int(h) for h in hidden), int(time_dim)
        self.data_shape = (self.dim,)
        self.time_embedding = TimeEmbedding(self.time_dim, self.time_dim)
        self.net = mlp([self.dim + self.time_dim, *self.hidden, self.dim], activation=nn.SiLU)

    @property
    def config(self) -> dict[str, object]:
        """The keyword arguments that rebuild this network (JSON-friendly)."""
        return {"dim": self.dim, "hidden": list(self.hidden), "time_dim": self.time_dim}

    def forward(self, x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """``eps_theta(x_t, t)``: ``(B, dim)`` from ``(B, dim)`` and integer ``(B,)``."""
        return self.net(torch.cat([x_t, self.time_embedding(t)], dim=1))  # (B, dim + time_dim) -> (B, dim)


class ResidualBlock(nn.Module):
    """``x + F(x, t)``: two 3x3 convolutions, each after GroupNorm and SiLU, the time embedding added between.

    The embedding enters every block, through its own linear map to one shift per channel.
    A 1x1 convolution matches the channels of the shortcut when they change.
    """

    def __init__(self, in_channels: int, out_channels: int, time_dim: int, groups: int) -> None:
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, in_channels)
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.time = nn.Linear(time_dim, out_channels)
        self.norm2 = nn.GroupNorm(groups, out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1)
        self.shortcut = nn.Conv2d(in_channels, out_channels, 1) if in_channels != out_channels else nn.Identity()

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.time(F.silu(emb))[:, :, None, None]  # (B, C_out, 1, 1): one shift per channel
        h = self.conv2(F.silu(self.norm2(h)))
        return self.shortcut(x) + h


class SelfAttention(nn.Module):
    """``x + proj(softmax(q k^T / sqrt(C)) v)`` over the ``H * W`` positions of a feature map, one head."""

    def __init__(self, channels: int, groups: int) -> None:
        super().__init__()
        self.norm = nn.GroupNorm(groups, channels)
        self.qkv = nn.Conv2d(channels, 3 * channels, 1)
        self.proj = nn.Conv2d(channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        q, k, v = self.qkv(self.norm(x)).flatten(2).transpose(1, 2).chunk(3, dim=2)  # each (B, HW, C)
        a = F.scaled_dot_product_attention(q, k, v)  # (B, HW, C)
        return x + self.proj(a.transpose(1, 2).reshape(b, c, h, w))


class UNet(nn.Module):
    """``eps_theta(x_t, t)`` for images ``(B, C, H, W)``: a small U-Net with the time embedding in every block.

    Level ``i`` works at side ``H / 2^i`` with ``channels[i]`` channels: for MNIST and the
    default ``(16, 32, 96)``, 28x28, 14x14 and 7x7. Going down, each level runs ``n_blocks``
    residual blocks and keeps the output of each for a skip connection, then halves the side
    with a stride-2 convolution; the coarsest level adds a middle of two blocks (with
    self-attention between them if ``attention``); going up, each block reads its features
    concatenated with one kept skip, and a transposed convolution doubles the side. The output
    has the input's shape. ``H`` and ``W`` must be divisible by ``2^(len(channels) - 1)``.

    The defaults (about a million parameters) are sized for a CPU: a 3x3 convolution costs
    ``H W C_in C_out`` per image, so width is cheap at 7x7 and dear at 28x28; ``(32, 64, 64)``
    would double the time of a forward pass for fewer parameters.
    """

    def __init__(
        self,
        image_shape: Sequence[int] = (1, 28, 28),
        channels: Sequence[int] = (16, 32, 96),
        n_blocks: int = 1,
        time_dim: int = 128,
        groups: int = 8,
        attention: bool = True,
    ) -> None:
        super().__init__()
        self.image_shape, self.channels = tuple(int(s) for s in image_shape), tuple(int(c) for c in channels)
        self.n_blocks, self.time_dim, self.groups, self.attention = int(n_blocks), int(time_dim), int(groups), attention
        self.data_shape = self.image_shape
        if len(self.image_shape) != 3:
            raise ValueError(f"image_shape is (channels, height, width), got {list(image_shape)}")
        if not self.channels or self.n_blocks < 1:
            raise ValueError(f"the U-Net needs at least one level and one block, got channels={list(channels)}, "
                             f"n_blocks={n_blocks}")
        if any(c % self.groups for c in self.channels):
            raise ValueError(f"GroupNorm splits channels into {self.groups} groups: every entry of channels "
                             f"{list(self.channels)} must be divisible by groups={self.groups}")
        C, H, W = self.image_shape
        factor = 2 ** (len(self.channels) - 1)
        if H % factor or W % factor:
            raise ValueError(f"{len(self.channels)} levels halve the side {len(self.channels) - 1} times; "
                             f"{H}x{W} is not divisible by {factor}; choose fewer channels entries")
        c0 = self.channels[0]
        self.time_embedding = TimeEmbedding(self.time_dim, self.time_dim)
        self.conv_in = nn.Conv2d(C, c0, 3, padding=1)
        self.down_blocks, self.downsample = nn.ModuleList(), nn.ModuleList()
        c_prev = c0
        for i, c in enumerate(self.channels):
            self.down_blocks.append(nn.ModuleList(
                ResidualBlock(c_prev if j == 0 else c, c, self.time_dim, self.groups) for j in range(self.n_blocks)))
            c_prev = c
            if i < len(self.channels) - 1:
                self.downsample.append(nn.Conv2d(c, c, 3, stride=2, padding=1))  # side / 2
        c_last = self.channels[-1]
        self.middle1 = ResidualBlock(c_last, c_last, self.time_dim, self.groups)
        self.middle_attention = SelfAttention(c_last, self.groups) if attention else nn.Identity()
        self.middle2 = ResidualBlock(c_last, c_last, self.time_dim, self.groups)
        self.up_blocks, self.upsample = nn.ModuleList(), nn.ModuleList()
        for i in reversed(range(len(self.channels))):
            c = self.channels[i]
            self.up_blocks.append(nn.ModuleList(
                ResidualBlock(2 * c, c, self.time_dim, self.groups) for _ in range(self.n_blocks)))
            if i > 0:
                self.upsample.append(nn.ConvTranspose2d(c, self.channels[i - 1], 4, stride=2, padding=1))  # side * 2
        self.norm_out = nn.GroupNorm(self.groups, c0)
        self.conv_out = nn.Conv2d(c0, C, 3, padding=1)

    @property
    def config(self) -> dict[str, object]:
        """The keyword arguments that rebuild this network (JSON-friendly)."""
        return {"image_shape": list(self.image_shape), "channels": list(self.channels), "n_blocks": self.n_blocks,
                "time_dim": self.time_dim, "groups": self.groups, "attention": self.attention}

    def forward(self, x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """``eps_theta(x_t, t)``: ``(B, C, H, W)`` from ``(B, C, H, W)`` and integer ``(B,)``."""
        emb = self.time_embedding(t)  # (B, time_dim)
        h = self.conv_in(x_t)  # (B, c0, H, W)
        skips = []
        for i, blocks in enumerate(self.down_blocks):
            for block in blocks:
                h = block(h, emb)
                skips.append(h)
            if i < len(self.downsample):
                h = self.downsample[i](h)
        h = self.middle2(self.middle_attention(self.middle1(h, emb)), emb)
        for i, blocks in enumerate(self.up_blocks):
            for block in blocks:
                h = block(torch.cat([h, skips.pop()], dim=1), emb)  # (B, 2c, side, side) -> (B, c, side, side)
            if i < len(self.upsample):
                h = self.upsample[i](h)
        return self.conv_out(F.silu(self.norm_out(h)))


DENOISERS: dict[str, type[nn.Module]] = {"mlp": MLPDenoiser, "unet": UNet}
