r"""Planar flows (Rezende & Mohamed, 2015) and the 2-D target energies they are fitted to.

A planar map moves every point along one direction :math:`u` by an amount that depends on its
position along another, :math:`w`  (eq:planar-flow):

.. math::

    f(z) = z + u\, h(w^\top z + b), \qquad h = \tanh.

Its Jacobian :math:`I + u\, \psi(z)^\top` with :math:`\psi(z) = h'(w^\top z + b)\, w` is a
rank-one update of the identity, so the matrix-determinant lemma gives it in :math:`O(D)`
(eq:planar-logdet): :math:`\det = 1 + u^\top \psi(z)`. The map is invertible when
:math:`w^\top u \ge -1` (eq:planar-invertibility); the free parameter :math:`u` is mapped to
:math:`\hat u = u + \big(m(w^\top u) - w^\top u\big)\, w / \lVert w \rVert^2` with
:math:`m(a) = -1 + \log(1 + e^a)`, which guarantees it.

Direction: planar flows are used to *sample*. Noise :math:`z_0 \sim \mathcal N(0, I)` goes
through ``forward`` of each layer and :math:`\log q_K(z_K) = \log q_0(z_0) - \sum_k \log
|\det \partial f_k / \partial z_{k-1}|`. The inverse has no closed form, but it reduces to one
monotone scalar equation along :math:`w`, solved here by bisection; the density at any point
(for a picture, or the check that it integrates to 1) uses it.

Fitting a flow :math:`q` to an unnormalised target :math:`p(z) = e^{-U(z)} / Z` minimises the
reverse KL  (eq:reverse-kl-energy):
:math:`\mathrm{KL}(q \,\|\, p) = \mathbb{E}_{q}\big[\log q(z) + U(z)\big] + \log Z`, which needs
samples of :math:`q` with their densities and the energy :math:`U`, never :math:`Z`.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from gencourse.flows.base import Bijection, standard_normal_log_prob


class PlanarLayer(Bijection):
    """One planar map ``f(z) = z + u_hat tanh(w.z + b)`` on vectors of size ``dim``  (eq:planar-flow)."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.u = nn.Parameter(0.1 * torch.randn(dim))
        self.w = nn.Parameter(0.1 * torch.randn(dim))
        self.b = nn.Parameter(torch.zeros(()))

    def u_hat(self) -> torch.Tensor:
        """``u`` moved along ``w`` so that ``w . u_hat >= -1`` (eq:planar-invertibility)  (eq:planar-u-hat)."""
        wu = self.w @ self.u
        return self.u + (-1 + F.softplus(wu) - wu) * self.w / (self.w @ self.w)  # (eq:planar-u-hat)

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        u = self.u_hat()
        a = z @ self.w + self.b  # (B,)
        f = z + u * torch.tanh(a)[:, None]  # (eq:planar-flow)
        psi = (1 - torch.tanh(a) ** 2)[:, None] * self.w  # (B, D): h'(w.z + b) w
        return f, torch.log(torch.abs(1 + psi @ u))  # (eq:planar-logdet)

    def inverse(self, y: torch.Tensor, iterations: int = 64) -> tuple[torch.Tensor, torch.Tensor]:
        """The preimage, by bisection on ``a = w.z``: ``w.y = a + (w.u_hat) tanh(a + b)`` is increasing in ``a``."""
        u = self.u_hat()
        wu, wy = self.w @ u, y @ self.w
        lo, hi = wy - wu.abs() - 1, wy + wu.abs() + 1  # |tanh| < 1 brackets the root
        for _ in range(iterations):
            mid = (lo + hi) / 2
            below = mid + wu * torch.tanh(mid + self.b) < wy
            lo, hi = torch.where(below, mid, lo), torch.where(below, hi, mid)
        a = (lo + hi) / 2
        z = y - u * torch.tanh(a + self.b)[:, None]
        return z, -self.forward(z)[1]


class PlanarFlow(nn.Module):
    """``n_layers`` planar maps applied to standard Gaussian noise in ``dim`` dimensions."""

    def __init__(self, dim: int = 2, n_layers: int = 16) -> None:
        super().__init__()
        if dim < 1 or n_layers < 1:
            raise ValueError(f"dim and n_layers must be positive, got dim={dim}, n_layers={n_layers}")
        self.config = {"dim": dim, "n_layers": n_layers}
        self.dim = dim
        self.layers = nn.ModuleList(PlanarLayer(dim) for _ in range(n_layers))

    def sample_with_log_prob(self, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        """``n`` samples ``z_K`` and their ``log q_K(z_K)``: the base density minus every layer's log-det."""
        z = torch.randn(n, self.dim, device=self.layers[0].w.device, dtype=self.layers[0].w.dtype)
        log_q = standard_normal_log_prob(z)
        for layer in self.layers:
            z, log_det = layer(z)
            log_q = log_q - log_det  # (eq:change-of-variables), sampling direction
        return z, log_q

    def sample(self, n: int) -> torch.Tensor:
        return self.sample_with_log_prob(n)[0]

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """``log q_K(x)`` at any points, through the layers' numerical inverses."""
        log_det = x.new_zeros(x.shape[0])
        for layer in reversed(self.layers):
            x, ld = layer.inverse(x)
            log_det = log_det + ld
        return standard_normal_log_prob(x) + log_det

    def reverse_kl(self, energy: Callable[[torch.Tensor], torch.Tensor], n: int = 256) -> dict[str, torch.Tensor]:
        """``E_q[log q(z) + U(z)] = KL(q || e^{-U}/Z) - log Z`` from ``n`` samples  (eq:reverse-kl-energy)."""
        z, log_q = self.sample_with_log_prob(n)
        loss = (log_q + energy(z)).mean()  # (eq:reverse-kl-energy)
        return {"loss": loss, "kl_minus_log_z": loss.detach()}


# The four 2-D energies U(z) of Rezende & Mohamed (2015), Table 1; the target density is exp(-U)/Z.

def _w1(z: torch.Tensor) -> torch.Tensor:
    return torch.sin(2 * math.pi * z[:, 0] / 4)


def energy_ring(z: torch.Tensor) -> torch.Tensor:
    """U1: a ring of radius 2 cut into two halves."""
    ring = 0.5 * ((z.norm(dim=1) - 2) / 0.4) ** 2
    halves = torch.logaddexp(-0.5 * ((z[:, 0] - 2) / 0.6) ** 2, -0.5 * ((z[:, 0] + 2) / 0.6) ** 2)
    return ring - halves


def energy_wave(z: torch.Tensor) -> torch.Tensor:
    """U2: a sine wave."""
    return 0.5 * ((z[:, 1] - _w1(z)) / 0.4) ** 2


def energy_split_wave(z: torch.Tensor) -> torch.Tensor:
    """U3: two sine waves that split apart near z1 = 1."""
    w2 = 3 * torch.exp(-0.5 * ((z[:, 0] - 1) / 0.6) ** 2)
    return -torch.logaddexp(-0.5 * ((z[:, 1] - _w1(z)) / 0.35) ** 2, -0.5 * ((z[:, 1] - _w1(z) + w2) / 0.35) ** 2)


def energy_step_wave(z: torch.Tensor) -> torch.Tensor:
    """U4: two sine waves, one shifted by a step."""
    w3 = 3 * torch.sigmoid((z[:, 0] - 1) / 0.3)
    return -torch.logaddexp(-0.5 * ((z[:, 1] - _w1(z)) / 0.4) ** 2, -0.5 * ((z[:, 1] - _w1(z) + w3) / 0.35) ** 2)


ENERGIES: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "ring": energy_ring, "wave": energy_wave, "split_wave": energy_split_wave, "step_wave": energy_step_wave,
}
