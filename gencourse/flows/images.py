r"""A RealNVP-style flow for images, the logit transform, and likelihoods in bits per dimension.

Images reach the flow dequantised (:func:`gencourse.data.dequantize`): an 8-bit image becomes a
point :math:`y \in [0, 1]^D` drawn uniformly in its bin of side :math:`1/256`. The flow first
applies the logit transform  (eq:logit-transform)

.. math::

    u = \operatorname{logit}\big(\alpha + (1 - 2\alpha)\, y\big),

which maps the bounded pixel range onto the real line, where affine couplings live, and
counts its Jacobian like any other layer. A density :math:`p(y)` on :math:`[0,1]^D` bounds the
probability of the 8-bit image (Theis et al., 2016; eq:dequantisation-bound):
:math:`\log P(x) \ge \mathbb{E}_u \log p(y) - D \log 256`, so the reported figure is  (eq:bits-per-dim)

.. math::

    \text{bits/dim} = \frac{-\log p(y) + D \log 256}{D \log 2}.

The architecture follows Dinh et al. (2017) without factoring out: checkerboard couplings at
full resolution, then at each coarser level a squeeze (eq:squeeze) that trades space for
channels, followed by couplings that alternate checkerboard and channel masks. Every coupling
is followed by an :class:`~gencourse.flows.coupling.ActNorm`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from gencourse.data.mnist import dequantize
from gencourse.flows.base import Bijection, Chain, Flow, per_example_sum
from gencourse.flows.coupling import ActNorm, AffineCoupling, channel_mask, checkerboard_mask
from gencourse.nets import eval_mode


def bits_per_dim(log_prob: torch.Tensor, dims: int, n_bins: int = 256) -> torch.Tensor:
    """Bits per dimension of 8-bit images from the density ``log_prob`` (nats) of their dequantised versions.

    ``(-log p(y) + D log n_bins) / (D log 2)``  (eq:bits-per-dim); an upper bound on the 8-bit
    image's code length when ``log_prob`` is averaged over the dequantisation noise.
    """
    return (-log_prob + dims * math.log(n_bins)) / (dims * math.log(2))  # (eq:bits-per-dim)


class Squeeze(Bijection):
    """``(B, C, H, W) -> (B, 4C, H/2, W/2)``: each 2x2 block of pixels becomes four channels  (eq:squeeze).

    A permutation of the coordinates, so its log-determinant is 0.
    """

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        b, c, h, w = x.shape
        if h % 2 or w % 2:
            raise ValueError(f"squeezing needs an even height and width, got {h}x{w}")
        x = x.reshape(b, c, h // 2, 2, w // 2, 2).permute(0, 1, 3, 5, 2, 4)  # (B, C, 2, 2, H/2, W/2)
        return x.reshape(b, 4 * c, h // 2, w // 2), x.new_zeros(b)

    def inverse(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        b, c4, h, w = z.shape
        z = z.reshape(b, c4 // 4, 2, 2, h, w).permute(0, 1, 4, 2, 5, 3)  # (B, C, H/2, 2, W/2, 2)
        return z.reshape(b, c4 // 4, 2 * h, 2 * w), z.new_zeros(b)


class LogitTransform(Bijection):
    """``y in [0,1] -> logit(alpha + (1 - 2 alpha) y)``, with its Jacobian  (eq:logit-transform)."""

    def __init__(self, alpha: float = 1e-6) -> None:
        super().__init__()
        if not 0 <= alpha < 0.5:
            raise ValueError(f"alpha must lie in [0, 0.5), got {alpha}")
        self.alpha = alpha

    def _log_det(self, log_p: torch.Tensor, log_1_minus_p: torch.Tensor) -> torch.Tensor:
        # d logit(p)/dy = (1 - 2 alpha) / (p (1 - p)) with p = alpha + (1 - 2 alpha) y
        return per_example_sum(math.log(1 - 2 * self.alpha) - log_p - log_1_minus_p)

    def forward(self, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        p = self.alpha + (1 - 2 * self.alpha) * y
        log_p, log_1_minus_p = p.log(), (-p).log1p()
        return log_p - log_1_minus_p, self._log_det(log_p, log_1_minus_p)  # (eq:logit-transform)

    def inverse(self, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        # log p and log(1 - p) from the logit itself: sigmoid(u) rounds to 1 for large u, its logs do not
        log_p, log_1_minus_p = F.logsigmoid(u), F.logsigmoid(-u)
        return (torch.sigmoid(u) - self.alpha) / (1 - 2 * self.alpha), -self._log_det(log_p, log_1_minus_p)


class ConvConditioner(nn.Module):
    """``(B, C, H, W) -> (B, 2C, H, W)``: a small residual convolutional network, last layer zero.

    A 3x3 convolution to ``hidden`` channels, ``n_blocks`` residual blocks
    ``h + conv(relu(conv(relu(h))))``, and a 3x3 convolution to the log-scales and shifts.
    """

    def __init__(self, channels: int, hidden: int = 64, n_blocks: int = 2) -> None:
        super().__init__()
        self.conv_in = nn.Conv2d(channels, hidden, 3, padding=1)
        self.blocks = nn.ModuleList(
            nn.Sequential(nn.ReLU(), nn.Conv2d(hidden, hidden, 3, padding=1), nn.ReLU(),
                          nn.Conv2d(hidden, hidden, 1))
            for _ in range(n_blocks)
        )
        self.conv_out = nn.Sequential(nn.ReLU(), nn.Conv2d(hidden, 2 * channels, 3, padding=1))
        nn.init.zeros_(self.conv_out[1].weight)
        nn.init.zeros_(self.conv_out[1].bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv_in(x)
        for block in self.blocks:
            h = h + block(h)
        return self.conv_out(h)


class ImageFlow(Flow):
    """A multi-scale affine-coupling flow on dequantised images in [0, 1].

    ``levels[k]`` couplings run at level ``k``, each with a conditioner of ``hidden[k]``
    channels; level 0 works at full resolution with checkerboard masks, and each later level
    starts with a squeeze and alternates checkerboard and channel masks. ``alpha`` is the logit
    transform's margin and ``n_bins`` the number of grey levels of the data (for bits/dim).
    """

    def __init__(
        self,
        image_shape: Sequence[int] = (1, 28, 28),
        levels: Sequence[int] = (2, 4, 4),
        hidden: Sequence[int] = (32, 64, 64),
        n_blocks: int = 2,
        alpha: float = 1e-6,
        n_bins: int = 256,
    ) -> None:
        super().__init__()
        if len(levels) != len(hidden) or not levels:
            raise ValueError(f"levels and hidden need one entry per level, got {list(levels)} and {list(hidden)}")
        c, h, w = image_shape
        if h % 2 ** (len(levels) - 1) or w % 2 ** (len(levels) - 1):
            raise ValueError(f"{len(levels)} levels halve the side {len(levels) - 1} times; {h}x{w} does not allow it")
        self.config = {"image_shape": list(image_shape), "levels": list(levels), "hidden": list(hidden),
                       "n_blocks": n_blocks, "alpha": alpha, "n_bins": n_bins}
        self.event_shape = tuple(image_shape)
        layers: list[Bijection] = [LogitTransform(alpha)]
        for level, (n_couplings, width) in enumerate(zip(levels, hidden, strict=True)):
            if level > 0:
                layers.append(Squeeze())
                c, h, w = 4 * c, h // 2, w // 2
            for k in range(n_couplings):
                # level 0 has one channel: checkerboards only; later levels alternate both kinds
                use_channels = level > 0 and k % 4 >= 2
                mask = (channel_mask if use_channels else checkerboard_mask)(c, h, w, parity=k % 2)
                layers += [AffineCoupling(mask, ConvConditioner(c, width, n_blocks)), ActNorm(c, event_dims=3)]
        self.latent_shape = (c, h, w)
        self.transform = Chain(layers)

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """``log p(y)`` per image, in nats, of dequantised images ``y`` in [0, 1]."""
        self.check_shape(x)
        if x.min() < 0 or x.max() > 1:
            raise ValueError("ImageFlow models dequantised images in [0, 1]; pass gencourse.data.dequantize(x)")
        return super().log_prob(x)

    def sample(self, n: int, temperature: float = 1.0) -> torch.Tensor:
        """``n`` images in [0, 1]: ``z ~ N(0, temperature^2 I)`` pushed through the inverse map."""
        return super().sample(n, temperature).clamp(0, 1)

    def loss(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Maximum likelihood in bits per dimension: ``loss`` is the mean bits/dim  (eq:bits-per-dim)."""
        log_p = self.log_prob(x)
        bpd = bits_per_dim(log_p, math.prod(self.event_shape), self.config["n_bins"])
        return {"loss": bpd.mean(), "nll": -log_p.mean().detach(), "bpd": bpd.mean().detach()}


@torch.no_grad()
def evaluate_bits_per_dim(
    model: ImageFlow, images: torch.Tensor, seed: int = 0, batch_size: int = 500, per_image: bool = False
) -> float | torch.Tensor:
    """Bits per dimension of 8-bit ``images`` (in [0, 1]) under ``model``, one seeded dequantisation each.

    The mean over images (a float), or with ``per_image`` the figure of each image. The same
    ``seed`` gives the same noise, so two evaluations of one model agree to rounding.
    """
    generator = torch.Generator(device=images.device).manual_seed(seed)
    dims = math.prod(model.event_shape)
    with eval_mode(model):
        bpd = torch.cat([bits_per_dim(model.log_prob(dequantize(batch, generator=generator)), dims,
                                      model.config["n_bins"]) for batch in images.split(batch_size)])
    return bpd if per_image else float(bpd.mean())
