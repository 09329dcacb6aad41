r"""Normalizing flows: invertible maps with a tractable Jacobian, and the density they define.

A flow model pushes data :math:`x` through an invertible map :math:`f` to a base variable
:math:`z = f(x)` with a simple density (here the standard Gaussian). The change-of-variables
formula gives the density of the data  (eq:change-of-variables):

.. math::

    \log p_X(x) = \log p_Z\big(f(x)\big) + \log \left| \det \frac{\partial f(x)}{\partial x} \right|.

:math:`f` is a composition :math:`f_K \circ \dots \circ f_1`; the log-determinants of the
pieces add  (eq:flow-composition), so each piece only has to report its own.

Direction. Every :class:`Bijection` here maps *data to noise* in ``forward`` (the direction
of density evaluation, used for maximum likelihood) and *noise to data* in ``inverse`` (the
direction of sampling). Both return the transformed tensor and, per example, the
log-absolute-determinant of the Jacobian of the map they apply.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from gencourse.vi.gaussian import log_standard_normal


class Bijection(nn.Module):
    """An invertible map ``x -> z`` that reports ``log |det dz/dx|`` for each example."""

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:  # pragma: no cover - abstract
        """``(z, log_det)``: the image of ``x`` and ``log |det dz/dx|`` of shape ``(B,)``."""
        raise NotImplementedError

    def inverse(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:  # pragma: no cover - abstract
        """``(x, log_det)``: the preimage of ``z`` and ``log |det dx/dz|`` of shape ``(B,)``."""
        raise NotImplementedError


def per_example_sum(t: torch.Tensor) -> torch.Tensor:
    """Sum over every dimension but the first: ``(B, ...) -> (B,)``."""
    return t.flatten(1).sum(1)


def standard_normal_log_prob(z: torch.Tensor) -> torch.Tensor:
    """``log N(z; 0, I)`` per example, summed over every dimension but the first."""
    return log_standard_normal(z.flatten(1))


class Chain(Bijection):
    """The composition ``f_K o ... o f_1`` of ``bijections`` (applied in order by ``forward``)."""

    def __init__(self, bijections: Sequence[Bijection]) -> None:
        super().__init__()
        self.bijections = nn.ModuleList(bijections)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        log_det = x.new_zeros(x.shape[0])
        for f in self.bijections:
            x, ld = f(x)
            log_det = log_det + ld  # (eq:flow-composition)
        return x, log_det

    def inverse(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        log_det = z.new_zeros(z.shape[0])
        for f in reversed(self.bijections):
            z, ld = f.inverse(z)
            log_det = log_det + ld
        return z, log_det


class Flow(nn.Module):
    """A density model ``p_X`` defined by a bijection onto a standard Gaussian.

    Subclasses build ``self.transform`` (a :class:`Bijection`) and set ``self.event_shape``
    (the shape of one example), ``self.latent_shape`` (the shape of its image ``z``, which a
    squeeze changes) and ``self.config`` (the keyword arguments that rebuild them).
    """

    transform: Bijection
    event_shape: tuple[int, ...]
    latent_shape: tuple[int, ...]
    config: dict

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """``log p_X(x)`` per example, in nats  (eq:change-of-variables)."""
        self.check_shape(x)
        z, log_det = self.transform(x)
        return standard_normal_log_prob(z) + log_det  # (eq:change-of-variables)

    def sample(self, n: int, temperature: float = 1.0) -> torch.Tensor:
        """``n`` draws: ``z ~ N(0, temperature^2 I)`` pushed through the inverse map."""
        device = next(self.parameters()).device
        z = temperature * torch.randn(n, *self.latent_shape, device=device)
        return self.transform.inverse(z)[0]

    def loss(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Maximum likelihood: ``loss`` is the mean negative log-likelihood per dimension (nats).

        Dividing by the dimension keeps the learning rate independent of the data size; the
        diagnostic ``nll`` is per example.
        """
        nll = -self.log_prob(x)
        dims = math.prod(self.event_shape)
        return {"loss": nll.mean() / dims, "nll": nll.mean().detach()}

    def check_shape(self, x: torch.Tensor) -> None:
        if tuple(x.shape[1:]) != tuple(self.event_shape):
            raise ValueError(
                f"{type(self).__name__} models examples of shape {tuple(self.event_shape)}, got a batch of "
                f"shape {tuple(x.shape)}; pass a tensor of shape (batch, {', '.join(map(str, self.event_shape))})"
            )
