r"""Noise schedules :math:`\beta_1, \dots, \beta_T` of a diffusion process, computed in float64.

The forward process adds a little Gaussian noise at each step, :math:`q(x_t \mid x_{t-1}) =
\mathcal{N}(\sqrt{1 - \beta_t}\, x_{t-1}, \beta_t I)`, and a schedule says how much. What a
schedule really fixes is :math:`\bar\alpha_t = \prod_{s \le t} (1 - \beta_s)`, the fraction of
the signal's variance left at step :math:`t`: it should fall from about 1 to about 0, so that
:math:`x_T` is (almost) pure noise.

- linear (Ho et al., 2020): :math:`\beta_t` evenly spaced from :math:`\beta_1 = 10^{-4}` to
  :math:`\beta_T = 0.02` for :math:`T = 1000`  (eq:linear-schedule);
- cosine (Nichol & Dhariwal, 2021): :math:`\bar\alpha_t = f(t) / f(0)` with
  :math:`f(t) = \cos^2\!\big(\frac{t/T + s}{1 + s} \cdot \frac{\pi}{2}\big)`, :math:`s = 0.008`, and
  :math:`\beta_t = \min\big(1 - \bar\alpha_t / \bar\alpha_{t-1},\, 0.999\big)`  (eq:cosine-schedule).
  The clip keeps the last steps from being singular (:math:`f(T) = 0` would make
  :math:`\beta_T = 1`); the linear schedule destroys the signal faster and wastes its last steps
  on noise, the cosine one spends them evenly.

Products of a thousand factors close to 1 and differences such as :math:`1 - \bar\alpha_t` at
small :math:`t` lose digits in float32; everything here is float64, rounded once by whoever
stores it. Each function returns :math:`(\beta_1, \dots, \beta_T)`, a float64 tensor of shape ``(T,)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch


def _check_T(T: int) -> None:
    if int(T) != T or T < 1:
        raise ValueError(f"the number of diffusion steps T must be a positive integer, got {T}")


def linear_schedule(T: int, beta_1: float | None = None, beta_T: float | None = None) -> torch.Tensor:
    """``beta_t`` evenly spaced from ``beta_1`` to ``beta_T``, ``t = 1..T``  (eq:linear-schedule).

    The defaults are Ho et al.'s ``1e-4`` and ``0.02`` at ``T = 1000``, both scaled by ``1000 / T``
    for other ``T`` (as in Nichol & Dhariwal's code): the sum of the betas, hence
    ``alpha_bar_T`` (about ``4e-5``), then barely depends on ``T``.
    """
    _check_T(T)
    beta_1 = 0.1 / T if beta_1 is None else beta_1
    beta_T = 20.0 / T if beta_T is None else beta_T
    if not 0 < beta_1 <= beta_T < 1:
        raise ValueError(f"the linear schedule needs 0 < beta_1 <= beta_T < 1, got beta_1={beta_1}, beta_T={beta_T}"
                         + ("; with the default betas, T must be at least 21" if T <= 20 else ""))
    return torch.linspace(beta_1, beta_T, T, dtype=torch.float64)  # (eq:linear-schedule)


def cosine_alpha_bar(t: torch.Tensor, T: int, s: float = 0.008) -> torch.Tensor:
    """``f(t) / f(0)`` with ``f(t) = cos^2(((t / T + s) / (1 + s)) pi / 2)``  (eq:cosine-schedule), in float64."""
    f = lambda u: torch.cos((u / T + s) / (1 + s) * math.pi / 2) ** 2  # noqa: E731
    t = torch.as_tensor(t, dtype=torch.float64)
    return f(t) / f(torch.zeros((), dtype=torch.float64))


def cosine_schedule(T: int, s: float = 0.008, max_beta: float = 0.999) -> torch.Tensor:
    """``beta_t = min(1 - alpha_bar(t) / alpha_bar(t - 1), max_beta)``, cosine ``alpha_bar``  (eq:cosine-schedule)."""
    _check_T(T)
    if not 0 < max_beta < 1:
        raise ValueError(f"max_beta must lie in (0, 1), got {max_beta}")
    alpha_bar = cosine_alpha_bar(torch.arange(T + 1), T, s)  # (T + 1,): t = 0..T
    return (1 - alpha_bar[1:] / alpha_bar[:-1]).clamp(max=max_beta)  # (eq:cosine-schedule)


SCHEDULES: dict[str, Callable[[int], torch.Tensor]] = {"linear": linear_schedule, "cosine": cosine_schedule}


def make_schedule(name: str, T: int) -> torch.Tensor:
    """The schedule ``name`` (a key of :data:`SCHEDULES`) for ``T`` steps: ``(beta_1, ..., beta_T)`` in float64."""
    if name not in SCHEDULES:
        raise ValueError(f"unknown noise schedule {name!r}; choose one of {sorted(SCHEDULES)}")
    return SCHEDULES[name](T)
