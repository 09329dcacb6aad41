r"""Priors over codes: what an adversarial auto-encoder makes its aggregated posterior look like.

An AAE's discriminator only ever sees *samples* of the prior :math:`p(z)`, so any distribution
that can be sampled will do, including one whose density has no closed form. The three kinds:

- :class:`StandardGaussianPrior`: :math:`\mathcal{N}(0, I_d)`, the VAE's prior;
- :class:`GaussianMixturePrior`: :math:`\frac1K \sum_k \mathcal{N}(c_k, s^2 I_d)` with the ``K``
  centres :math:`c_k = r\,(\cos(2\pi k/K), \sin(2\pi k/K), 0, \dots, 0)` evenly spaced on a circle
  of radius ``r`` in the plane of the first two coordinates (Makhzani et al., 2016, use such a
  mixture in 2-D); the other ``d - 2`` coordinates share each component's standard deviation;
- :class:`SwissRollPrior`: a noisy swiss roll in the first two coordinates (and standard normal
  ones in the others), defined only by its sampler: its density is an integral over the roll's
  parameter with no closed form, so :meth:`SwissRollPrior.log_prob` raises.

Every prior has ``sample(n)`` and ``log_prob(z)`` (shapes ``(n, d)`` and ``(..., d) -> (...)``),
and a ``config`` with the keyword arguments that rebuild it through :func:`make_prior`.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from gencourse.vi.gaussian import LOG_2PI


class Prior:
    """What every prior over ``dim``-dimensional codes shares: ``sample``, ``log_prob``, ``config``."""

    name: str = ""

    def __init__(self, dim: int) -> None:
        if not isinstance(dim, int) or dim < 1:
            raise ValueError(f"the prior's dimension must be a positive integer, got {dim!r}")
        self.dim = dim

    @property
    def config(self) -> dict[str, Any]:
        """``{"name": ..., **options}``: what :func:`make_prior` needs to rebuild this prior (JSON-friendly)."""
        return {"name": self.name, **self._options()}

    def _options(self) -> dict[str, Any]:
        return {}

    def sample(self, n: int, generator: torch.Generator | None = None, device: torch.device | str | None = None,
               dtype: torch.dtype | None = None) -> torch.Tensor:
        """``n`` codes ``z ~ p(z)``: ``(n, dim)`` on ``device`` in ``dtype`` (default: torch's default dtype)."""
        if not isinstance(n, int) or n < 0:
            raise ValueError(f"the number of samples must be a non-negative integer, got {n!r}")
        dtype = dtype or torch.get_default_dtype()
        z = self._sample(n, generator, dtype)  # drawn on the CPU, so a seeded CPU generator always works
        return z.to(device) if device is not None else z

    def _sample(self, n: int, generator: torch.Generator | None, dtype: torch.dtype) -> torch.Tensor:
        raise NotImplementedError

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        """``log p(z)`` for codes ``(..., dim)``: ``(...)``."""
        raise NotImplementedError

    def _check(self, z: torch.Tensor) -> None:
        if z.shape[-1] != self.dim:
            raise ValueError(f"codes must have {self.dim} coordinates in their last dimension, got shape "
                             f"{tuple(z.shape)}")

    def __repr__(self) -> str:
        options = ", ".join(f"{key}={value!r}" for key, value in self._options().items())
        return f"{type(self).__name__}(dim={self.dim}{', ' if options else ''}{options})"


class StandardGaussianPrior(Prior):
    r""":math:`p(z) = \mathcal{N}(0, I_d)`."""

    name = "gaussian"

    def _sample(self, n: int, generator: torch.Generator | None, dtype: torch.dtype) -> torch.Tensor:
        return torch.randn(n, self.dim, generator=generator, dtype=dtype)

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        self._check(z)
        return -0.5 * (LOG_2PI + z.pow(2)).sum(-1)


class GaussianMixturePrior(Prior):
    r"""An equal-weight mixture of ``components`` Gaussians :math:`\mathcal{N}(c_k, s^2 I_d)`, centres on a circle.

    The centres lie on the circle of ``radius`` in the plane of the first two coordinates; with
    ``dim == 1`` they lie on the line instead, at ``radius * cos(2 pi k / K)``.
    """

    name = "mixture"

    def __init__(self, dim: int, components: int = 10, radius: float = 4.0, std: float = 1.0) -> None:
        super().__init__(dim)
        if not isinstance(components, int) or components < 1:
            raise ValueError(f"components must be a positive integer, got {components!r}")
        if radius < 0 or std <= 0:
            raise ValueError(f"radius must be >= 0 and std > 0, got radius={radius!r}, std={std!r}")
        self.components, self.radius, self.std = components, float(radius), float(std)

    def _options(self) -> dict[str, Any]:
        return {"components": self.components, "radius": self.radius, "std": self.std}

    def centers(self, dtype: torch.dtype | None = None) -> torch.Tensor:
        """The ``(components, dim)`` centres :math:`c_k`."""
        angle = 2 * math.pi * torch.arange(self.components, dtype=torch.float64) / self.components
        c = torch.zeros(self.components, self.dim, dtype=torch.float64)
        c[:, 0] = self.radius * angle.cos()
        if self.dim > 1:
            c[:, 1] = self.radius * angle.sin()
        return c.to(dtype or torch.get_default_dtype())

    def _sample(self, n: int, generator: torch.Generator | None, dtype: torch.dtype) -> torch.Tensor:
        k = torch.randint(self.components, (n,), generator=generator)  # the component of each code
        return self.centers(dtype)[k] + self.std * torch.randn(n, self.dim, generator=generator, dtype=dtype)

    def component(self, z: torch.Tensor) -> torch.Tensor:
        """The most probable component of each code ``(..., dim) -> (...)``: the nearest centre (equal widths)."""
        self._check(z)
        return torch.cdist(z.reshape(-1, self.dim), self.centers(z.dtype).to(z.device)).argmin(1).view(z.shape[:-1])

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        r""":math:`\log \frac1K \sum_k \mathcal{N}(z; c_k, s^2 I)`, by a log-sum-exp over the components."""
        self._check(z)
        c = self.centers(z.dtype).to(z.device)  # (K, d)
        squared = (z.unsqueeze(-2) - c).pow(2).sum(-1)  # (..., K)
        log_components = -0.5 * (self.dim * (LOG_2PI + 2 * math.log(self.std)) + squared / self.std**2)
        return torch.logsumexp(log_components, -1) - math.log(self.components)


class SwissRollPrior(Prior):
    r"""A swiss roll :math:`\text{scale}\; t(\cos t, \sin t) / 4.5\pi + \text{noise}`, ``t`` uniform on [1.5pi, 4.5pi].

    The first two coordinates follow the roll, scaled so that it spans about ``[-scale, scale]``,
    with isotropic Gaussian ``noise``; any further coordinates are standard normal. Only the
    sampler is defined: see :meth:`log_prob`.
    """

    name = "swiss_roll"

    def __init__(self, dim: int, scale: float = 2.0, noise: float = 0.1) -> None:
        super().__init__(dim)
        if dim < 2:
            raise ValueError(f"the swiss roll lives in the plane: its dimension must be at least 2, got {dim}")
        if scale <= 0 or noise < 0:
            raise ValueError(f"scale must be > 0 and noise >= 0, got scale={scale!r}, noise={noise!r}")
        self.scale, self.noise = float(scale), float(noise)

    def _options(self) -> dict[str, Any]:
        return {"scale": self.scale, "noise": self.noise}

    def _sample(self, n: int, generator: torch.Generator | None, dtype: torch.dtype) -> torch.Tensor:
        t = 1.5 * math.pi * (1 + 2 * torch.rand(n, generator=generator, dtype=dtype))  # uniform on [1.5 pi, 4.5 pi]
        roll = self.scale * torch.stack([t * t.cos(), t * t.sin()], dim=1) / (4.5 * math.pi)  # (n, 2)
        z = torch.randn(n, self.dim, generator=generator, dtype=dtype)
        z[:, :2] = roll + self.noise * z[:, :2]
        return z

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError(
            "the swiss-roll prior is defined only by its sampler: its density is an integral over the roll's "
            "parameter t with no closed form. An adversarial auto-encoder needs only samples of the prior; to "
            "compare codes with it, use a two-sample test (gencourse.metrics.mmd_test)."
        )


PRIORS: dict[str, type[Prior]] = {p.name: p for p in (StandardGaussianPrior, GaussianMixturePrior, SwissRollPrior)}


def make_prior(name: str, dim: int, **options: Any) -> Prior:
    """The prior called ``name`` ("gaussian", "mixture" or "swiss_roll") over ``dim``-dimensional codes."""
    if name not in PRIORS:
        raise ValueError(f"unknown prior {name!r}; choose one of {sorted(PRIORS)}")
    try:
        return PRIORS[name](dim, **options)
    except TypeError as error:  # an option that this prior does not take
        raise ValueError(f"bad options {options} for the {name!r} prior: {error}") from None
