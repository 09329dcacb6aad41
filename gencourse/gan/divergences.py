r"""Divergences between discrete distributions (histograms), the quantities the GAN game is about.

With the optimal discriminator :math:`D^* = p/(p + q)` (eq:gan-d-star) the value of the game is
(Goodfellow et al., 2014)  (eq:gan-c-of-g)

.. math::

    C(G) = \max_D V(D, G) = -\log 4 + 2\,\mathrm{JS}(p_{\mathrm{data}} \,\|\, p_\theta),
    \qquad \mathrm{JS}(p \,\|\, q) = \tfrac12 \mathrm{KL}(p \,\|\, m) + \tfrac12 \mathrm{KL}(q \,\|\, m),
    \quad m = \tfrac12 (p + q).

These functions take probability vectors over the same bins and handle empty bins exactly
(``0 log 0 = 0``), which is what disjoint supports need: there JS is ``log 2``, total variation 1
and KL infinite, whatever the distance between the supports (chapter 5).
"""

from __future__ import annotations

import math

import torch


def kl_divergence(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    r"""``KL(p || q) = sum_k p_k log(p_k / q_k)``; infinite if some ``p_k > 0`` where ``q_k = 0``."""
    return (torch.xlogy(p, p) - torch.xlogy(p, q)).sum()


def js_divergence(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    r"""``JS(p || q) = KL(p || m)/2 + KL(q || m)/2``, ``m = (p + q)/2``; between 0 and ``log 2``  (eq:gan-c-of-g)."""
    m = (p + q) / 2
    return (kl_divergence(p, m) + kl_divergence(q, m)) / 2


def total_variation(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    r"""``TV(p, q) = sup_A |p(A) - q(A)| = sum_k |p_k - q_k| / 2``."""
    return (p - q).abs().sum() / 2


def gan_value(p: torch.Tensor, q: torch.Tensor, d: torch.Tensor) -> torch.Tensor:
    r"""The population value ``V(D, G) = sum_k p_k log D_k + q_k log(1 - D_k)`` on bins  (eq:gan-value).

    ``p`` is the data distribution, ``q`` the model's, ``d`` the discriminator's probabilities.
    """
    return (torch.xlogy(p, d) + torch.xlogy(q, 1 - d)).sum()


LOG_4 = math.log(4.0)
