r"""Probabilistic principal component analysis (Tipping & Bishop, 1999).

A linear-Gaussian latent variable model with a ``d``-dimensional latent code (Tipping and
Bishop call its dimension ``q``):

.. math::

    z \sim \mathcal{N}(0, I_d), \qquad x \mid z \sim \mathcal{N}(W z + \mu, \sigma^2 I_D)
    \quad\Longrightarrow\quad x \sim \mathcal{N}(\mu, C), \quad C = W W^\top + \sigma^2 I_D.
    \quad (eq:ppca-marginal)

Its maximum-likelihood parameters have a closed form in terms of the eigen-decomposition
:math:`S = U \Lambda U^\top` of the data covariance, eigenvalues in decreasing order:

.. math::

    \mu_{ML} = \bar x, \qquad \sigma^2_{ML} = \frac{1}{D - d} \sum_{j > d} \lambda_j, \qquad
    W_{ML} = U_d (\Lambda_d - \sigma^2_{ML} I)^{1/2} R,                               \quad (eq:ppca-ml)

for any orthogonal :math:`R`; this class takes :math:`R = I`, so the columns of ``W`` are the
principal directions scaled by :math:`\sqrt{\lambda_j - \sigma^2}` and are mutually orthogonal.
The posterior over the code is Gaussian too:

.. math::

    p(z \mid x) = \mathcal{N}\big(M^{-1} W^\top (x - \mu), \ \sigma^2 M^{-1}\big), \qquad M = W^\top W + \sigma^2 I_d.
    \quad (eq:ppca-posterior)

``log_prob`` never forms the ``D x D`` matrix ``C``: it uses
``torch.distributions.LowRankMultivariateNormal``, whose Woodbury / matrix-determinant-lemma
algebra costs ``O(D d^2)`` instead of ``O(D^3)``.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.distributions import LowRankMultivariateNormal


class PPCA(nn.Module):
    """Probabilistic PCA with a ``latent_dim``-dimensional code.

    ``PPCA(latent_dim).fit(x)`` sets the maximum-likelihood ``W (D, d)``, ``mu (D,)`` and
    ``sigma2`` (a 0-dim tensor). The three are buffers and may also be set by hand, e.g. to
    evaluate perturbed parameters. Inputs of any shape ``(N, ...)`` are flattened to ``(N, D)``;
    outputs are ``(N, D)``.
    """

    W: torch.Tensor | None
    mu: torch.Tensor | None
    sigma2: torch.Tensor | None

    def __init__(self, latent_dim: int, W: torch.Tensor | None = None, mu: torch.Tensor | None = None,
                 sigma2: torch.Tensor | float | None = None) -> None:
        super().__init__()
        if latent_dim < 1:
            raise ValueError(f"latent_dim must be at least 1, got {latent_dim}")
        self.latent_dim = latent_dim
        self.register_buffer("W", W)
        self.register_buffer("mu", mu)
        self.register_buffer("sigma2", None if sigma2 is None else torch.as_tensor(sigma2))
        self.eigenvalues: torch.Tensor | None = None  # all D eigenvalues of S, set by fit

    def _check_fitted(self) -> None:
        if self.W is None or self.mu is None or self.sigma2 is None:
            raise RuntimeError("PPCA has no parameters yet: call fit(x) or pass W, mu and sigma2")

    @torch.no_grad()
    def fit(self, x: torch.Tensor) -> PPCA:
        """Set the closed-form maximum-likelihood ``mu``, ``sigma2`` and ``W``  (eq:ppca-ml); return ``self``."""
        x = x.flatten(1)  # (N, D)
        N, D = x.shape
        d = self.latent_dim
        if d >= D:
            raise ValueError(f"latent_dim ({d}) must be smaller than the data dimension ({D})")
        mu = x.mean(0)
        S = (x - mu).T @ (x - mu) / N  # (D, D) maximum-likelihood covariance (divides by N)
        lam, U = torch.linalg.eigh(S)  # ascending order
        lam, U = lam.flip(0).clamp_min(0), U.flip(1)  # decreasing; clamp round-off below 0
        sigma2 = lam[d:].mean()  # (eq:ppca-ml) the mean of the D - d discarded eigenvalues
        tol = D * torch.finfo(lam.dtype).eps * lam[0]  # eigenvalues below this are round-off (as in matrix_rank)
        if sigma2 <= tol:
            rank = int((lam > tol).sum())
            raise ValueError(
                f"the data span only about {rank} dimensions, so with latent_dim={d} the noise variance sigma2 "
                "would be 0 and the likelihood unbounded; choose latent_dim below that rank"
            )
        W = U[:, :d] * (lam[:d] - sigma2).clamp_min(0).sqrt()  # (eq:ppca-ml) U_d (Lambda_d - sigma2 I)^(1/2), R = I
        self.mu, self.W, self.sigma2, self.eigenvalues = mu, W, sigma2, lam
        return self

    def marginal(self) -> LowRankMultivariateNormal:
        """``p(x) = N(mu, W W^T + sigma2 I)`` as a torch distribution  (eq:ppca-marginal)."""
        self._check_fitted()
        diag = self.sigma2.expand_as(self.mu)  # (D,)
        return LowRankMultivariateNormal(self.mu, cov_factor=self.W, cov_diag=diag)  # (eq:ppca-marginal)

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """``log N(x_n; mu, W W^T + sigma2 I)`` for each row: ``(N, ...) -> (N,)``  (eq:ppca-marginal)."""
        return self.marginal().log_prob(x.flatten(1))

    def log_likelihood(self, x: torch.Tensor) -> torch.Tensor:
        """The mean log-likelihood per data point (a scalar)."""
        return self.log_prob(x).mean()

    def posterior(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean ``(N, d)`` and covariance ``(d, d)`` of ``p(z | x)``  (eq:ppca-posterior)."""
        self._check_fitted()
        d = self.W.shape[1]
        M = self.W.T @ self.W + self.sigma2 * torch.eye(d, dtype=self.W.dtype, device=self.W.device)  # (d, d)
        mean = torch.linalg.solve(M, self.W.T @ (x.flatten(1) - self.mu).T).T  # (N, d)  (eq:ppca-posterior)
        return mean, self.sigma2 * torch.linalg.inv(M)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """The posterior mean ``E[z | x] = M^{-1} W^T (x - mu)``: ``(N, ...) -> (N, d)``  (eq:ppca-posterior)."""
        return self.posterior(x)[0]

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """The mean of ``p(x | z)``, ``W z + mu``: ``(N, d) -> (N, D)``."""
        self._check_fitted()
        return z @ self.W.T + self.mu

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """``decode(encode(x)) = W E[z | x] + mu``: ``(N, ...) -> (N, D)``.

        Because ``M^{-1}`` shrinks the code towards 0, this is *not* the orthogonal projection
        onto the principal subspace: each principal coordinate is scaled by
        ``(lambda_j - sigma2) / lambda_j < 1``. It becomes the projection as ``sigma2 -> 0``
        (Tipping & Bishop, 1999, section 3.2).
        """
        return self.decode(self.encode(x))

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Ancestral sampling ``z ~ N(0, I)``, ``x = W z + mu + sigma eps``: ``(n, D)``."""
        self._check_fitted()
        D, d = self.W.shape
        z = torch.randn(n, d, generator=generator, dtype=self.W.dtype, device=self.W.device)
        eps = torch.randn(n, D, generator=generator, dtype=self.W.dtype, device=self.W.device)
        return self.decode(z) + self.sigma2.sqrt() * eps

    def extra_repr(self) -> str:
        shape = "unfitted" if self.W is None else f"D={self.W.shape[0]}, sigma2={float(self.sigma2):.4g}"
        return f"latent_dim={self.latent_dim}, {shape}"
