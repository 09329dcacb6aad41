r"""Arjovsky et al.'s parallel lines (2017, Example 1): where JS, KL and TV are blind and W1 is not.

Let :math:`Z \sim U[0, 1]`, :math:`P_0` the distribution of :math:`(0, Z)` and :math:`P_\theta`
that of :math:`(\theta, Z)`: two segments a distance :math:`|\theta|` apart. Then
(eq:parallel-lines)

.. math::

    W_1(P_0, P_\theta) = |\theta|, \qquad
    \mathrm{JS}(P_0, P_\theta) = \begin{cases} \log 2 & \theta \ne 0 \\ 0 & \theta = 0 \end{cases}, \qquad
    \mathrm{KL}(P_\theta \,\|\, P_0) = \begin{cases} \infty & \theta \ne 0 \\ 0 & \theta = 0 \end{cases}, \qquad
    \delta(P_0, P_\theta) = \begin{cases} 1 & \theta \ne 0 \\ 0 & \theta = 0 \end{cases}.

Only :math:`W_1` is continuous in :math:`\theta` and tells a learner which way to move; the
others jump at 0 and are flat elsewhere, so their gradient is zero.
"""

from __future__ import annotations

import math

import torch


def sample_parallel_line(theta: float, n: int, generator: torch.Generator | None = None,
                         dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """``n`` points ``(theta, Z)`` with ``Z ~ U[0, 1]``: ``(n, 2)``."""
    z = torch.rand(n, generator=generator, dtype=dtype)
    return torch.stack([torch.full_like(z, theta), z], dim=1)


def parallel_lines_divergences(theta: float) -> dict[str, float]:
    """The closed forms of (eq:parallel-lines): ``{"w1", "js", "kl", "tv"}`` between ``P_0`` and ``P_theta``."""
    apart = theta != 0
    return {"w1": abs(theta), "js": math.log(2) if apart else 0.0, "kl": math.inf if apart else 0.0,
            "tv": 1.0 if apart else 0.0}


def histogram2d(points: torch.Tensor, edges_x: torch.Tensor, edges_y: torch.Tensor) -> torch.Tensor:
    """The share of ``points (n, 2)`` in each cell of the grid ``edges_x x edges_y``: a flattened probability vector."""
    hist, _ = torch.histogramdd(points.double(), bins=[edges_x.double(), edges_y.double()])
    return (hist / hist.sum()).flatten()
