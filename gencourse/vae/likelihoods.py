r"""The decoder's likelihoods :math:`\log p_\theta(x \mid z)`, per image, summed over pixels.

- **Bernoulli on logits** for binary images (eq:bernoulli-likelihood): with the decoder's
  logits :math:`\ell = g_\theta(z)`,
  :math:`\log p_\theta(x \mid z) = \sum_i x_i \log\sigma(\ell_i) + (1 - x_i)\log(1 - \sigma(\ell_i))`,
  computed from the logits (never from :math:`\sigma(\ell)`, whose logarithm underflows);
  it is minus chapter 1's cross-entropy, so the reconstruction numbers of the two chapters
  are in the same unit.
- **Gaussian** with the decoder's mean and one log-variance (eq:gaussian-likelihood):
  :math:`\log p_\theta(x \mid z) = \log \mathcal{N}(x; \hat{x}, \sigma_x^2 I)`. A fixed
  :math:`\sigma_x^2` turns the reconstruction term into a weighted squared error; the weight
  trades reconstruction against the KL term exactly as a :math:`\beta` does.

Both accept any leading shape ``(..., D)`` and return ``(...)``: ``(k, B, D)`` for ``k``
importance samples of a batch.
"""

from __future__ import annotations

import torch

from gencourse.lvm import bernoulli_nll
from gencourse.vi.gaussian import log_normal_diag


def bernoulli_log_likelihood(x_logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``log Bern(x; sigmoid(x_logits))`` summed over the last dimension  (eq:bernoulli-likelihood).

    Shapes: ``(..., D), (..., D) -> (...)``.

    ``x`` broadcasts against ``x_logits`` (one image for ``k`` decoded samples).
    """
    x = x.expand_as(x_logits)
    D = x_logits.shape[-1]
    nll = bernoulli_nll(x_logits.reshape(-1, D), x.reshape(-1, D))  # (eq:bernoulli-likelihood), rows flattened
    return -nll.view(x_logits.shape[:-1])


def gaussian_log_likelihood(x_mean: torch.Tensor, x: torch.Tensor, log_var: torch.Tensor | float) -> torch.Tensor:
    """``log N(x; x_mean, exp(log_var) I)`` summed over the last dimension  (eq:gaussian-likelihood).

    Shapes: ``(..., D) -> (...)``.

    ``log_var`` is a scalar or broadcasts against ``x_mean`` (one variance per pixel).
    """
    log_var = torch.as_tensor(log_var, dtype=x_mean.dtype, device=x_mean.device).expand_as(x_mean)
    return log_normal_diag(x, x_mean, log_var)  # (eq:gaussian-likelihood)
