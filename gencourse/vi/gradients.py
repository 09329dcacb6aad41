r"""Two unbiased estimators of the gradient of an expectation, :math:`\nabla_\lambda \mathbb{E}_{q_\lambda}[f(z)]`.

For :math:`q_\lambda = \mathcal{N}(\mu, \operatorname{diag}\sigma^2)` with :math:`\lambda = (\mu, \log\sigma^2)`:

- the *score-function* (REINFORCE, likelihood-ratio) estimator (Williams, 1992; Paisley et al.,
  2012; Ranganath et al., 2014) needs only values of :math:`f` (eq:score-function)

  .. math::

      \nabla_\lambda \mathbb{E}_{q_\lambda}[f(z)]
        = \mathbb{E}_{q_\lambda}\big[(f(z) - b)\, \nabla_\lambda \log q_\lambda(z)\big],

  for any constant baseline :math:`b` (because :math:`\mathbb{E}_q[\nabla \log q] = 0`);
- the *reparameterisation* (pathwise) estimator (Kingma & Welling, 2014; Rezende et al., 2014)
  needs :math:`\nabla f` and writes :math:`z = \mu + \sigma \odot \varepsilon` (eq:reparameterization-gradient)

  .. math::

      \nabla_\mu \mathbb{E}[f(z)] = \mathbb{E}_\varepsilon[\nabla f(z)], \qquad
      \nabla_{\log\sigma^2} \mathbb{E}[f(z)]
        = \mathbb{E}_\varepsilon\big[\nabla f(z) \odot \tfrac12 \sigma \odot \varepsilon\big].

Both return one estimate *per sample*, shape ``(n, 2, d)`` (index 0: the gradient in ``mu``,
index 1: in ``log_var``), so their means are the usual estimates and their variances can be
compared.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

Objective = Callable[[torch.Tensor], torch.Tensor]  # f: (n, d) -> (n,)


def gaussian_score(z: torch.Tensor, mu: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    r"""``grad_(mu, log_var) log N(z; mu, diag exp(log_var))``: ``(n, d) -> (n, 2, d)``.

    :math:`\partial_\mu \log q = (z - \mu)/\sigma^2` and
    :math:`\partial_{\log\sigma^2} \log q = \tfrac12\big((z - \mu)^2/\sigma^2 - 1\big)`.
    """
    scaled = (z - mu) * torch.exp(-log_var)
    return torch.stack([scaled, 0.5 * ((z - mu) * scaled - 1)], dim=1)


def score_function_gradient(f: Objective, mu: torch.Tensor, log_var: torch.Tensor, n: int, baseline: float = 0.0,
                            generator: torch.Generator | None = None) -> torch.Tensor:
    """``n`` single-sample score-function estimates of ``grad E_q[f(z)]``: ``(n, 2, d)``  (eq:score-function)."""
    eps = torch.randn(n, *mu.shape, dtype=mu.dtype, device=mu.device, generator=generator)
    z = mu + torch.exp(0.5 * log_var) * eps  # (n, d); no gradient flows through z here
    return (f(z) - baseline)[:, None, None] * gaussian_score(z, mu, log_var)  # (eq:score-function)


def reparameterization_gradient(f: Objective, mu: torch.Tensor, log_var: torch.Tensor, n: int,
                                generator: torch.Generator | None = None) -> torch.Tensor:
    """``n`` one-sample reparameterisation estimates of ``grad E_q[f(z)]``: ``(n, 2, d)``.

    (eq:reparameterization-gradient)

    ``f`` must be differentiable and act on each row separately (so the gradient of the sum
    is each sample's own gradient).
    """
    eps = torch.randn(n, *mu.shape, dtype=mu.dtype, device=mu.device, generator=generator)
    sigma = torch.exp(0.5 * log_var)
    z = (mu + sigma * eps).detach().requires_grad_(True)  # (n, d)
    (grad_z,) = torch.autograd.grad(f(z).sum(), z)  # (n, d): each row is that sample's grad f
    return torch.stack([grad_z, grad_z * 0.5 * sigma * eps], dim=1)  # (eq:reparameterization-gradient)
