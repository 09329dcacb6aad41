r"""A Gaussian mixture model fitted by expectation-maximisation (EM).

The model has a discrete latent variable :math:`z \in \{1, \dots, K\}`:

.. math::

    p_\theta(z = k) = \pi_k, \qquad p_\theta(x \mid z = k) = \mathcal{N}(x; \mu_k, \Sigma_k), \qquad
    p_\theta(x) = \sum_k \pi_k \, \mathcal{N}(x; \mu_k, \Sigma_k).                  \quad (eq:gmm-marginal)

EM (Dempster, Laird & Rubin, 1977) alternates two steps, each of which raises a lower bound
on the log-likelihood; together they never lower the log-likelihood itself (the chapter's
theorem, for exact M-steps; see ``reg_covar`` below):

- **E-step**: the responsibilities :math:`r_{nk} = p_\theta(z_n = k \mid x_n)`, which make the
  variational lower bound tight (eq:gmm-e-step);
- **M-step**: the parameters that maximise the expected complete-data log-likelihood under those
  responsibilities, in closed form (eq:gmm-m-step).

Everything is computed in the dtype of the parameters, so a float64 mixture gives float64
answers. Log-densities go through a Cholesky factor and ``logsumexp``, never through
``exp`` of a log-density, so points far from every component do not underflow to 0/0.

Like scikit-learn's ``GaussianMixture`` (whose results this class reproduces from the same
start), the M-step adds ``reg_covar`` to the diagonal of every covariance: a component that
collapses onto a single point would otherwise get a singular covariance and an infinite
likelihood. This is a departure from pure maximum likelihood, of size ``reg_covar``.
"""

from __future__ import annotations

import math

import torch
from torch import nn


def log_gaussian(x: torch.Tensor, means: torch.Tensor, covariances: torch.Tensor) -> torch.Tensor:
    r"""``log N(x_n; mu_k, Sigma_k)`` for every point and component: ``(N, D), (K, D), (K, D, D) -> (N, K)``.

    With :math:`\Sigma_k = L_k L_k^\top` (Cholesky) and :math:`y = L_k^{-1}(x - \mu_k)`:
    :math:`\log \mathcal{N} = -\tfrac12 \|y\|^2 - \sum_i \log (L_k)_{ii} - \tfrac D2 \log 2\pi`.
    """
    D = x.shape[-1]
    L = torch.linalg.cholesky(covariances)  # (K, D, D)
    diff = (x.unsqueeze(0) - means.unsqueeze(1)).transpose(1, 2)  # (K, D, N)
    y = torch.linalg.solve_triangular(L, diff, upper=False)  # (K, D, N)
    maha = y.pow(2).sum(1)  # (K, N) squared Mahalanobis distances
    log_det_half = L.diagonal(dim1=-2, dim2=-1).log().sum(-1)  # (K,) = log |Sigma_k|^(1/2)
    return (-0.5 * maha - log_det_half.unsqueeze(1) - 0.5 * D * math.log(2 * math.pi)).T  # (N, K)


def kmeans_plus_plus(x: torch.Tensor, k: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """``k`` seeds chosen among the rows of ``x`` by k-means++ (Arthur & Vassilvitskii, 2007): ``(k, D)``.

    The first seed is uniform; each next one is drawn with probability proportional to the
    squared distance to the nearest seed chosen so far.
    """
    n = x.shape[0]
    index = [int(torch.randint(n, (1,), generator=generator))]
    d2 = (x - x[index[0]]).pow(2).sum(1)  # (N,)
    for _ in range(1, k):
        i = int(torch.multinomial(d2 / d2.sum(), 1, generator=generator))
        index.append(i)
        d2 = torch.minimum(d2, (x - x[i]).pow(2).sum(1))
    return x[index].clone()


class GaussianMixture(nn.Module):
    """A mixture of ``K`` full-covariance Gaussians in ``R^D``, fitted by EM.

    Build it from explicit parameters, ``GaussianMixture(weights (K,), means (K, D),
    covariances (K, D, D))``, or from data with :meth:`from_data`. The parameters are buffers
    (EM needs no gradients), so ``state_dict``, ``.to(device)`` and ``.double()`` work.
    """

    weights: torch.Tensor
    means: torch.Tensor
    covariances: torch.Tensor

    def __init__(self, weights: torch.Tensor, means: torch.Tensor, covariances: torch.Tensor,
                 reg_covar: float = 1e-6) -> None:
        super().__init__()
        K, D = means.shape
        if weights.shape != (K,) or covariances.shape != (K, D, D):
            raise ValueError(
                f"expected weights (K,), means (K, D), covariances (K, D, D); got {tuple(weights.shape)}, "
                f"{tuple(means.shape)}, {tuple(covariances.shape)}"
            )
        self.register_buffer("weights", weights.clone())
        self.register_buffer("means", means.clone())
        self.register_buffer("covariances", covariances.clone())
        self.reg_covar = reg_covar

    @classmethod
    def from_data(cls, x: torch.Tensor, n_components: int, init: str = "kmeans++",
                  generator: torch.Generator | None = None, reg_covar: float = 1e-6) -> GaussianMixture:
        """A starting point for EM: equal weights, means from ``init``, every covariance the data's.

        ``init`` is ``"kmeans++"`` (k-means++ seeding, no Lloyd iterations) or ``"random"``
        (``n_components`` distinct data points). Pass a seeded ``generator`` for a reproducible start.
        """
        N, D = x.shape
        if init == "kmeans++":
            means = kmeans_plus_plus(x, n_components, generator)
        elif init == "random":
            means = x[torch.randperm(N, generator=generator)[:n_components]].clone()
        else:
            raise ValueError(f"init must be 'kmeans++' or 'random', got {init!r}")
        cov = torch.cov(x.T, correction=0) + reg_covar * torch.eye(D, dtype=x.dtype, device=x.device)
        weights = torch.full((n_components,), 1.0 / n_components, dtype=x.dtype, device=x.device)
        return cls(weights, means, cov.expand(n_components, D, D).clone(), reg_covar=reg_covar)

    @property
    def n_components(self) -> int:
        return self.means.shape[0]

    def log_joint(self, x: torch.Tensor) -> torch.Tensor:
        """``log pi_k + log N(x_n; mu_k, Sigma_k) = log p(x_n, z_n = k)``: ``(N, D) -> (N, K)``."""
        return self.weights.log() + log_gaussian(x, self.means, self.covariances)

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """``log p(x_n) = logsumexp_k [log pi_k + log N(x_n; mu_k, Sigma_k)]``: ``(N, D) -> (N,)``.

        (eq:gmm-marginal)
        """
        return torch.logsumexp(self.log_joint(x), dim=1)  # (eq:gmm-marginal)

    def log_likelihood(self, x: torch.Tensor) -> torch.Tensor:
        """The *mean* log-likelihood per data point, ``(1/N) sum_n log p(x_n)``, as scikit-learn reports it."""
        return self.log_prob(x).mean()

    def e_step(self, x: torch.Tensor) -> torch.Tensor:
        """Responsibilities ``r_nk = p(z_n = k | x_n)``: ``(N, D) -> (N, K)``  (eq:gmm-e-step).

        ``r_nk = pi_k N(x_n; mu_k, Sigma_k) / sum_j pi_j N(x_n; mu_j, Sigma_j)``.

        Computed as ``exp(log_joint - logsumexp(log_joint))``, so every row sums to 1 even
        where every density underflows.
        """
        return self._posterior(x)[0]

    def _posterior(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The responsibilities ``(N, K)`` and ``log p(x_n)`` ``(N,)`` from one evaluation of the densities."""
        log_joint = self.log_joint(x)  # (N, K)
        log_px = torch.logsumexp(log_joint, dim=1, keepdim=True)  # (N, 1)  (eq:gmm-marginal)
        return (log_joint - log_px).exp(), log_px.squeeze(1)  # (eq:gmm-e-step)

    @torch.no_grad()
    def m_step(self, x: torch.Tensor, resp: torch.Tensor) -> None:
        """Set the parameters that maximise the expected complete-data log-likelihood  (eq:gmm-m-step).

        ``N_k = sum_n r_nk``, ``pi_k = N_k / N``, ``mu_k = (1/N_k) sum_n r_nk x_n``,
        ``Sigma_k = (1/N_k) sum_n r_nk (x_n - mu_k)(x_n - mu_k)^T + reg_covar I``.
        """
        N, D = x.shape
        # 10 eps keeps an empty component from dividing by zero (scikit-learn does the same).
        Nk = resp.sum(0) + 10 * torch.finfo(resp.dtype).eps  # (K,)
        means = resp.T @ x / Nk.unsqueeze(1)  # (K, D)  (eq:gmm-m-step)
        diff = x.unsqueeze(0) - means.unsqueeze(1)  # (K, N, D)
        cov = torch.einsum("nk,kni,knj->kij", resp, diff, diff) / Nk.view(-1, 1, 1)  # (K, D, D)  (eq:gmm-m-step)
        cov = cov + self.reg_covar * torch.eye(D, dtype=x.dtype, device=x.device)
        self.weights = Nk / Nk.sum()  # (eq:gmm-m-step)
        self.means = means
        self.covariances = cov

    @torch.no_grad()
    def fit(self, x: torch.Tensor, n_iter: int = 100, tol: float = 1e-6) -> list[float]:
        """Run EM for at most ``n_iter`` iterations; return the mean log-likelihoods ``[l_0, l_1, ..., l_T]``.

        ``l_t`` is the mean log-likelihood after ``t`` iterations (``l_0`` at the starting
        point), so the list has one more entry than the number of iterations run. EM stops
        early when an iteration raises it by less than ``tol`` (``tol=0`` runs all
        ``n_iter``, as scikit-learn does with ``tol=0``).
        """
        history: list[float] = []
        for _ in range(n_iter):
            resp, log_px = self._posterior(x)  # E-step; the log-likelihood comes with it
            history.append(float(log_px.mean()))
            if len(history) > 1 and abs(history[-1] - history[-2]) < tol:
                return history
            self.m_step(x, resp)
        history.append(float(self.log_likelihood(x)))
        return history

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Ancestral sampling ``z ~ Categorical(pi)``, ``x ~ N(mu_z, Sigma_z)``; returns ``x (n, D)`` and ``z (n,)``."""
        z = torch.multinomial(self.weights, n, replacement=True, generator=generator)  # (n,)
        L = torch.linalg.cholesky(self.covariances)  # (K, D, D)
        eps = torch.randn(n, self.means.shape[1], 1, generator=generator, dtype=self.means.dtype,
                          device=self.means.device)  # (n, D, 1)
        return self.means[z] + (L[z] @ eps).squeeze(-1), z

    def extra_repr(self) -> str:
        return f"n_components={self.n_components}, dim={self.means.shape[1]}, reg_covar={self.reg_covar}"
