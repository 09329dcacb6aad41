r"""Denoising diffusion probabilistic models (Ho et al., 2020; Sohl-Dickstein et al., 2015).

The forward process destroys data :math:`x_0` in :math:`T` small Gaussian steps  (eq:forward-step)

.. math::

    q(x_t \mid x_{t-1}) = \mathcal{N}\big(x_t; \sqrt{\alpha_t}\, x_{t-1}, \beta_t I\big), \qquad \alpha_t = 1 - \beta_t,

and since Gaussians compose, any step is one draw away from the data  (eq:forward-closed-form):

.. math::

    q(x_t \mid x_0) = \mathcal{N}\big(x_t; \sqrt{\bar\alpha_t}\, x_0, (1 - \bar\alpha_t) I\big), \qquad
    \bar\alpha_t = \prod_{s=1}^t \alpha_s, \qquad
    x_t = \sqrt{\bar\alpha_t}\, x_0 + \sqrt{1 - \bar\alpha_t}\, \varepsilon.

Given :math:`x_0`, the step back is Gaussian too (Bayes' rule on two Gaussians):
:math:`q(x_{t-1} \mid x_t, x_0) = \mathcal{N}(\tilde\mu_t, \tilde\beta_t I)` with  (eq:posterior-mean)
:math:`\tilde\mu_t = \frac{\sqrt{\bar\alpha_{t-1}}\,\beta_t}{1 - \bar\alpha_t} x_0
+ \frac{\sqrt{\alpha_t}\,(1 - \bar\alpha_{t-1})}{1 - \bar\alpha_t} x_t` and  (eq:posterior-variance)
:math:`\tilde\beta_t = \frac{1 - \bar\alpha_{t-1}}{1 - \bar\alpha_t} \beta_t`.

The model runs the chain backwards, :math:`p_\theta(x_{t-1} \mid x_t) = \mathcal{N}(\mu_\theta(x_t, t),
\sigma_t^2 I)` from :math:`x_T \sim \mathcal{N}(0, I)`. A denoiser :math:`\varepsilon_\theta(x_t, t)` guesses
the noise in :math:`x_t`; putting its guess into :math:`\tilde\mu_t` (with :math:`x_0` solved from
eq:forward-closed-form, eq:predict-x0) gives the mean of one ancestral step  (eq:ancestral-step)

.. math::

    x_{t-1} = \frac{1}{\sqrt{\alpha_t}} \Big(x_t - \frac{\beta_t}{\sqrt{1 - \bar\alpha_t}}\,
    \varepsilon_\theta(x_t, t)\Big) + \sigma_t z, \qquad z \sim \mathcal{N}(0, I) \ (z = 0 \text{ at } t = 1),

with :math:`\sigma_t^2 = \beta_t` or :math:`\tilde\beta_t` (``variance``; Ho et al. found both
equally good). Training minimises the simple loss (Ho et al., eq. 14)  (eq:simple-loss)

.. math::

    L_\text{simple} = \mathbb{E}_{t \sim \mathcal{U}\{1..T\},\, x_0,\, \varepsilon}
    \big\Vert \varepsilon - \varepsilon_\theta\big(\sqrt{\bar\alpha_t} x_0
      + \sqrt{1 - \bar\alpha_t}\varepsilon, t\big)\big\Vert^2,

which is the negative ELBO of this hierarchical latent-variable model with its terms reweighted:
see :mod:`gencourse.diffusion.elbo` and :meth:`DDPM.elbo_weights`  (eq:loss-weights).

Conventions. Time steps are integers ``t = 1..T`` as in the paper; every schedule buffer has
``T + 1`` entries indexed by ``t`` itself, entry 0 holding the values at ``t = 0``
(``alpha_bar[0] = 1``, ``beta[0] = 0``), so the code reads ``self.alpha_bar[t - 1]`` where the math
reads :math:`\bar\alpha_{t-1}`. The model takes data scaled to ``[-1, 1]`` (``2 * images - 1``
for images in [0, 1]): the schedules assume data of about unit scale, and the prior
:math:`\mathcal{N}(0, I)` is matched to it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

import torch
from torch import nn

from gencourse.diffusion.networks import DENOISERS
from gencourse.diffusion.schedules import make_schedule
from gencourse.nets import eval_mode
from gencourse.vi.gaussian import gaussian_kl

VARIANCES = ("beta", "beta_tilde")


class DDPM(nn.Module):
    r"""The diffusion process wrapped around a denoiser ``eps_theta(x_t, t)``: ``loss(x0)``, ``sample(n)``.

    ``denoiser`` is a network (``(B, *data_shape)`` and integer ``(B,)`` to ``(B, *data_shape)``)
    or the config of one of :data:`~gencourse.diffusion.networks.DENOISERS`, ``{"name": "unet", ...}``;
    ``data_shape`` defaults to the denoiser's. ``schedule`` names a noise schedule,
    ``variance`` the reverse variance :math:`\sigma_t^2` (``"beta"`` or ``"beta_tilde"``).

    Buffers ``beta``, ``alpha``, ``alpha_bar``, ``one_minus_alpha_bar``, ``beta_tilde`` and
    ``sigma2``, each ``(T + 1,)`` and indexed by ``t``, are computed in float64 and stored in the
    model's dtype: float32 unless built under float64 or cast (float64 buffers would not move
    to every device, MPS among them). Casting the model re-rounds them from the float64 values,
    so ``model.double()`` has exact float64 schedules. Square roots and the posterior's
    coefficients are formed from them where they are used: ``1 - alpha_bar``, the one
    difference of nearly equal numbers, is a buffer, so nothing is lost. Buffers are not in the
    ``state_dict``: the config rebuilds them.
    """

    def __init__(
        self,
        denoiser: nn.Module | Mapping[str, object],
        data_shape: Sequence[int] | None = None,
        T: int = 1000,
        schedule: str = "linear",
        variance: str = "beta",
    ) -> None:
        super().__init__()
        if variance not in VARIANCES:
            raise ValueError(f"variance must be one of {VARIANCES}, got {variance!r}")
        if isinstance(denoiser, Mapping):
            spec = dict(denoiser)
            name = spec.pop("name", None)
            if name not in DENOISERS:
                raise ValueError(f"a denoiser config needs 'name' in {sorted(DENOISERS)}, got {name!r}")
            denoiser = DENOISERS[name](**spec)
        self.denoiser = denoiser
        if data_shape is None:
            if not hasattr(denoiser, "data_shape"):
                raise ValueError("pass data_shape: the denoiser has no data_shape attribute to take it from")
            data_shape = denoiser.data_shape
        self.data_shape = tuple(int(s) for s in data_shape)
        self.T, self.schedule, self.variance = int(T), schedule, variance
        beta = torch.cat([torch.zeros(1, dtype=torch.float64), make_schedule(schedule, self.T)])  # (T + 1,): t = 0..T
        alpha = 1 - beta
        log_alpha_bar = torch.cumsum(torch.log1p(-beta), 0)
        alpha_bar = log_alpha_bar.exp()  # alpha_bar[0] = 1
        one_minus_alpha_bar = -torch.expm1(log_alpha_bar)  # 1 - alpha_bar without cancellation at small t
        beta_tilde = torch.zeros_like(beta)
        beta_tilde[1:] = one_minus_alpha_bar[:-1] / one_minus_alpha_bar[1:] * beta[1:]  # (eq:posterior-variance)
        sigma2 = (beta if variance == "beta" else beta_tilde).clone()
        sigma2[1] = beta[1]  # beta_tilde_1 = 0; the decoder p(x_0 | x_1) keeps the variance beta_1 either way
        # float64 masters (on the CPU, not module state) and their roundings to the model's dtype (buffers)
        self._exact = {"beta": beta, "alpha": alpha, "alpha_bar": alpha_bar,
                       "one_minus_alpha_bar": one_minus_alpha_bar, "beta_tilde": beta_tilde, "sigma2": sigma2}
        dtype = torch.get_default_dtype()
        for name, value in self._exact.items():
            self.register_buffer(name, value.to(dtype), persistent=False)

    def _apply(self, fn: Callable[[torch.Tensor], torch.Tensor], recurse: bool = True) -> DDPM:
        super()._apply(fn, recurse)
        for name, exact in getattr(self, "_exact", {}).items():  # re-round from float64, not from the old dtype
            now = self._buffers[name]
            self._buffers[name] = exact.to(device=now.device, dtype=now.dtype)
        return self

    @property
    def config(self) -> dict[str, object]:
        """The keyword arguments that rebuild this model, its denoiser included (JSON-friendly)."""
        names = [name for name, cls in DENOISERS.items() if type(self.denoiser) is cls]
        if not names or not hasattr(self.denoiser, "config"):
            raise ValueError(f"the config of a DDPM names its denoiser: use one of {sorted(DENOISERS)}, "
                             f"not {type(self.denoiser).__name__}")
        return {"denoiser": {"name": names[0], **self.denoiser.config}, "data_shape": list(self.data_shape),
                "T": self.T, "schedule": self.schedule, "variance": self.variance}

    # --- checks and indexing -------------------------------------------------------------------------------------

    def check_shape(self, x: torch.Tensor) -> None:
        if tuple(x.shape[1:]) != self.data_shape:
            shape = ", ".join(map(str, self.data_shape))
            raise ValueError(f"this DDPM models examples of shape {self.data_shape}, got a batch of shape "
                             f"{tuple(x.shape)}; pass a tensor of shape (batch, {shape})")

    def check_t(self, t: int | torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """``t`` as a ``(B,)`` integer tensor on ``x``'s device (an int is used for the whole batch), checked."""
        if isinstance(t, int):
            t = torch.full((x.shape[0],), t, device=x.device)
        if t.dtype.is_floating_point or t.dtype == torch.bool or t.shape != (x.shape[0],):
            raise ValueError(f"t must be an int or an integer tensor of shape ({x.shape[0]},), one step per "
                             f"example; got dtype {t.dtype} and shape {tuple(t.shape)}")
        if t.numel() and (int(t.min()) < 1 or int(t.max()) > self.T):
            raise ValueError(f"time steps run from 1 to T = {self.T}; got values in [{int(t.min())}, {int(t.max())}]")
        return t.to(x.device)

    @staticmethod
    def _per_example(values: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """``(B,)`` -> ``(B, 1, ..., 1)``, to broadcast against ``x`` of shape ``(B, ...)``; a scalar stays one."""
        return values if values.dim() == 0 else values.view(-1, *[1] * (x.dim() - 1))

    # --- the forward process --------------------------------------------------------------------------------------

    def q_sample(self, x0: torch.Tensor, t: int | torch.Tensor, eps: torch.Tensor | None = None) -> torch.Tensor:
        """``x_t = sqrt(alpha_bar_t) x0 + sqrt(1 - alpha_bar_t) eps``: a draw of ``q(x_t | x0)``.

        ``eps ~ N(0, I)`` unless given  (eq:forward-closed-form).
        """
        self.check_shape(x0)
        self.check_t(t, x0)  # an int t stays an int: one coefficient for the whole batch
        eps = torch.randn_like(x0) if eps is None else eps
        alpha_bar = self._per_example(self.alpha_bar[t], x0)
        one_minus_alpha_bar = self._per_example(self.one_minus_alpha_bar[t], x0)
        return alpha_bar.sqrt() * x0 + one_minus_alpha_bar.sqrt() * eps  # (eq:forward-closed-form)

    def q_posterior(self, x0: torch.Tensor, x_t: torch.Tensor,
                    t: int | torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean ``(B, ...)`` and variance ``(B, 1, ..., 1)`` (a scalar for an int ``t``) of ``q(x_{t-1} | x_t, x0)``.

        (eq:posterior-mean, eq:posterior-variance)
        """
        self.check_shape(x0)
        self.check_t(t, x0)
        e = lambda v: self._per_example(v, x0)  # noqa: E731
        coef_x0 = e(self.alpha_bar[t - 1].sqrt() * self.beta[t] / self.one_minus_alpha_bar[t])
        coef_xt = e(self.alpha[t].sqrt() * self.one_minus_alpha_bar[t - 1] / self.one_minus_alpha_bar[t])
        mean = coef_x0 * x0 + coef_xt * x_t  # (eq:posterior-mean)
        return mean, e(self.beta_tilde[t])  # (eq:posterior-variance)

    def predict_x0(self, x_t: torch.Tensor, t: int | torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
        """``x0 = (x_t - sqrt(1 - alpha_bar_t) eps) / sqrt(alpha_bar_t)``, eq:forward-closed-form solved for x0.

        (eq:predict-x0)
        """
        self.check_t(t, x_t)
        alpha_bar = self._per_example(self.alpha_bar[t], x_t)
        one_minus_alpha_bar = self._per_example(self.one_minus_alpha_bar[t], x_t)
        return (x_t - one_minus_alpha_bar.sqrt() * eps) / alpha_bar.sqrt()  # (eq:predict-x0)

    # --- the reverse process --------------------------------------------------------------------------------------

    def p_mean_variance(self, x_t: torch.Tensor, t: int | torch.Tensor,
                        clip: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        """``mu = (x_t - beta_t / sqrt(1 - alpha_bar_t) eps_theta) / sqrt(alpha_t)``, ``sigma_t^2`` (eq:ancestral-step).

        The mean ``(B, ...)`` and variance ``(B, 1, ..., 1)`` (a scalar for an int ``t``) of
        ``p_theta(x_{t-1} | x_t)``. With ``clip``, the mean is instead ``tilde mu_t`` at the predicted
        ``x0`` clipped to ``[-1, 1]`` (as in Ho et al.'s code; without clipping the two are equal).
        """
        self.check_shape(x_t)
        eps_theta = self.denoiser(x_t, self.check_t(t, x_t))
        if clip:
            mean, _ = self.q_posterior(self.predict_x0(x_t, t, eps_theta).clamp(-1, 1), x_t, t)
        else:
            e = lambda v: self._per_example(v, x_t)  # noqa: E731
            mean = (x_t - e(self.beta[t] / self.one_minus_alpha_bar[t].sqrt()) * eps_theta) / e(self.alpha[t].sqrt())
        return mean, self._per_example(self.sigma2[t], x_t)  # (eq:ancestral-step)

    def p_sample(self, x_t: torch.Tensor, t: int | torch.Tensor, clip: bool = False,
                 generator: torch.Generator | None = None) -> torch.Tensor:
        """One ancestral step ``x_{t-1} = mu_theta(x_t, t) + sigma_t z``, no noise where ``t = 1``.

        (eq:ancestral-step)
        """
        mean, variance = self.p_mean_variance(x_t, t, clip)
        z = torch.randn(x_t.shape, generator=generator, dtype=x_t.dtype, device=x_t.device)
        z = z * self._per_example((self.check_t(t, x_t) > 1).to(x_t.dtype), x_t)  # the last step returns the mean
        return mean + variance.sqrt() * z  # (eq:ancestral-step)

    @torch.no_grad()
    def trajectory(self, n: int, every: int = 100, clip: bool = False, generator: torch.Generator | None = None,
                   x_T: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Ancestral sampling from ``x_T ~ N(0, I)``, keeping every ``every``-th state (an animation).

        Returns ``(frames, steps)``: ``frames[k]`` is ``x_{steps[k]}``, shape ``(F, n, *data_shape)``, with
        ``steps`` = ``T``, then the multiples of ``every`` below ``T`` down to 0 (the samples). ``x_T`` may be given.
        The model is in eval mode meanwhile and returns to its mode after.
        """
        if every < 1:
            raise ValueError(f"every must be a positive number of steps, got {every}")
        if x_T is None:
            x_T = torch.randn(n, *self.data_shape, generator=generator, dtype=self.beta.dtype, device=self.beta.device)
        x, frames, steps = x_T, [x_T], [self.T]
        with eval_mode(self):
            for t in range(self.T, 0, -1):
                x = self.p_sample(x, t, clip, generator)  # x_{t-1}
                if (t - 1) % every == 0:
                    frames.append(x)
                    steps.append(t - 1)
        return torch.stack(frames), torch.tensor(steps)

    def sample(self, n: int, clip: bool = False, generator: torch.Generator | None = None,
               x_T: torch.Tensor | None = None) -> torch.Tensor:
        """``n`` draws ``x_0`` by ancestral sampling over all ``T`` steps: ``(n, *data_shape)``, in the data's scale."""
        frames, _ = self.trajectory(n, every=self.T, clip=clip, generator=generator, x_T=x_T)
        return frames[-1]

    # --- training -------------------------------------------------------------------------------------------------

    def loss(self, x0: torch.Tensor, t: int | torch.Tensor | None = None,
             eps: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """The simple loss: ``loss`` is the mean of ``(eps - eps_theta)^2`` over batch and dimensions  (eq:simple-loss).

        Ho et al.'s eq. 14 divided by the dimension ``D`` (as in their code), with ``t`` uniform on
        ``1..T`` and ``eps ~ N(0, I)`` unless given. Diagnostic ``nll``: a one-draw unbiased estimate
        of the negative ELBO with a Gaussian decoder, in nats per example,
        ``L_T + T (lambda_t ||eps - eps_theta||^2 + D c_t)``  (eq:loss-weights); noisy, but its mean
        over many batches tracks :func:`~gencourse.diffusion.elbo.nll_bound`.
        """
        self.check_shape(x0)
        B, D = x0.shape[0], math.prod(self.data_shape)
        t = torch.randint(1, self.T + 1, (B,), device=x0.device) if t is None else self.check_t(t, x0)
        eps = torch.randn_like(x0) if eps is None else eps
        eps_theta = self.denoiser(self.q_sample(x0, t, eps), t)
        squared_error = (eps - eps_theta).square().flatten(1).sum(1)  # ||eps - eps_theta||^2: (B,)
        loss = squared_error.mean() / D  # (eq:simple-loss)
        with torch.no_grad():
            terms = self.elbo_weights()[t] * squared_error + D * self.elbo_offsets()[t]  # (eq:loss-weights)
            nll = self.prior_kl(x0) + self.T * terms
        return {"loss": loss, "nll": nll.mean()}

    def elbo_weights(self) -> torch.Tensor:
        r"""``lambda_t = beta_t^2 / (2 sigma_t^2 alpha_t (1 - alpha_bar_t))`` for ``t = 0..T``  (eq:loss-weights).

        The ELBO's term at step ``t`` is ``lambda_t ||eps - eps_theta(x_t, t)||^2 + D c_t``
        (:meth:`elbo_offsets`): :math:`L_{t-1} = \mathrm{KL}(q(x_{t-1} \mid x_t, x_0) \Vert p_\theta(x_{t-1} \mid x_t))`
        for ``t >= 2``, and at ``t = 1`` the decoder's ``-log N(x_0; mu_theta(x_1, 1), sigma_1^2 I)``,
        whose weight has the same formula (``1 - alpha_bar_1 = beta_1``). Entry 0 is 0 (no step 0).
        The simple loss drops the weights and the constants.
        """
        lam = self.beta**2 / (2 * self.sigma2 * self.alpha * self.one_minus_alpha_bar)  # (eq:loss-weights)
        return torch.where(torch.arange(self.T + 1, device=lam.device) == 0, 0.0, lam)

    def elbo_offsets(self) -> torch.Tensor:
        """``c_t``, per dimension, the part of the ELBO's term at step ``t`` that no network changes: ``(T + 1,)``.

        ``(r - 1 - log r) / 2`` with ``r = beta_tilde_t / sigma_t^2`` for ``t >= 2`` (the KL between
        the variances; 0 when ``sigma_t^2 = beta_tilde_t``), ``log(2 pi sigma_1^2) / 2`` at ``t = 1``
        (the Gaussian decoder's normaliser), 0 at ``t = 0``.
        """
        r = self.beta_tilde / self.sigma2
        c = (r - 1 - torch.log(r)) / 2
        c[1] = 0.5 * torch.log(2 * math.pi * self.sigma2[1])
        c[0] = 0.0
        return c

    def prior_kl(self, x0: torch.Tensor) -> torch.Tensor:
        """``L_T = KL(q(x_T | x0) || N(0, I))`` per example, in nats: ``(B,)``. Near 0 for a good schedule."""
        mean = self.alpha_bar[self.T].sqrt() * x0.flatten(1)  # (B, D)
        log_var = torch.log(self.one_minus_alpha_bar[self.T]).expand_as(mean)
        return gaussian_kl(mean, log_var)  # (eq:gaussian-kl)

    def extra_repr(self) -> str:
        return f"data_shape={self.data_shape}, T={self.T}, schedule={self.schedule!r}, variance={self.variance!r}"


def load_pretrained_ddpm(name: str = "ch08_ddpm", device: str | torch.device = "cpu") -> DDPM:
    """A shipped DDPM checkpoint (the moving average of the denoiser's weights) in eval mode on ``device``."""
    from gencourse.pretrained import build_pretrained

    return build_pretrained(name, DDPM, part=lambda model: model.denoiser, device=device)
