r"""Which Gaussian is closest to a target: the two directions of the KL divergence.

For a target :math:`p` and a family of approximations :math:`q`, the two KL divergences pick
different members (eq:kl-directions):

- :math:`\mathrm{KL}(q \,\Vert\, p) = \mathbb{E}_q[\log q - \log p]` (*reverse*, the one of
  variational inference) is infinite wherever :math:`q > 0 = p`: it is *zero-forcing* and
  *mode-seeking*, and prefers a :math:`q` that sits inside one region of high :math:`p`;
- :math:`\mathrm{KL}(p \,\Vert\, q) = \mathbb{E}_p[\log p - \log q]` (*forward*, the one of
  maximum likelihood and expectation propagation) is infinite wherever :math:`p > 0 = q`:
  it is *mass-covering* and prefers a :math:`q` that covers all of :math:`p`.

For a Gaussian target :math:`\mathcal{N}(\mu, \Sigma)` with precision :math:`\Lambda = \Sigma^{-1}`
and a factorised (mean-field) Gaussian :math:`q`, both optima have closed forms
(Bishop, 2006, section 10.1.2): both have mean :math:`\mu`, and

.. math::

    \text{reverse: } \sigma_i^2 = 1 / \Lambda_{ii}, \qquad
    \text{forward: } \sigma_i^2 = \Sigma_{ii}                                   \quad (eq:mean-field-optima)

The reverse fit is too narrow (its variances are the *conditional* variances) and the forward
fit matches the *marginals*. For targets without a closed form (a bimodal mixture), this module
fits a 1-D Gaussian by minimising either KL computed by quadrature on a grid, in float64.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from gencourse.vi.gaussian import log_normal_diag


def mean_field_reverse_kl(mu: torch.Tensor, Sigma: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean, variances ``(d,), (d,)`` of the mean-field minimising ``KL(q || N(mu, Sigma))`` (eq:mean-field-optima)."""
    Lambda = torch.linalg.inv(Sigma)  # the precision matrix
    return mu.clone(), 1 / Lambda.diagonal()  # (eq:mean-field-optima) conditional variances


def mean_field_forward_kl(mu: torch.Tensor, Sigma: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean, variances ``(d,), (d,)`` of the mean-field minimising ``KL(N(mu, Sigma) || q)`` (eq:mean-field-optima)."""
    return mu.clone(), Sigma.diagonal().clone()  # (eq:mean-field-optima) marginal variances


def gaussian_kl_full(mu_q: torch.Tensor, Sigma_q: torch.Tensor,
                     mu_p: torch.Tensor, Sigma_p: torch.Tensor) -> torch.Tensor:
    r"""``KL(N(mu_q, Sigma_q) || N(mu_p, Sigma_p))`` for full covariances  (eq:gaussian-kl-full).

    :math:`\tfrac12\big[\operatorname{tr}(\Sigma_p^{-1}\Sigma_q) + (\mu_p - \mu_q)^\top \Sigma_p^{-1} (\mu_p - \mu_q)
    - d + \log\det\Sigma_p - \log\det\Sigma_q\big]`. Shapes: ``(d,), (d, d), (d,), (d, d) -> ()``.
    """
    d = mu_q.shape[-1]
    diff = (mu_p - mu_q).unsqueeze(-1)  # (d, 1)
    trace = torch.linalg.solve(Sigma_p, Sigma_q).diagonal().sum()
    maha = (diff.T @ torch.linalg.solve(Sigma_p, diff)).squeeze()
    log_det = torch.logdet(Sigma_p) - torch.logdet(Sigma_q)
    return 0.5 * (trace + maha - d + log_det)  # (eq:gaussian-kl-full)


def fit_mean_field(mu: torch.Tensor, Sigma: torch.Tensor, direction: str,
                   steps: int = 200) -> tuple[torch.Tensor, torch.Tensor]:
    """Fit a factorised Gaussian to ``N(mu, Sigma)`` by minimising a KL numerically (L-BFGS on ``mu, log_var``).

    ``direction`` is ``"reverse"`` for ``KL(q || p)`` or ``"forward"`` for ``KL(p || q)``. Returns
    mean and variances; they agree with the closed forms (eq:mean-field-optima), which is the point.
    """
    q_mu = torch.zeros_like(mu, requires_grad=True)
    q_log_var = torch.zeros_like(mu, requires_grad=True)
    optimizer = torch.optim.LBFGS([q_mu, q_log_var], max_iter=steps, tolerance_grad=1e-12, tolerance_change=1e-14,
                                  line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        Sigma_q = torch.diag(q_log_var.exp())
        kl = (gaussian_kl_full(q_mu, Sigma_q, mu, Sigma) if direction == "reverse"
              else gaussian_kl_full(mu, Sigma, q_mu, Sigma_q))
        kl.backward()
        return kl

    if direction not in ("reverse", "forward"):
        raise ValueError(f"direction must be 'reverse' or 'forward', got {direction!r}")
    optimizer.step(closure)
    return q_mu.detach(), q_log_var.detach().exp()


def kl_on_grid(log_p: torch.Tensor, log_q: torch.Tensor, dx: float) -> torch.Tensor:
    """``KL(p || q)`` of two 1-D densities given as log-values on an evenly spaced grid (Riemann sum, step ``dx``)."""
    return (log_p.exp() * (log_p - log_q)).sum() * dx


def fit_gaussian_1d(
    log_p: Callable[[torch.Tensor], torch.Tensor],
    direction: str,
    init: tuple[float, float] = (0.0, 0.0),
    grid: torch.Tensor | None = None,
    steps: int = 500,
) -> tuple[float, float]:
    """Fit ``N(mu, sigma^2)`` to a 1-D density ``log_p`` (a function of ``(N,)`` points) by minimising a KL on a grid.

    ``direction``: ``"reverse"`` for ``KL(q || p)``, ``"forward"`` for ``KL(p || q)``. ``init`` is
    ``(mu, log_var)``: the reverse KL has one local optimum per mode and a broad symmetric one at
    ``mu = 0`` (where the default ``init`` lands), so where it starts matters.
    The grid (default 4,001 points on [-10, 10], float64) must cover both densities. Returns
    ``(mu, sigma^2)``.
    """
    if direction not in ("reverse", "forward"):
        raise ValueError(f"direction must be 'reverse' or 'forward', got {direction!r}")
    grid = torch.linspace(-10, 10, 4001, dtype=torch.float64) if grid is None else grid
    dx = float(grid[1] - grid[0])
    lp = log_p(grid)
    params = torch.tensor(init, dtype=grid.dtype, requires_grad=True)  # (mu, log_var)
    optimizer = torch.optim.LBFGS([params], max_iter=steps, tolerance_grad=1e-10, tolerance_change=1e-14,
                                  line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        lq = log_normal_diag(grid.unsqueeze(-1), params[0], params[1].expand(1))  # (N,)
        kl = kl_on_grid(lq, lp, dx) if direction == "reverse" else kl_on_grid(lp, lq, dx)
        kl.backward()
        return kl

    optimizer.step(closure)
    mu, log_var = params.detach()
    return float(mu), float(log_var.exp())
