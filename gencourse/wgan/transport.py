r"""Exact optimal transport, the reference every critic is checked against.

The Wasserstein-1 distance between two distributions is the cheapest cost of moving the mass
of one onto the other  (eq:w1-primal):

.. math::

    W_1(\mu, \nu) = \inf_{\gamma \in \Pi(\mu, \nu)} \mathbb{E}_{(x, y) \sim \gamma} \|x - y\|.

For discrete distributions it is a linear program over the transport plan
:math:`\gamma_{ij} \ge 0` with row sums :math:`a_i` and column sums :math:`b_j`
(eq:discrete-ot), solved here with scipy's HiGHS solver. Between two samples of equal size
with equal weights an optimal plan is a permutation (Birkhoff-von Neumann), so the problem is
an assignment problem, solved exactly by :func:`scipy.optimize.linear_sum_assignment`. On the
real line the optimal plan is monotone: sort both samples and match them in order
(eq:w1-sorted), or integrate the distance between the two empirical CDFs.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment, linprog


def wasserstein_1d(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    r"""Exact ``W1`` between the empirical distributions of 1-D samples ``x`` and ``y``  (eq:w1-sorted).

    For equal sizes it is ``mean |x_(i) - y_(i)|`` over the sorted samples; in general it is
    ``integral |F_x(t) - F_y(t)| dt`` over the merged sample points. Differentiable in ``x``
    and ``y`` (almost everywhere).
    """
    x, y = x.flatten(), y.flatten()
    if len(x) == len(y):
        return (x.sort().values - y.sort().values).abs().mean()  # (eq:w1-sorted)
    points = torch.cat([x, y]).sort().values
    widths = points[1:] - points[:-1]
    t = points[:-1]
    F_x = torch.searchsorted(x.sort().values.contiguous(), t.contiguous(), right=True).to(x.dtype) / len(x)
    F_y = torch.searchsorted(y.sort().values.contiguous(), t.contiguous(), right=True).to(x.dtype) / len(y)
    return ((F_x - F_y).abs() * widths).sum()


def discrete_transport(a: np.ndarray, b: np.ndarray, cost: np.ndarray) -> tuple[np.ndarray, float]:
    r"""The optimal plan ``gamma (m, n)`` and cost of moving masses ``a (m,)`` onto ``b (n,)``  (eq:discrete-ot).

    Solves ``min sum_ij gamma_ij C_ij`` subject to ``gamma >= 0``, ``gamma 1 = a``,
    ``gamma^T 1 = b`` with scipy's ``linprog`` (HiGHS). ``a`` and ``b`` must have the same total.
    """
    a, b, cost = (np.asarray(v, dtype=np.float64) for v in (a, b, cost))
    m, n = cost.shape
    if not np.isclose(a.sum(), b.sum()):
        raise ValueError(f"the two distributions must have the same total mass, got {a.sum()} and {b.sum()}")
    rows = np.kron(np.eye(m), np.ones((1, n)))  # (m, m n): sum over j of gamma_ij
    cols = np.kron(np.ones((1, m)), np.eye(n))  # (n, m n): sum over i of gamma_ij
    result = linprog(cost.ravel(), A_eq=np.vstack([rows, cols]), b_eq=np.concatenate([a, b]),
                     bounds=(0, None), method="highs")  # (eq:discrete-ot)
    if result.status != 0:
        raise RuntimeError(f"the transport linear program failed: {result.message}")
    return result.x.reshape(m, n), float(result.fun)


def exact_w1(x: torch.Tensor, y: torch.Tensor) -> float:
    r"""Exact ``W1`` (Euclidean cost) between the empirical distributions of samples ``x (m, d)`` and ``y (n, d)``.

    Equal sizes: an optimal assignment (exact, fast for thousands of points). Otherwise the
    linear program of :func:`discrete_transport` with uniform weights (keep ``m n`` modest).
    """
    x64, y64 = x.detach().double().cpu(), y.detach().double().cpu()
    cost = torch.cdist(x64, y64).numpy()  # (m, n) Euclidean distances
    if len(x64) == len(y64):
        rows, cols = linear_sum_assignment(cost)
        return float(cost[rows, cols].mean())
    a = np.full(len(x64), 1 / len(x64))
    b = np.full(len(y64), 1 / len(y64))
    return discrete_transport(a, b, cost)[1]
