r"""The variational bound of a DDPM, term by term, in nats and in bits per dimension.

A DDPM is a latent-variable model with latents :math:`x_{1:T}` and the forward process as its
(fixed) encoder, so :math:`-\log p_\theta(x_0)` is bounded by  (eq:elbo-decomposition)

.. math::

    L = \underbrace{\mathrm{KL}\big(q(x_T \mid x_0) \,\Vert\, p(x_T)\big)}_{L_T}
      + \sum_{t=2}^{T} \underbrace{\mathrm{KL}\big(q(x_{t-1} \mid x_t, x_0) \,\Vert\,
        p_\theta(x_{t-1} \mid x_t)\big)}_{L_{t-1}}
      \underbrace{- \log p_\theta(x_0 \mid x_1)}_{L_0},

every KL between Gaussians in closed form (eq:gaussian-kl), each :math:`L_{t-1}` an average over
:math:`x_t \sim q(x_t \mid x_0)` estimated here with one draw per step. :math:`L_T` has no
parameters and is near 0.

The decoder term :math:`L_0` decides what is being bounded:

- ``decoder="gaussian"``: :math:`p_\theta(x_0 \mid x_1) = \mathcal{N}(\mu_\theta(x_1, 1), \sigma_1^2 I)`, a
  density. For 2-D data that is the bound. For images, dequantise them (:func:`gencourse.data.dequantize`,
  :math:`y \in [0, 1]`) and rescale, :math:`x_0 = 2y - 1`; then :math:`\log p(y) = \log p(x_0) + D \log 2`
  and bits per dimension follow the flows' accounting (eq:bits-per-dim),
  :math:`(-\log p(y) + D \log 256) / (D \log 2)`.
- ``decoder="discretized"``: Ho et al.'s decoder for 8-bit data :math:`x_0 \in \{2k/255 - 1\}`
  (no dequantisation), the Gaussian's mass on each pixel's bin  (eq:discretized-decoder),

  .. math::

      p_\theta(x_0 \mid x_1) = \prod_{i=1}^{D} \int_{\delta_-(x_0^i)}^{\delta_+(x_0^i)}
      \mathcal{N}\big(x; \mu_\theta^i(x_1, 1), \sigma_1^2\big)\, dx, \qquad
      \delta_\pm(x) = x \pm \tfrac{1}{255}, \ \text{widened to } \pm\infty \text{ at } x = \pm 1,

  a probability: bits per dimension are :math:`L / (D \log 2)`.

Both figures bound the code length of the 8-bit image; they differ only in :math:`L_0`.
"""

from __future__ import annotations

import math

import torch

from gencourse.diffusion.ddpm import DDPM
from gencourse.flows.images import bits_per_dim as bits_per_dim_of_density
from gencourse.nets import eval_mode
from gencourse.vi.gaussian import gaussian_kl, log_normal_diag

DECODERS = ("gaussian", "discretized")


def continuous_gaussian_log_likelihood(x0: torch.Tensor, mean: torch.Tensor, variance: torch.Tensor) -> torch.Tensor:
    """``log N(x0; mean, variance I)`` per example, in nats: ``(B, ...)`` -> ``(B,)``."""
    log_var = torch.log(variance).expand_as(x0).flatten(1)
    return log_normal_diag(x0.flatten(1), mean.flatten(1), log_var)  # (eq:log-normal-diag)


def _log_difference_of_cdfs(upper: torch.Tensor, lower: torch.Tensor) -> torch.Tensor:
    """``log(Phi(upper) - Phi(lower))`` without cancellation: in the lower tail from the CDFs, in the upper
    from the survival functions, ``log(e^a - e^b) = a + log(-expm1(b - a))``."""
    flip = (upper + lower) > 0  # mass in the upper tail: Phi(u) - Phi(l) = Phi(-l) - Phi(-u)
    a = torch.special.log_ndtr(torch.where(flip, -lower, upper))
    b = torch.special.log_ndtr(torch.where(flip, -upper, lower))
    return a + torch.log(-torch.expm1(b - a))


def discretized_gaussian_log_likelihood(x0: torch.Tensor, mean: torch.Tensor, variance: torch.Tensor,
                                        n_bins: int = 256) -> torch.Tensor:
    """The log of the Gaussian's mass on each pixel's bin, summed per example: ``(B, ...) -> (B,)``.

    (eq:discretized-decoder)

    ``x0`` holds 8-bit values ``2 k / (n_bins - 1) - 1``; bins have half-width ``1 / (n_bins - 1)``,
    and the two extreme bins reach to infinity, so the masses of all grey levels sum to 1.
    """
    k = (x0 + 1) / 2 * (n_bins - 1)
    if x0.numel() and ((k - k.round()).abs().max() > 1e-3 or k.min() < -1e-3 or k.max() > n_bins - 1 + 1e-3):
        raise ValueError(f"the discretized decoder scores {n_bins}-level data x0 = 2 k / {n_bins - 1} - 1 in [-1, 1]; "
                         "pass 2 * images - 1 of undequantised images, or use decoder='gaussian'")
    std = variance.sqrt()
    half_width = 1 / (n_bins - 1)
    upper, lower = (x0 + half_width - mean) / std, (x0 - half_width - mean) / std
    log_p = torch.where(
        k.round() <= 0, torch.special.log_ndtr(upper),  # the bin of -1 reaches to -infinity
        torch.where(k.round() >= n_bins - 1, torch.special.log_ndtr(-lower),  # the bin of 1 to +infinity
                    _log_difference_of_cdfs(upper, lower)))
    return log_p.flatten(1).sum(1)  # (eq:discretized-decoder)


@torch.no_grad()
def elbo_terms(ddpm: DDPM, x0: torch.Tensor, decoder: str = "gaussian",
               generator: torch.Generator | None = None) -> torch.Tensor:
    """``L_0, L_1, ..., L_T`` of each example, in nats: ``(B, T + 1)``, column ``s`` holding ``L_s``.

    (eq:elbo-decomposition)

    One draw of ``x_t ~ q(x_t | x0)`` for each ``t``, so ``T`` passes of the denoiser over the
    batch; an evaluation (no gradients, the model in eval mode meanwhile).
    """
    if decoder not in DECODERS:
        raise ValueError(f"decoder must be one of {DECODERS}, got {decoder!r}")
    ddpm.check_shape(x0)
    terms = x0.new_zeros(x0.shape[0], ddpm.T + 1)
    terms[:, ddpm.T] = ddpm.prior_kl(x0)  # L_T
    with eval_mode(ddpm):
        for t in range(1, ddpm.T + 1):
            eps = torch.randn(x0.shape, generator=generator, dtype=x0.dtype, device=x0.device)
            x_t = ddpm.q_sample(x0, t, eps)  # (eq:forward-closed-form)
            mean_p, var_p = ddpm.p_mean_variance(x_t, t)
            if t == 1:  # L_0 = -log p(x0 | x1)
                log_likelihood = {"gaussian": continuous_gaussian_log_likelihood,
                                  "discretized": discretized_gaussian_log_likelihood}[decoder]
                terms[:, 0] = -log_likelihood(x0, mean_p, var_p)
            else:  # L_{t-1} = KL(q(x_{t-1} | x_t, x0) || p(x_{t-1} | x_t))
                mean_q, var_q = ddpm.q_posterior(x0, x_t, t)
                log_var_q, log_var_p = (torch.log(v).expand_as(x0).flatten(1) for v in (var_q, var_p))  # (B, D)
                kl = gaussian_kl(mean_q.flatten(1), log_var_q, mean_p.flatten(1), log_var_p)  # (eq:gaussian-kl)
                terms[:, t - 1] = kl
    return terms


def nll_bound(ddpm: DDPM, x0: torch.Tensor, decoder: str = "gaussian",
              generator: torch.Generator | None = None) -> torch.Tensor:
    """The negative ELBO ``L_T + sum_t L_{t-1} + L_0`` of each example, in nats: ``(B,)``  (eq:elbo-decomposition)."""
    return elbo_terms(ddpm, x0, decoder, generator).sum(1)


def bits_per_dim(ddpm: DDPM, x0: torch.Tensor, decoder: str = "gaussian",
                 generator: torch.Generator | None = None) -> torch.Tensor:
    """The bound in bits per dimension of each 8-bit image: ``(B,)``. See the module docstring for the accounting.

    ``decoder="gaussian"``: ``x0 = 2 y - 1`` for dequantised images ``y`` in [0, 1], and
    ``(L - D log 2 + D log 256) / (D log 2)``  (eq:bits-per-dim). ``decoder="discretized"``:
    ``x0 = 2 x - 1`` for the 8-bit images ``x`` themselves, and ``L / (D log 2)``.
    """
    if x0.numel() and (x0.min() < -1 or x0.max() > 1):
        raise ValueError("bits per dimension are for images rescaled to [-1, 1]: pass 2 * dequantize(images) - 1 "
                         "(decoder='gaussian') or 2 * images - 1 (decoder='discretized')")
    D = math.prod(ddpm.data_shape)
    nll = nll_bound(ddpm, x0, decoder, generator)
    if decoder == "discretized":
        return nll / (D * math.log(2))
    log_p_y = -nll + D * math.log(2)  # the density of y = (x0 + 1) / 2 in [0, 1]^D
    return bits_per_dim_of_density(log_p_y, D)  # (eq:bits-per-dim)
