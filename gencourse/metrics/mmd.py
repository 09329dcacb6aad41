r"""The kernel two-sample test of Gretton et al. (2012): do two samples come from the same distribution?

The maximum mean discrepancy between distributions :math:`P` and :math:`Q` with a kernel
:math:`k` is the distance between their mean embeddings,
:math:`\mathrm{MMD}^2 = \mathbb{E}\,k(x, x') + \mathbb{E}\,k(y, y') - 2\,\mathbb{E}\,k(x, y)`
(:math:`x, x' \sim P`, :math:`y, y' \sim Q` independent); for a characteristic kernel such as
the Gaussian it is 0 exactly when :math:`P = Q`. From samples :math:`x_{1..m}` and
:math:`y_{1..n}`, the **unbiased** estimate (Gretton et al., 2012, Lemma 6) leaves out the
diagonal terms :math:`k(x_i, x_i)`:

.. math::

    \widehat{\mathrm{MMD}}^2_u = \frac{1}{m(m-1)} \sum_{i \ne j} k(x_i, x_j)
        + \frac{1}{n(n-1)} \sum_{i \ne j} k(y_i, y_j) - \frac{2}{mn} \sum_{i, j} k(x_i, y_j).

It can be negative when :math:`P = Q`. The kernel is :math:`k(a, b) = \exp(-\|a - b\|^2 / 2\sigma^2)`
with the **median heuristic**: :math:`\sigma` is the median of the distances between distinct
points of the pooled sample (Gretton et al., 2012, section 8). The null distribution comes from
**permutations**: under :math:`P = Q` the labels "x" and "y" are exchangeable, so the statistic of
a random relabelling of the pooled sample is a draw from it; the p-value is
:math:`(1 + \#\{\text{permuted} \ge \text{observed}\}) / (1 + \text{permutations})`, which is
valid (never below the test's level too often) for any number of permutations.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch


class MMDTest(NamedTuple):
    """The outcome of :func:`mmd_test`."""

    statistic: float  # the unbiased MMD^2 of the two samples
    p_value: float  # by permutation
    bandwidth: float  # sigma of the Gaussian kernel (the median heuristic unless given)


def gaussian_kernel(a: torch.Tensor, b: torch.Tensor, bandwidth: float) -> torch.Tensor:
    r"""``k(a_i, b_j) = exp(-|a_i - b_j|^2 / (2 sigma^2))``: ``(m, d), (n, d) -> (m, n)``."""
    return torch.exp(-torch.cdist(a, b).pow(2) / (2 * bandwidth**2))


def median_bandwidth(z: torch.Tensor) -> float:
    """The median of the distances between distinct rows of ``z`` ``(N, d)``: the median heuristic's sigma.

    For an even number of pairs, the mean of the two middle distances (as ``numpy.median``).
    """
    distances = torch.cdist(z, z)
    i, j = torch.triu_indices(len(z), len(z), offset=1)
    return float(np.median(distances[i, j].cpu().numpy()))


def mmd_unbiased(kernel: torch.Tensor, m: int) -> float:
    """The unbiased MMD^2 from the pooled kernel matrix ``(m + n, m + n)`` whose first ``m`` rows are ``x``."""
    return float(_statistics(kernel, torch.arange(len(kernel), device=kernel.device).unsqueeze(1) < m, m)[0])


def _statistics(kernel: torch.Tensor, is_x: torch.Tensor, m: int) -> torch.Tensor:
    """The unbiased MMD^2 of every labelling in the columns of ``is_x`` ``(N, P)`` (booleans, ``m`` true each)."""
    N = len(kernel)
    n = N - m
    a = is_x.to(kernel.dtype)  # (N, P): 1 for x, 0 for y
    b = 1 - a
    diag = kernel.diagonal().unsqueeze(1)  # (N, 1): the k(z_i, z_i) left out of the unbiased sums
    Ka = kernel @ a  # (N, P)
    sum_xx = (a * Ka).sum(0) - (a * diag).sum(0)  # sum over i != j in x
    sum_yy = (b * (kernel.sum(1, keepdim=True) - Ka)).sum(0) - (b * diag).sum(0)
    sum_xy = (b * Ka).sum(0)
    return sum_xx / (m * (m - 1)) + sum_yy / (n * (n - 1)) - 2 * sum_xy / (m * n)


def mmd_test(x: torch.Tensor, y: torch.Tensor, permutations: int = 1000, seed: int = 0,
             bandwidth: float | None = None, chunk: int = 100) -> MMDTest:
    """The unbiased MMD^2 of samples ``x`` ``(m, d)`` and ``y`` ``(n, d)``, its permutation p-value, the bandwidth.

    Computed in float64. The permutations come from a ``torch.Generator`` seeded with ``seed``, so
    the same inputs and seed give the same p-value. ``bandwidth`` defaults to the median heuristic
    on the pooled sample. Memory: a few ``(m + n)^2`` float64 matrices at once (the distances and the
    kernel; 128 MB each for 4,000 points).
    """
    if x.dim() != 2 or y.dim() != 2 or x.shape[1] != y.shape[1]:
        raise ValueError(f"x and y must be (m, d) and (n, d) with the same d, got {tuple(x.shape)} and "
                         f"{tuple(y.shape)}; flatten images with x.flatten(1)")
    m, n = len(x), len(y)
    if m < 2 or n < 2:
        raise ValueError(f"the unbiased statistic needs at least 2 points in each sample, got {m} and {n}")
    if permutations < 1:
        raise ValueError(f"permutations must be a positive integer, got {permutations}")
    z = torch.cat([x, y]).double()  # (N, d), the pooled sample
    sigma = median_bandwidth(z) if bandwidth is None else float(bandwidth)
    if not sigma > 0:
        raise ValueError(f"the kernel bandwidth must be positive, got {sigma} (are all points equal?)")
    kernel = gaussian_kernel(z, z, sigma)  # (N, N)
    observed = mmd_unbiased(kernel, m)
    generator = torch.Generator().manual_seed(seed)
    exceed = 0
    for start in range(0, permutations, chunk):
        p = min(chunk, permutations - start)
        ranks = torch.rand(m + n, p, generator=generator).argsort(0)  # a random permutation per column
        permuted = _statistics(kernel, (ranks < m).to(z.device), m)  # the first m of each permutation are "x"
        exceed += int((permuted >= observed).sum())
    return MMDTest(statistic=observed, p_value=(1 + exceed) / (1 + permutations), bandwidth=sigma)
