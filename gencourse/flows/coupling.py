r"""Affine coupling layers with binary masks (Dinh et al., 2017, "RealNVP"), and a coupling flow for vectors.

A binary mask :math:`b` splits the input in two. The half that the mask keeps passes unchanged
and parametrises an elementwise affine map of the other half  (eq:coupling):

.. math::

    z = b \odot x + (1 - b) \odot \big(x \odot e^{s(b \odot x)} + t(b \odot x)\big).

Each output depends on inputs of its own half and of the kept half only, so the Jacobian is
triangular (in a suitable order) with diagonal :math:`1` on the kept half and
:math:`e^{s}` on the other. Its log-determinant costs one sum  (eq:coupling-logdet):

.. math::

    \log \left| \det \frac{\partial z}{\partial x} \right| = \sum_i (1 - b_i)\, s_i(b \odot x),

and the inverse needs no inversion of :math:`s` or :math:`t`, which may be any networks
(eq:coupling-inverse): :math:`x = b \odot z + (1 - b) \odot (z - t(b \odot z)) \odot e^{-s(b \odot z)}`.
Successive layers alternate the mask, so that every coordinate is transformed.

Departures from the paper, both as in its public implementations: the log-scale is
:math:`s = \sigma \tanh(\tilde s)` with a learned per-channel :math:`\sigma` (it keeps early steps
from exploding), and the last layer of the conditioner starts at zero, so that every coupling
starts as the identity.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from gencourse.flows.base import Bijection, Chain, Flow, per_example_sum
from gencourse.nets import mlp


def alternating_masks(dim: int, n: int) -> list[torch.Tensor]:
    """``n`` masks over ``dim`` coordinates: the first half kept, then the second, alternating."""
    if dim < 2:
        raise ValueError(f"a mask splits the coordinates in two halves; {dim} coordinate(s) cannot be split")
    first = (torch.arange(dim) < dim // 2).float()
    return [first if k % 2 == 0 else 1 - first for k in range(n)]


def checkerboard_mask(channels: int, height: int, width: int, parity: int = 0) -> torch.Tensor:
    """A ``(channels, height, width)`` mask that keeps the pixels with ``(i + j) % 2 == parity``."""
    i, j = torch.meshgrid(torch.arange(height), torch.arange(width), indexing="ij")
    return ((i + j) % 2 == parity).float().expand(channels, height, width).clone()


def channel_mask(channels: int, height: int, width: int, parity: int = 0) -> torch.Tensor:
    """A ``(channels, height, width)`` mask that keeps the first half of the channels (second if ``parity``)."""
    if channels % 2:
        raise ValueError(f"a channel mask splits the channels in two halves; {channels} channels is odd")
    keep = (torch.arange(channels) < channels // 2).float()
    keep = keep if parity == 0 else 1 - keep
    return keep[:, None, None].expand(channels, height, width).clone()


class AffineCoupling(Bijection):
    """One affine coupling layer  (eq:coupling).

    ``conditioner`` maps the masked input (any shape ``(B, *mask.shape)``) to twice as many
    channels (dimension 1): the raw log-scale and the shift, each of the input's shape.
    """

    def __init__(self, mask: torch.Tensor, conditioner: nn.Module) -> None:
        super().__init__()
        self.register_buffer("mask", mask.float())
        self.conditioner = conditioner
        channels = mask.shape[0]
        self.scale = nn.Parameter(torch.ones(channels, *[1] * (mask.dim() - 1)))  # sigma of s = sigma tanh(.)

    def scale_and_shift(self, x_kept: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``s`` and ``t`` of the kept half, zeroed on the kept coordinates (they pass unchanged)."""
        s_raw, t = self.conditioner(x_kept).chunk(2, dim=1)
        free = 1 - self.mask
        return free * self.scale * torch.tanh(s_raw), free * t

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        s, t = self.scale_and_shift(self.mask * x)
        z = self.mask * x + (1 - self.mask) * (x * s.exp() + t)  # (eq:coupling)
        return z, per_example_sum(s)  # (eq:coupling-logdet): s is zero on the kept half

    def inverse(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        s, t = self.scale_and_shift(self.mask * z)  # the kept half is the same in z and x
        x = self.mask * z + (1 - self.mask) * (z - t) * (-s).exp()  # (eq:coupling-inverse)
        return x, -per_example_sum(s)


class ActNorm(Bijection):
    """A per-channel affine map ``z = (x - m) * exp(-log_sd)``, initialised from the first batch it sees.

    Kingma & Dhariwal (2018): after the first batch every channel has mean 0 and variance 1,
    which keeps a deep flow's activations in a good range without batch statistics.
    """

    def __init__(self, channels: int, event_dims: int = 1) -> None:
        super().__init__()
        shape = (1, channels, *[1] * (event_dims - 1))
        self.m = nn.Parameter(torch.zeros(shape))
        self.log_sd = nn.Parameter(torch.zeros(shape))
        self.register_buffer("initialized", torch.tensor(False))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if not self.initialized and self.training:
            if x[:, 0].numel() < 2:
                raise ValueError("ActNorm sets its scale from the spread of the first batch it sees, per channel; "
                                 "a batch with one value per channel has none: train with a larger batch")
            with torch.no_grad():
                dims = [0, *range(2, x.dim())]  # every dimension but the channel
                self.m.copy_(x.mean(dims, keepdim=True))
                self.log_sd.copy_(x.std(dims, keepdim=True).clamp_min(1e-3).log())
                self.initialized.fill_(True)
        z = (x - self.m) * (-self.log_sd).exp()
        pixels = x[0, 0].numel()
        return z, (-self.log_sd.sum() * pixels).expand(x.shape[0])

    def inverse(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = z * self.log_sd.exp() + self.m
        pixels = z[0, 0].numel()
        return x, (self.log_sd.sum() * pixels).expand(z.shape[0])


class MLPConditioner(nn.Module):
    """``(B, D) -> (B, 2D)``: an MLP whose last layer starts at zero (the coupling starts as the identity)."""

    def __init__(self, dim: int, hidden: Sequence[int]) -> None:
        super().__init__()
        self.net = mlp([dim, *hidden, 2 * dim])
        nn.init.zeros_(self.net[-1].weight)
        nn.init.zeros_(self.net[-1].bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class CouplingFlow(Flow):
    """A RealNVP-style flow on vectors of size ``dim``: ``n_layers`` affine couplings with alternating masks.

    With ``actnorm`` an :class:`ActNorm` follows each coupling.
    """

    def __init__(self, dim: int = 2, n_layers: int = 8, hidden: Sequence[int] = (64, 64), actnorm: bool = False):
        super().__init__()
        if dim < 2:
            raise ValueError(f"a coupling flow needs at least 2 dimensions to split, got dim={dim}")
        if n_layers < 1:
            raise ValueError(f"n_layers must be at least 1, got {n_layers}")
        self.config = {"dim": dim, "n_layers": n_layers, "hidden": list(hidden), "actnorm": actnorm}
        self.event_shape = self.latent_shape = (dim,)
        layers: list[Bijection] = []
        for mask in alternating_masks(dim, n_layers):
            layers.append(AffineCoupling(mask, MLPConditioner(dim, hidden)))
            if actnorm:
                layers.append(ActNorm(dim))
        self.transform = Chain(layers)
