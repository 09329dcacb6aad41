r"""Why a generator fed by one Gaussian cannot split its samples cleanly into separated classes.

The **Gaussian isoperimetric inequality** (Sudakov & Tsirelson, 1974; Borell, 1975): for a set
:math:`A \subset \mathbb{R}^d` of standard normal mass :math:`\gamma(A) = \Phi(\alpha)` and its
:math:`r`-neighbourhood :math:`A_r` (the points at distance less than :math:`r` from :math:`A`),
:math:`\gamma(A_r) \ge \Phi(\alpha + r)`, with equality for half-spaces.

Let :math:`G` be :math:`L`-Lipschitz, :math:`z \sim \mathcal{N}(0, I_d)`, and :math:`S_1, S_2` two
sets of images at distance at least :math:`\Delta` from each other (two classes, say), which
receive the masses :math:`a = P(G(z) \in S_1)` and :math:`b = P(G(z) \in S_2)`. With
:math:`A = G^{-1}(S_1)`, every latent at distance less than :math:`\Delta / L` from :math:`A` is
mapped to distance less than :math:`\Delta` from :math:`S_1`, hence not into :math:`S_2`: :math:`A_{\Delta/L}` and
:math:`G^{-1}(S_2)` are disjoint, so :math:`\Phi(\Phi^{-1}(a) + \Delta / L) \le 1 - b`, that is
(eq:gap-bound)

.. math::

    \Phi^{-1}(a) + \Phi^{-1}(b) \le -\Delta / L.

For two classes of equal mass, the mass :math:`g = 1 - a - b` that falls *between* them is at
least :math:`2\Phi(\Delta / (2L)) - 1`  (eq:gap-mass) (Tanielian et al., 2020): a smooth generator
of a connected latent must draw in-between images, and only a steep one (large :math:`L`) draws
few. A conditional generator, which receives the class as a discrete input, is not bound by it.
"""

from __future__ import annotations

from statistics import NormalDist

_STANDARD_NORMAL = NormalDist()


def separation_bound(a: float, b: float, gap: float, lipschitz: float) -> float:
    r"""``Phi^-1(a) + Phi^-1(b) + gap / lipschitz``: at most 0 for any ``lipschitz``-Lipschitz G  (eq:gap-bound).

    ``a`` and ``b`` are the masses that a generator of ``z ~ N(0, I)`` puts on two sets of
    images ``gap`` apart. A positive value means that no generator with that Lipschitz
    constant can do it.
    """
    if not (0 < a < 1 and 0 < b < 1):
        raise ValueError(f"the masses a and b must lie strictly between 0 and 1, got a={a}, b={b}")
    _check_gap(gap, lipschitz)
    return _STANDARD_NORMAL.inv_cdf(a) + _STANDARD_NORMAL.inv_cdf(b) + gap / lipschitz  # (eq:gap-bound)


def gap_mass_lower_bound(gap: float, lipschitz: float) -> float:
    r"""``2 Phi(gap / (2 lipschitz)) - 1``: the least mass between two equal classes ``gap`` apart  (eq:gap-mass)."""
    _check_gap(gap, lipschitz)
    return 2 * _STANDARD_NORMAL.cdf(gap / (2 * lipschitz)) - 1  # (eq:gap-mass)


def _check_gap(gap: float, lipschitz: float) -> None:
    if gap < 0 or lipschitz <= 0:
        raise ValueError(f"need gap >= 0 and lipschitz > 0, got gap={gap}, lipschitz={lipschitz}")
