r"""The GAN game's losses, as small pure functions of the discriminator's *logits*.

The discriminator outputs a logit :math:`\ell = d_\psi(x)`; its probability that ``x`` is real
is :math:`D_\psi(x) = \sigma(\ell)`. Working with logits keeps every loss finite: with
:math:`\log \sigma(\ell) = -\operatorname{softplus}(-\ell)` and
:math:`\log(1 - \sigma(\ell)) = -\operatorname{softplus}(\ell)`, nothing takes the log of a
probability that has rounded to 0 or 1 (the habit the course avoids: a sigmoid followed by
``BCELoss``).

The value of the game (Goodfellow et al., 2014)  (eq:gan-value):

.. math::

    V(D_\psi, G_\theta) = \mathbb{E}_{x \sim p_{\mathrm{data}}} \log D_\psi(x)
                       + \mathbb{E}_{z \sim p(z)} \log\big(1 - D_\psi(G_\theta(z))\big).

The discriminator maximises it: it minimises the binary cross-entropy of "real = 1, fake = 0"
(eq:gan-d-loss). The generator of the *minimax* (saturating) game minimises the second term
(eq:gan-g-minimax); the *non-saturating* generator minimises
:math:`-\mathbb{E}_z \log D_\psi(G_\theta(z))` instead (eq:gan-g-ns), which has the same fixed
point but keeps its gradient when the discriminator rejects every sample.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def discriminator_loss(d_real: torch.Tensor, d_fake: torch.Tensor) -> torch.Tensor:
    r"""``-E log D(x) - E log(1 - D(G(z)))`` from logits ``d_real`` and ``d_fake``  (eq:gan-d-loss).

    It is minus the value (eq:gan-value), so minimising it maximises ``V`` over the discriminator.
    """
    return F.softplus(-d_real).mean() + F.softplus(d_fake).mean()  # (eq:gan-d-loss)


def generator_loss_minimax(d_fake: torch.Tensor) -> torch.Tensor:
    r"""``E log(1 - D(G(z)))`` from logits ``d_fake``: the saturating generator loss  (eq:gan-g-minimax)."""
    return -F.softplus(d_fake).mean()  # (eq:gan-g-minimax)


def generator_loss_non_saturating(d_fake: torch.Tensor) -> torch.Tensor:
    r"""``-E log D(G(z))`` from logits ``d_fake``: the non-saturating generator loss  (eq:gan-g-ns)."""
    return F.softplus(-d_fake).mean()  # (eq:gan-g-ns)


GENERATOR_LOSSES = {"non_saturating": generator_loss_non_saturating, "minimax": generator_loss_minimax}


def optimal_discriminator(p_data: torch.Tensor, p_model: torch.Tensor) -> torch.Tensor:
    r"""``D*(x) = p_data(x) / (p_data(x) + p_model(x))`` from the two densities at the same points  (eq:gan-d-star)."""
    return p_data / (p_data + p_model)  # (eq:gan-d-star)


def density_ratio(d_logit: torch.Tensor) -> torch.Tensor:
    r"""The density ratio ``p(x)/q(x) = D/(1 - D) = exp(logit)`` read off a classifier of p (label 1) against q.

    With equal numbers of examples of both classes, the Bayes-optimal classifier's logit is
    ``log p(x) - log q(x)``  (eq:density-ratio).
    """
    return d_logit.exp()  # (eq:density-ratio)
