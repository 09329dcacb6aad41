r"""The ELBO of a model whose posterior is known: probabilistic PCA from chapter 1.

For :math:`z \sim \mathcal{N}(0, I_d)`, :math:`x \mid z \sim \mathcal{N}(Wz + \mu, \sigma^2 I_D)`
(:class:`gencourse.lvm.PPCA`), the evidence :math:`\log p(x)` and the posterior
:math:`p(z \mid x)` are Gaussian and known exactly, and so is the ELBO of a factorised
Gaussian :math:`q(z) = \mathcal{N}(m, \operatorname{diag} s^2)` (eq:linear-gaussian-elbo):

.. math::

    \mathcal{L}(q) = \log \mathcal{N}(x; W m + \mu, \sigma^2 I)
      - \frac{1}{2\sigma^2} \sum_{j=1}^{d} s_j^2 \, \lVert W_{:j} \rVert^2
      - \mathrm{KL}\big(q \,\Vert\, \mathcal{N}(0, I)\big),

because :math:`\mathbb{E}_q \lVert x - Wz - \mu \rVert^2 = \lVert x - Wm - \mu \rVert^2 +
\operatorname{tr}(W^\top W \operatorname{diag} s^2)`. So the identity
:math:`\log p(x) = \mathcal{L}(q) + \mathrm{KL}(q \,\Vert\, p(z \mid x))` (eq:elbo-gap) can be
checked to round-off, and the ELBO's gap measured for any :math:`q`.
"""

from __future__ import annotations

import math

import torch

from gencourse.lvm import PPCA
from gencourse.vi.gaussian import gaussian_kl, log_normal_diag, log_standard_normal


def linear_gaussian_elbo(model: PPCA, x: torch.Tensor, mu: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """The exact ELBO of ``q = N(mu, diag exp(log_var))`` for each row of ``x``: ``(N, D), (N, d), (N, d) -> (N,)``.

    (eq:linear-gaussian-elbo); no sampling.
    """
    x = x.flatten(1)
    D = x.shape[1]
    log_lik_at_mean = log_normal_diag(x, model.decode(mu), torch.log(model.sigma2).expand(D))  # (N,)
    spread = (log_var.exp() * model.W.pow(2).sum(0)).sum(-1) / (2 * model.sigma2)  # tr(W^T W diag s^2) / 2 sigma^2
    return log_lik_at_mean - spread - gaussian_kl(mu, log_var)  # (eq:linear-gaussian-elbo)


def linear_gaussian_log_joint(model: PPCA, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """``log p(x, z) = log N(z; 0, I) + log N(x; W z + mu, sigma^2 I)``: ``(N, D), (..., N, d) -> (..., N)``."""
    D = model.W.shape[0]
    log_var_x = torch.full((D,), math.log(float(model.sigma2)), dtype=z.dtype, device=z.device)
    return log_standard_normal(z) + log_normal_diag(x.flatten(1), model.decode(z), log_var_x)
