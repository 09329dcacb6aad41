"""Generators and discriminators: MLPs for 1-D and 2-D data, DCGAN convolutions for 28x28 images.

The networks know nothing about the game they play: a generator maps a latent ``z`` (and,
for a conditional one, a label ``y``) to a sample; a discriminator (or critic) maps a sample
(and a label) to one real number per example, a logit for the GAN and a score for the WGAN.

The DCGAN choices follow Radford et al. (2016): strided (transposed) convolutions instead of
pooling, batch normalisation in the generator, LeakyReLU(0.2) in the discriminator, tanh
output so images live in [-1, 1]. The discriminator's normalisation is a choice: batch
normalisation for the GAN, none (or layer normalisation) for WGAN-GP, whose penalty is per
example and is broken by a layer that mixes examples of a batch (Gulrajani et al., 2017).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from gencourse.nets import mlp


class MLPGenerator(nn.Module):
    """``z (B, latent_dim) -> x (B, data_dim)`` through an MLP with ``hidden`` ReLU layers (no output squashing)."""

    def __init__(self, latent_dim: int = 2, data_dim: int = 2, hidden: Sequence[int] = (128, 128)) -> None:
        super().__init__()
        self.net = mlp([latent_dim, *hidden, data_dim])

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(z)


class MLPDiscriminator(nn.Module):
    """``x (B, data_dim) -> (B,)``: a logit (GAN) or a score (WGAN critic), through LeakyReLU layers."""

    def __init__(self, data_dim: int = 2, hidden: Sequence[int] = (128, 128)) -> None:
        super().__init__()
        self.net = mlp([data_dim, *hidden, 1], activation=_leaky)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(x).squeeze(1)


def _leaky() -> nn.Module:
    return nn.LeakyReLU(0.2)


def _norm(kind: str, channels: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "layer":
        return nn.GroupNorm(1, channels)  # one group: normalises each example over (C, H, W)
    if kind == "none":
        return nn.Identity()
    raise ValueError(f"norm must be 'batch', 'layer' or 'none', got {kind!r}")


class DCGANGenerator(nn.Module):
    """``z (B, latent_dim) -> x (B, 1, 28, 28)`` in [-1, 1]: linear to ``(4w, 7, 7)``, two transposed convs, one conv.

    Channels ``4w -> 2w -> w`` at 7x7, 14x14 and 28x28 (``w = width``); a 3x3 convolution at full
    resolution reads the last feature maps out to one tanh channel. With ``n_classes > 0`` the
    generator is conditional: a learned embedding of the label ``y`` is concatenated to ``z``
    (Mirza & Osindero, 2014).
    """

    def __init__(self, latent_dim: int = 64, width: int = 32, n_classes: int = 0) -> None:
        super().__init__()
        self.n_classes = n_classes
        self.embed = nn.Embedding(n_classes, n_classes) if n_classes else None
        self.net = nn.Sequential(
            nn.Linear(latent_dim + n_classes, 4 * width * 7 * 7), nn.BatchNorm1d(4 * width * 7 * 7), nn.ReLU(),
            nn.Unflatten(1, (4 * width, 7, 7)),  # (B, 4w, 7, 7)
            nn.ConvTranspose2d(4 * width, 2 * width, 4, stride=2, padding=1), nn.BatchNorm2d(2 * width), nn.ReLU(),
            nn.ConvTranspose2d(2 * width, width, 4, stride=2, padding=1), nn.BatchNorm2d(width), nn.ReLU(),  # 28x28
            nn.Conv2d(width, 1, 3, padding=1), nn.Tanh(),  # (B, 1, 28, 28)
        )

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        if self.embed is not None:
            z = torch.cat([z, self.embed(y)], dim=1)
        return self.net(z)


class DCGANDiscriminator(nn.Module):
    """``x (B, 1, 28, 28) -> (B,)``: three strided convs (LeakyReLU) and a linear read-out.

    Channels ``2w -> 4w -> 8w`` at 14x14, 7x7 and 4x4 (``w = width``), the mirror of the
    generator. With ``n_classes > 0`` it is conditional through a projection (Miyato & Koyama,
    2018): the output is ``w . h(x) + e_y . h(x)`` with a learned class embedding ``e_y``.
    """

    def __init__(self, width: int = 32, norm: str = "batch", n_classes: int = 0) -> None:
        super().__init__()
        features = 8 * width * 4 * 4
        self.features = nn.Sequential(
            nn.Conv2d(1, 2 * width, 4, stride=2, padding=1), nn.LeakyReLU(0.2),  # (B, 2w, 14, 14)
            nn.Conv2d(2 * width, 4 * width, 4, stride=2, padding=1), _norm(norm, 4 * width), nn.LeakyReLU(0.2),  # 7x7
            nn.Conv2d(4 * width, 8 * width, 3, stride=2, padding=1), _norm(norm, 8 * width), nn.LeakyReLU(0.2),  # 4x4
            nn.Flatten(),  # (B, 8w * 4 * 4)
        )
        self.out = nn.Linear(features, 1)
        self.embed = nn.Embedding(n_classes, features) if n_classes else None

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        h = self.features(x)
        out = self.out(h).squeeze(1)
        if self.embed is not None:
            out = out + (self.embed(y) * h).sum(1)  # projection of the features on the class embedding
        return out
