r"""Denoising diffusion implicit models (Song et al., 2021): sampling in fewer, optionally deterministic, steps.

A DDPM's loss only ever sees the marginals :math:`q(x_t \mid x_0)`, never the chain that links
them, so any process with the same marginals can sample with the same denoiser. Song et al.'s
family jumps from step :math:`t` to any earlier step :math:`s` through the predicted
:math:`\hat x_0 = (x_t - \sqrt{1 - \bar\alpha_t}\,\varepsilon_\theta) / \sqrt{\bar\alpha_t}`
(eq:predict-x0)  (eq:ddim-step):

.. math::

    x_s = \sqrt{\bar\alpha_s}\, \hat x_0 + \sqrt{1 - \bar\alpha_s - \sigma^2}\; \varepsilon_\theta(x_t, t) + \sigma z,
    \qquad \sigma = \eta \sqrt{\frac{1 - \bar\alpha_s}{1 - \bar\alpha_t}} \sqrt{1 - \frac{\bar\alpha_t}{\bar\alpha_s}}.

:math:`\eta = 0` makes the sampler a deterministic map from :math:`x_T` to :math:`x_0` (an
Euler step of the probability-flow ODE in the right coordinates), which takes good samples in
50 steps instead of 1000; :math:`\eta = 1` with :math:`s = t - 1` is the DDPM's ancestral step
with :math:`\sigma_t^2 = \tilde\beta_t`. The steps visited are a sub-sequence
:math:`T = \tau_S > \dots > \tau_1 = 1` of evenly spaced integers, then :math:`s = 0`
(:math:`\bar\alpha_0 = 1`), where the step returns :math:`\hat x_0`.
"""

from __future__ import annotations

import torch

from gencourse.diffusion.ddpm import DDPM
from gencourse.nets import eval_mode


def ddim_timesteps(T: int, steps: int) -> torch.Tensor:
    """``steps`` evenly spaced integer time steps ``1 = tau_1 < ... < tau_S = T``: ``(S,)`` (``[T]`` for one step)."""
    if not 1 <= steps <= T:
        raise ValueError(f"DDIM visits between 1 and T = {T} of the diffusion steps, got steps={steps}")
    if steps == 1:
        return torch.tensor([T])
    # spacing (T - 1) / (S - 1) >= 1, so the rounded values are distinct; steps = T gives 1..T
    return torch.linspace(1, T, steps, dtype=torch.float64).round().long()


def ddim_step(ddpm: DDPM, x_t: torch.Tensor, t: int, s: int, eta: float = 0.0, clip: bool = False,
              eps_theta: torch.Tensor | None = None, z: torch.Tensor | None = None,
              generator: torch.Generator | None = None) -> torch.Tensor:
    """One DDIM jump from step ``t`` to an earlier step ``s`` (``0 <= s < t``)  (eq:ddim-step).

    ``eps_theta`` defaults to the denoiser's prediction at ``(x_t, t)``; ``z`` (used when
    ``eta > 0``) to a fresh standard normal draw. With ``clip``, the predicted ``x0`` is clipped
    to ``[-1, 1]`` and the noise recomputed from it.
    """
    if not 0 <= s < t:
        raise ValueError(f"a DDIM step goes back in time: need 0 <= s < t, got t={t}, s={s}")
    if not 0 <= eta <= 1:
        raise ValueError(f"eta runs from 0 (deterministic DDIM) to 1 (DDPM-like noise), got {eta}")
    tt = ddpm.check_t(t, x_t)
    if eps_theta is None:
        eps_theta = ddpm.denoiser(x_t, tt)
    alpha_bar_t, alpha_bar_s = ddpm.alpha_bar[t], ddpm.alpha_bar[s]
    one_minus_alpha_bar_t, one_minus_alpha_bar_s = ddpm.one_minus_alpha_bar[t], ddpm.one_minus_alpha_bar[s]
    x0_hat = ddpm.predict_x0(x_t, tt, eps_theta)  # (eq:predict-x0)
    if clip:
        x0_hat = x0_hat.clamp(-1, 1)
        eps_theta = (x_t - alpha_bar_t.sqrt() * x0_hat) / one_minus_alpha_bar_t.sqrt()
    # at s = 0, 1 - alpha_bar_0 = 0 makes sigma = 0: the last jump returns x0_hat
    sigma2 = eta**2 * one_minus_alpha_bar_s / one_minus_alpha_bar_t * (1 - alpha_bar_t / alpha_bar_s)
    x_s = alpha_bar_s.sqrt() * x0_hat + (one_minus_alpha_bar_s - sigma2).sqrt() * eps_theta  # (eq:ddim-step)
    if eta > 0:
        z = torch.randn(x_t.shape, generator=generator, dtype=x_t.dtype, device=x_t.device) if z is None else z
        x_s = x_s + sigma2.sqrt() * z  # (eq:ddim-step)
    return x_s


@torch.no_grad()
def ddim_sample(ddpm: DDPM, n: int, steps: int = 50, eta: float = 0.0, clip: bool = False,
                generator: torch.Generator | None = None, x_T: torch.Tensor | None = None) -> torch.Tensor:
    """``n`` samples ``(n, *data_shape)`` in ``steps`` DDIM jumps ``T = tau_S -> ... -> tau_1 -> 0``  (eq:ddim-step).

    ``x_T ~ N(0, I)`` unless given; with ``eta = 0`` the result is a deterministic function of
    ``x_T``. The model is in eval mode meanwhile and returns to its mode after.
    """
    tau = ddim_timesteps(ddpm.T, steps).tolist()
    if x_T is None:
        x_T = torch.randn(n, *ddpm.data_shape, generator=generator, dtype=ddpm.beta.dtype, device=ddpm.beta.device)
    ddpm.check_shape(x_T)
    x = x_T
    with eval_mode(ddpm):
        for t, s in zip(reversed(tau), [*reversed(tau[:-1]), 0], strict=True):
            x = ddim_step(ddpm, x, t, s, eta, clip, generator=generator)
    return x
