"""2-D toy distributions, made in code: each ``sample_*`` returns a ``(n, 2)`` float tensor.

All take a ``torch.Generator`` so that a notebook's data set does not depend on how many
random numbers were drawn before it.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

Sampler = Callable[..., torch.Tensor]


def _check_n(n: int) -> None:
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")


def ring_centers(modes: int = 8, radius: float = 2.0) -> torch.Tensor:
    """The ``modes`` centres of :func:`sample_ring`, evenly spaced on a circle: ``(modes, 2)``."""
    angle = 2 * math.pi * torch.arange(modes, dtype=torch.float64) / modes
    return radius * torch.stack([angle.cos(), angle.sin()], dim=1)


def grid_centers(side: int = 5, spacing: float = 1.0) -> torch.Tensor:
    """The ``side**2`` centres of :func:`sample_grid`, a square lattice centred at 0."""
    axis = (torch.arange(side, dtype=torch.float64) - (side - 1) / 2) * spacing
    return torch.cartesian_prod(axis, axis)


def _mixture(centers: torch.Tensor, std: float, n: int, generator: torch.Generator | None) -> torch.Tensor:
    k = torch.randint(len(centers), (n,), generator=generator)
    noise = torch.randn(n, 2, generator=generator, dtype=torch.float64)
    return (centers[k] + std * noise).float()


def sample_ring(
    n: int, modes: int = 8, radius: float = 2.0, std: float = 0.05, generator: torch.Generator | None = None
) -> torch.Tensor:
    """An equal-weight mixture of ``modes`` isotropic Gaussians on a circle (the mode-collapse test bed)."""
    _check_n(n)
    return _mixture(ring_centers(modes, radius), std, n, generator)


def sample_grid(
    n: int, side: int = 5, spacing: float = 1.0, std: float = 0.05, generator: torch.Generator | None = None
) -> torch.Tensor:
    """An equal-weight mixture of ``side x side`` isotropic Gaussians on a square lattice."""
    _check_n(n)
    return _mixture(grid_centers(side, spacing), std, n, generator)


def sample_moons(n: int, noise: float = 0.05, generator: torch.Generator | None = None) -> torch.Tensor:
    """Two interleaved half circles, each with ``n/2`` points (rounded), plus Gaussian noise."""
    _check_n(n)
    upper = torch.rand(n, generator=generator) < 0.5
    t = math.pi * torch.rand(n, generator=generator)
    x = torch.where(upper, t.cos(), 1 - t.cos())
    y = torch.where(upper, t.sin(), 0.5 - t.sin())
    points = torch.stack([x, y], dim=1) - torch.tensor([0.5, 0.25])
    return points + noise * torch.randn(n, 2, generator=generator)


def sample_swiss_roll(n: int, noise: float = 0.05, generator: torch.Generator | None = None) -> torch.Tensor:
    """The 2-D swiss roll: a spiral ``t (cos t, sin t)`` for ``t`` in [1.5 pi, 4.5 pi], scaled to about [-1, 1]."""
    _check_n(n)
    t = 1.5 * math.pi * (1 + 2 * torch.rand(n, generator=generator))
    points = torch.stack([t * t.cos(), t * t.sin()], dim=1) / (4.5 * math.pi)
    return points + noise * torch.randn(n, 2, generator=generator)


def sample_checkerboard(n: int, squares: int = 4, generator: torch.Generator | None = None) -> torch.Tensor:
    """Uniform on the dark squares of a ``squares x squares`` board covering [-2, 2]^2."""
    _check_n(n)
    if squares < 2 or squares % 2:
        raise ValueError(f"squares must be an even number of at least 2, got {squares}")
    width = 4.0 / squares
    # Pick a column, then a row of the same colour in it, then a uniform point in that square.
    col = torch.randint(squares, (n,), generator=generator)
    row = 2 * torch.randint(squares // 2, (n,), generator=generator) + col % 2
    corner = torch.stack([col, row], dim=1).float() * width - 2.0
    return corner + width * torch.rand(n, 2, generator=generator)


TOY_DATASETS: dict[str, Sampler] = {
    "ring": sample_ring,
    "grid": sample_grid,
    "moons": sample_moons,
    "swiss_roll": sample_swiss_roll,
    "checkerboard": sample_checkerboard,
}


def sample_toy(name: str, n: int, generator: torch.Generator | None = None, **kwargs: float) -> torch.Tensor:
    """``n`` points from the toy distribution ``name`` (one of :data:`TOY_DATASETS`)."""
    if name not in TOY_DATASETS:
        raise ValueError(f"unknown toy data set {name!r}; choose one of {sorted(TOY_DATASETS)}")
    return TOY_DATASETS[name](n, generator=generator, **kwargs)
