r"""Diagonal Gaussians: their log-density, the KL divergence between two of them, and the reparameterised sample.

Every variational model of the course uses a Gaussian with diagonal covariance
:math:`q(z) = \mathcal{N}(z; \mu, \operatorname{diag}\sigma^2)`, stored as ``mu`` and
``log_var`` (networks output the log-variance, never the variance, so any real output is a
valid variance). Three facts make it the workhorse of variational inference:

- its KL divergence to another diagonal Gaussian has a closed form (eq:gaussian-kl)

  .. math::

      \mathrm{KL}(q \,\Vert\, p) = \tfrac12 \sum_{i=1}^{d} \Big[\log \frac{\sigma_{p,i}^2}{\sigma_{q,i}^2}
      + \frac{\sigma_{q,i}^2 + (\mu_{q,i} - \mu_{p,i})^2}{\sigma_{p,i}^2} - 1\Big],

  so the KL term of the ELBO needs no sampling;
- a sample is a deterministic, differentiable function of its parameters and of parameter-free
  noise (eq:reparameterization): :math:`z = \mu + \sigma \odot \varepsilon`, :math:`\varepsilon \sim \mathcal{N}(0, I)`
  (Kingma & Welling, 2014; Rezende et al., 2014);
- its log-density is a sum over coordinates (eq:log-normal-diag).

All functions reduce over the last dimension and broadcast over the others, so the same code
serves a batch ``(B, d)`` and ``k`` importance samples ``(k, B, d)``.
"""

from __future__ import annotations

import math

import torch

LOG_2PI = math.log(2 * math.pi)


def log_normal_diag(z: torch.Tensor, mu: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    r"""``log N(z; mu, diag exp(log_var))`` summed over the last dimension: ``(..., d) -> (...)``  (eq:log-normal-diag).

    :math:`-\tfrac12 \sum_i \big[\log 2\pi + \log\sigma_i^2 + (z_i - \mu_i)^2 / \sigma_i^2\big]`.
    """
    return -0.5 * (LOG_2PI + log_var + (z - mu).pow(2) * torch.exp(-log_var)).sum(-1)  # (eq:log-normal-diag)


def log_standard_normal(z: torch.Tensor) -> torch.Tensor:
    """``log N(z; 0, I)`` summed over the last dimension: ``(..., d) -> (...)``. The prior ``log p(z)``."""
    return -0.5 * (LOG_2PI + z.pow(2)).sum(-1)


def gaussian_kl(
    mu_q: torch.Tensor,
    log_var_q: torch.Tensor,
    mu_p: torch.Tensor | float = 0.0,
    log_var_p: torch.Tensor | float = 0.0,
) -> torch.Tensor:
    r"""``KL(N(mu_q, diag e^log_var_q) || N(mu_p, diag e^log_var_p))`` summed over the last dimension  (eq:gaussian-kl).

    The defaults ``mu_p = 0, log_var_p = 0`` give the KL to the standard normal prior, the
    VAE's regulariser :math:`\tfrac12 \sum_i (\mu_i^2 + \sigma_i^2 - \log\sigma_i^2 - 1)`.
    Shapes: ``(..., d) -> (...)``.
    """
    mu_p = torch.as_tensor(mu_p, dtype=mu_q.dtype, device=mu_q.device)
    log_var_p = torch.as_tensor(log_var_p, dtype=mu_q.dtype, device=mu_q.device)
    ratio = torch.exp(log_var_q - log_var_p)  # sigma_q^2 / sigma_p^2
    mahalanobis = (mu_q - mu_p).pow(2) * torch.exp(-log_var_p)
    return 0.5 * (log_var_p - log_var_q + ratio + mahalanobis - 1).sum(-1)  # (eq:gaussian-kl)


def reparameterize(mu: torch.Tensor, log_var: torch.Tensor, eps: torch.Tensor | None = None) -> torch.Tensor:
    r"""The reparameterised sample ``z = mu + exp(log_var / 2) * eps`` with ``eps ~ N(0, I)``  (eq:reparameterization).

    ``eps`` may be given (to reuse noise, or to draw ``k`` samples at once: ``eps`` of shape
    ``(k, B, d)`` broadcasts against ``mu`` of shape ``(B, d)``); otherwise it is drawn with
    the shape of ``mu``. Gradients flow to ``mu`` and ``log_var``, not to ``eps``.
    """
    if eps is None:
        eps = torch.randn_like(mu)
    return mu + torch.exp(0.5 * log_var) * eps  # (eq:reparameterization)
