"""Chapter 8, diffusion models: the forward process, its posterior and the ELBO's weights against independent
computations in float64; the samplers against data distributions whose optimal denoiser is known in closed form."""

from __future__ import annotations

import json
import math

import pytest
import torch
from torch import nn

from gencourse.diffusion import (
    DDPM,
    MLPDenoiser,
    UNet,
    bits_per_dim,
    continuous_gaussian_log_likelihood,
    cosine_alpha_bar,
    cosine_schedule,
    ddim_sample,
    ddim_step,
    ddim_timesteps,
    discretized_gaussian_log_likelihood,
    elbo_terms,
    linear_schedule,
    make_schedule,
    nll_bound,
    timestep_embedding,
)
from gencourse.vi import gaussian_kl

DTYPE = torch.float64
SCHEDULE_NAMES = ("linear", "cosine")


pytestmark = pytest.mark.usefixtures("one_thread")  # small tensors: see tests/conftest.py


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def ddpm(T: int = 1000, schedule: str = "linear", variance: str = "beta", dim: int = 2, seed: int = 0) -> DDPM:
    """A float64 DDPM around a randomly initialised MLP: an arbitrary eps_theta."""
    torch.manual_seed(seed)
    return DDPM(MLPDenoiser(dim=dim, hidden=(16, 16), time_dim=8), T=T, schedule=schedule, variance=variance).double()


def alpha_bar_of(T: int, schedule: str = "linear") -> torch.Tensor:
    """``alpha_bar_0..T`` as a plain cumulative product, computed here rather than taken from the model."""
    return torch.cat([torch.ones(1, dtype=DTYPE), torch.cumprod(1 - make_schedule(schedule, T), 0)])


class GaussianDataDenoiser(nn.Module):
    """The optimal eps_theta for data ``N(m, s^2 I)``: ``E[eps | x_t]``, ``sqrt(1 - ab) (x_t - sqrt(ab) m) / v_t``,
    where ``v_t = ab s^2 + 1 - ab`` is the variance of ``x_t``.

    With ``s = 0`` (all data at one point ``m``) it is ``(x_t - sqrt(ab) m) / sqrt(1 - ab)``, the noise exactly.
    """

    def __init__(self, alpha_bar: torch.Tensor, m: float, s: float, dim: int = 1) -> None:
        super().__init__()
        self.alpha_bar, self.m, self.s, self.data_shape = alpha_bar, m, s, (dim,)

    def forward(self, x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        ab = self.alpha_bar[t][:, None]
        return (1 - ab).sqrt() * (x_t - ab.sqrt() * self.m) / (ab * self.s**2 + 1 - ab)


# --- schedules ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("schedule", SCHEDULE_NAMES)
def test_alpha_bar_falls_from_about_1_to_about_0(schedule):
    for T in (100, 1000):
        beta = make_schedule(schedule, T)
        alpha_bar = torch.cumprod(1 - beta, 0)
        assert beta.dtype == DTYPE and beta.shape == (T,) and (beta > 0).all() and (beta < 1).all()
        assert (alpha_bar[1:] < alpha_bar[:-1]).all()
        assert alpha_bar[0] > 0.99 and alpha_bar[-1] < 1e-4, (T, float(alpha_bar[0]), float(alpha_bar[-1]))


def test_linear_schedule_is_ho_et_al_at_T_1000_and_keeps_its_sum_for_other_T():
    beta = linear_schedule(1000)
    assert float(beta[0]) == pytest.approx(1e-4, rel=1e-12) and float(beta[-1]) == pytest.approx(0.02, rel=1e-12)
    torch.testing.assert_close(beta.diff(), torch.full((999,), (0.02 - 1e-4) / 999, dtype=DTYPE), rtol=1e-9, atol=0)
    assert float(linear_schedule(100).sum()) == pytest.approx(float(beta.sum()), rel=1e-12)


def test_cosine_schedule_follows_its_formula_and_clips_only_the_last_step():
    T, s = 1000, 0.008
    beta = cosine_schedule(T)
    t = torch.arange(T + 1, dtype=DTYPE)
    f = torch.cos((t / T + s) / (1 + s) * math.pi / 2) ** 2
    alpha_bar = torch.cumprod(1 - beta, 0)
    # unclipped steps reproduce alpha_bar(t) = f(t) / f(0) exactly
    torch.testing.assert_close(alpha_bar[:-1], (f / f[0])[1:-1], rtol=1e-11, atol=0)
    torch.testing.assert_close(cosine_alpha_bar(t, T), f / f[0], rtol=1e-14, atol=0)
    assert float(beta.max()) == 0.999 and int((beta == 0.999).sum()) == 1 and float(beta[-1]) == 0.999


@pytest.mark.parametrize("schedule", SCHEDULE_NAMES)
def test_buffers_are_the_float64_schedule_rounded_once(schedule):
    model = DDPM(MLPDenoiser(), T=200, schedule=schedule)  # built in float32
    exact = alpha_bar_of(200, schedule)
    assert model.alpha_bar.dtype == torch.float32
    torch.testing.assert_close(model.alpha_bar, exact.float(), rtol=0, atol=0)
    model.double()  # re-rounded from float64, not cast up from float32
    torch.testing.assert_close(model.alpha_bar, exact, rtol=1e-14, atol=0)
    torch.testing.assert_close(model.one_minus_alpha_bar[1:5], 1 - exact[1:5], rtol=1e-12, atol=0)
    assert not any(name in model.state_dict() for name in ("beta", "alpha_bar", "sigma2")), "the config rebuilds them"


# --- the forward process ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("schedule", SCHEDULE_NAMES)
def test_closed_form_matches_iterating_the_chain(schedule):
    """x_t = sqrt(1 - beta_t) x_{t-1} + sqrt(beta_t) eps_t, iterated from x_0: the mean coefficient and the
    variance from the recursion equal sqrt(alpha_bar_t) and 1 - alpha_bar_t.

    (eq:forward-step, eq:forward-closed-form)
    """
    model = ddpm(schedule=schedule)
    beta = make_schedule(schedule, 1000)
    x0 = torch.randn(1000, 2, generator=gen(0), dtype=DTYPE)
    eps = torch.randn(1000, 2, generator=gen(1), dtype=DTYPE)
    coefficient, variance = torch.tensor(1.0, dtype=DTYPE), torch.tensor(0.0, dtype=DTYPE)
    coefficients, variances = [], []
    for b in beta:  # the chain, one step at a time
        coefficient, variance = (1 - b).sqrt() * coefficient, (1 - b) * variance + b
        coefficients.append(coefficient)
        variances.append(variance)
    t = torch.arange(1, 1001)
    expected = torch.stack(coefficients)[:, None] * x0 + torch.stack(variances).sqrt()[:, None] * eps
    torch.testing.assert_close(model.q_sample(x0, t, eps), expected, rtol=1e-11, atol=1e-13)


def test_the_chain_and_the_closed_form_draw_the_same_distribution():
    """Monte Carlo: 100,000 chains from x_0 = +-1 (non-Gaussian data), compared at several steps with the exact
    law of the closed form, the mixture 0.5 N(sqrt(ab) , 1 - ab) + 0.5 N(-sqrt(ab), 1 - ab). The Kolmogorov distance
    of the empirical CDF must stay below 1.95 / sqrt(n), its 0.1% critical value."""
    T, n = 100, 100_000
    model = ddpm(T=T, dim=1)
    g = gen(2)
    x = (2 * torch.randint(0, 2, (n,), generator=g) - 1).to(DTYPE)
    normal = torch.distributions.Normal(torch.tensor(0.0, dtype=DTYPE), torch.tensor(1.0, dtype=DTYPE))
    for t in range(1, T + 1):
        beta = model.beta[t]
        x = (1 - beta).sqrt() * x + beta.sqrt() * torch.randn(n, generator=g, dtype=DTYPE)  # (eq:forward-step)
        if t in (1, 10, 50, 100):
            ab, one_minus_ab = model.alpha_bar[t], model.one_minus_alpha_bar[t]
            grid = x.sort().values
            cdf = 0.5 * (normal.cdf((grid - ab.sqrt()) / one_minus_ab.sqrt())
                         + normal.cdf((grid + ab.sqrt()) / one_minus_ab.sqrt()))
            empirical = torch.arange(1, n + 1, dtype=DTYPE) / n
            ks = max(float((empirical - cdf).abs().max()), float((empirical - 1 / n - cdf).abs().max()))
            assert ks < 1.95 / math.sqrt(n), (t, ks)


@pytest.mark.parametrize("schedule", SCHEDULE_NAMES)
def test_posterior_is_bayes_rule_on_the_two_gaussians(schedule):
    """q(x_{t-1} | x_t, x_0) ∝ q(x_t | x_{t-1}) q(x_{t-1} | x_0): precisions add, precision-weighted means add
    (eq:posterior-mean, eq:posterior-variance)."""
    model = ddpm(schedule=schedule)
    beta, alpha_bar = make_schedule(schedule, 1000), alpha_bar_of(1000, schedule)
    t = torch.arange(2, 1001)
    x0 = torch.randn(999, 2, generator=gen(0), dtype=DTYPE)
    x_t = torch.randn(999, 2, generator=gen(1), dtype=DTYPE)
    b, ab_prev = beta[t - 1][:, None], alpha_bar[t - 1][:, None]
    precision = (1 - b) / b + 1 / (1 - ab_prev)  # from N(x_t; sqrt(1 - b) x, b) and N(x; sqrt(ab_prev) x0, 1 - ab_prev)
    mean = ((1 - b).sqrt() * x_t / b + ab_prev.sqrt() * x0 / (1 - ab_prev)) / precision
    mean_q, var_q = model.q_posterior(x0, x_t, t)
    torch.testing.assert_close(mean_q, mean, rtol=1e-9, atol=1e-12)
    torch.testing.assert_close(var_q, 1 / precision, rtol=1e-9, atol=0)
    # at t = 1 the posterior is the point mass at x0
    mean_1, var_1 = model.q_posterior(x0, x_t, 1)
    torch.testing.assert_close(mean_1, x0, rtol=1e-12, atol=1e-12)
    assert float(var_1.abs().max()) == 0.0


@pytest.mark.parametrize("t", [2, 10, 500, 1000])
def test_posterior_matches_bayes_rule_normalised_on_a_grid(t):
    model = ddpm(dim=1)
    x0, x_t = torch.tensor([[0.7]], dtype=DTYPE), torch.tensor([[-0.4]], dtype=DTYPE)
    mean_q, var_q = model.q_posterior(x0, x_t, t)
    b, ab_prev = model.beta[t], model.alpha_bar[t - 1]
    grid = float(mean_q) + 12 * float(var_q.sqrt()) * torch.linspace(-1, 1, 40_001, dtype=DTYPE)
    log_joint = (-0.5 * (x_t[0, 0] - (1 - b).sqrt() * grid) ** 2 / b
                 - 0.5 * (grid - ab_prev.sqrt() * x0[0, 0]) ** 2 / (1 - ab_prev))
    weights = (log_joint - log_joint.max()).exp()
    weights = weights / torch.trapezoid(weights, grid)  # Bayes' rule: normalise the product
    mean = torch.trapezoid(weights * grid, grid)
    variance = torch.trapezoid(weights * (grid - mean) ** 2, grid)
    assert float(mean) == pytest.approx(float(mean_q), rel=1e-9, abs=1e-12)
    assert float(variance) == pytest.approx(float(var_q), rel=1e-7)


def test_predict_x0_inverts_the_closed_form_and_the_eps_mean_is_the_posterior_mean_at_it():
    """mu_theta = (x_t - beta_t / sqrt(1 - ab_t) eps_theta) / sqrt(alpha_t) is tilde mu_t at the x0 that eps_theta
    predicts (eq:predict-x0, eq:ancestral-step)."""
    model = ddpm()
    x0 = torch.randn(1000, 2, generator=gen(0), dtype=DTYPE)
    eps = torch.randn(1000, 2, generator=gen(1), dtype=DTYPE)
    t = torch.arange(1, 1001)
    x_t = model.q_sample(x0, t, eps)
    torch.testing.assert_close(model.predict_x0(x_t, t, eps), x0, rtol=1e-9, atol=1e-9)
    mean, variance = model.p_mean_variance(x_t, t)
    with torch.no_grad():
        mean_at_prediction, _ = model.q_posterior(model.predict_x0(x_t, t, model.denoiser(x_t, t)), x_t, t)
    torch.testing.assert_close(mean, mean_at_prediction, rtol=1e-9, atol=1e-9)
    torch.testing.assert_close(variance[:, 0], model.beta[1:], rtol=0, atol=0)


# --- the ELBO and the simple loss ----------------------------------------------------------------------------------


def direct_terms(model: DDPM, x0: torch.Tensor, t: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    """The ELBO's term at step t of each example, from its definition: KL(q(x_{t-1}|x_t,x0) || p(x_{t-1}|x_t)) for
    t >= 2 and -log N(x0; mu_theta(x_1, 1), sigma_1^2) at t = 1."""
    x_t = model.q_sample(x0, t, eps)
    mean_q, var_q = model.q_posterior(x0, x_t, t)
    mean_p, var_p = model.p_mean_variance(x_t, t)
    d = x0.shape[1]
    kl = gaussian_kl(mean_q, var_q.log().expand(-1, d), mean_p, var_p.log().expand(-1, d))
    decoder = -continuous_gaussian_log_likelihood(x0, mean_p, var_p)
    return torch.where(t == 1, decoder, kl)


@pytest.mark.parametrize("variance", ["beta", "beta_tilde"])
@pytest.mark.parametrize("schedule", SCHEDULE_NAMES)
def test_each_elbo_term_is_the_squared_noise_error_weighted(schedule, variance):
    """L_{t-1} = lambda_t ||eps - eps_theta||^2 + D c_t for an arbitrary eps_theta, at every t  (eq:loss-weights);
    with sigma_t^2 = beta_tilde_t the constant vanishes for t >= 2 and the KL is the weighted squared error alone."""
    model = ddpm(schedule=schedule, variance=variance)
    t = torch.arange(1, 1001)
    x0 = torch.randn(1000, 2, generator=gen(0), dtype=DTYPE)
    eps = torch.randn(1000, 2, generator=gen(1), dtype=DTYPE)
    with torch.no_grad():
        eps_theta = model.denoiser(model.q_sample(x0, t, eps), t)
        expected = direct_terms(model, x0, t, eps)
    squared_error = (eps - eps_theta).square().sum(1)
    lam, c = model.elbo_weights()[t], model.elbo_offsets()[t]
    torch.testing.assert_close(expected, lam * squared_error + 2 * c, rtol=1e-9, atol=1e-12)
    # the weights, by their formula beta^2 / (2 sigma^2 alpha (1 - alpha_bar))
    beta, alpha_bar = make_schedule(schedule, 1000), alpha_bar_of(1000, schedule)[1:]
    beta_tilde = (1 - alpha_bar[:-1]) / (1 - alpha_bar[1:]) * beta[1:]  # t = 2..T
    sigma2 = beta if variance == "beta" else torch.cat([beta[:1], beta_tilde])  # sigma_1^2 = beta_1 either way
    torch.testing.assert_close(lam, beta**2 / (2 * sigma2 * (1 - beta) * (1 - alpha_bar)), rtol=1e-9, atol=0)
    if variance == "beta_tilde":
        torch.testing.assert_close(expected[1:], lam[1:] * squared_error[1:], rtol=1e-9, atol=1e-12)
    assert float(model.elbo_weights()[0]) == 0.0 and float(model.elbo_offsets()[0]) == 0.0


def test_elbo_terms_are_the_weighted_loss_with_the_same_noise():
    """elbo_terms computes each term from its definition, drawing eps_t for t = 1..T from its generator in order;
    the same draws through the weights give the same numbers  (eq:elbo-decomposition, eq:loss-weights)."""
    T = 50
    model = ddpm(T=T)
    x0 = torch.randn(6, 2, generator=gen(0), dtype=DTYPE)
    terms = elbo_terms(model, x0, generator=gen(5))
    g = gen(5)
    with torch.no_grad():
        for t in range(1, T + 1):
            eps = torch.randn(x0.shape, generator=g, dtype=DTYPE)
            tt = torch.full((6,), t)
            error = (eps - model.denoiser(model.q_sample(x0, tt, eps), tt)).square().sum(1)
            expected = model.elbo_weights()[t] * error + 2 * model.elbo_offsets()[t]
            torch.testing.assert_close(terms[:, t - 1], expected, rtol=1e-9, atol=1e-12)
    ab_T = alpha_bar_of(T)[T]
    prior_kl = 0.5 * (ab_T * x0**2 + (1 - ab_T) - torch.log(1 - ab_T) - 1).sum(1)
    torch.testing.assert_close(terms[:, T], prior_kl, rtol=1e-9, atol=1e-15)
    torch.testing.assert_close(nll_bound(model, x0, generator=gen(5)), terms.sum(1), rtol=1e-12, atol=0)


def test_the_loss_is_the_mean_squared_noise_error_and_its_nll_estimates_the_bound():
    T = 50
    model = ddpm(T=T)
    x0 = torch.randn(64, 2, generator=gen(0), dtype=DTYPE)
    eps = torch.randn(64, 2, generator=gen(1), dtype=DTYPE)
    t = torch.randint(1, T + 1, (64,), generator=gen(2))
    t[0] = 1  # the decoder term too
    out = model.loss(x0, t, eps)
    with torch.no_grad():
        eps_theta = model.denoiser(model.q_sample(x0, t, eps), t)
        direct = direct_terms(model, x0, t, eps)
    torch.testing.assert_close(out["loss"], (eps - eps_theta).square().mean(), rtol=1e-12, atol=0)  # (eq:simple-loss)
    torch.testing.assert_close(out["nll"], (model.prior_kl(x0) + T * direct).mean(), rtol=1e-9, atol=0)
    assert not out["nll"].requires_grad


def test_discretized_decoder_is_a_distribution_over_the_256_levels():
    levels = 2 * torch.arange(256, dtype=DTYPE) / 255 - 1
    for mean, variance in [(0.0, 1e-4), (0.3, 0.05), (-0.999, 1e-3), (0.9, 4.0), (5.0, 0.01)]:
        log_p = discretized_gaussian_log_likelihood(levels[:, None], torch.full((256, 1), mean, dtype=DTYPE),
                                                    torch.tensor(variance, dtype=DTYPE))
        assert float(log_p.exp().sum()) == pytest.approx(1.0, abs=1e-12), (mean, variance)
    # an interior bin, against the CDF difference computed naively
    normal = torch.distributions.Normal(torch.tensor(0.1, dtype=DTYPE), torch.tensor(0.05, dtype=DTYPE))
    x = levels[140]
    naive = torch.log(normal.cdf(x + 1 / 255) - normal.cdf(x - 1 / 255))
    value = discretized_gaussian_log_likelihood(x.view(1, 1), torch.full((1, 1), 0.1, dtype=DTYPE),
                                                torch.tensor(0.05**2, dtype=DTYPE))
    assert float(value) == pytest.approx(float(naive), rel=1e-12)


def test_bits_per_dim_accounting_for_both_decoders():
    """Gaussian decoder on dequantised images: (L - D log 2 + D log 256) / (D log 2); discretized decoder on the
    8-bit images themselves: L / (D log 2)."""
    torch.manual_seed(0)
    model = DDPM(UNet(image_shape=(1, 4, 4), channels=(8,), time_dim=8, groups=4), T=30).double()
    images = torch.randint(0, 256, (3, 1, 4, 4), generator=gen(0)).to(DTYPE) / 255
    y = (255 * images + torch.rand(images.shape, generator=gen(1), dtype=DTYPE)) / 256  # dequantised
    D = 16
    nll = nll_bound(model, 2 * y - 1, generator=gen(2))
    bpd = bits_per_dim(model, 2 * y - 1, generator=gen(2))
    torch.testing.assert_close(bpd, (nll - D * math.log(2) + D * math.log(256)) / (D * math.log(2)))
    nll_8bit = nll_bound(model, 2 * images - 1, decoder="discretized", generator=gen(2))
    bpd_8bit = bits_per_dim(model, 2 * images - 1, decoder="discretized", generator=gen(2))
    torch.testing.assert_close(bpd_8bit, nll_8bit / (D * math.log(2)))
    assert (nll_8bit > 0).all(), "minus the log of a probability bound"


# --- samplers -------------------------------------------------------------------------------------------------------


def gaussian_ddpm(T: int, m: float, s: float, variance: str = "beta", schedule: str = "linear") -> DDPM:
    return DDPM(GaussianDataDenoiser(alpha_bar_of(T, schedule), m, s), T=T, schedule=schedule,
                variance=variance).double()


@pytest.mark.parametrize("variance", ["beta", "beta_tilde"])
def test_ancestral_sampling_with_the_optimal_denoiser_draws_the_gaussian_data(variance):
    """Data N(m, s^2): with its optimal eps_theta each step is linear-Gaussian, so the sampler's output law is
    computed exactly by propagating a mean and a variance (here, by hand); it is within 3% of (m, s^2) (the
    discretisation of 1000 steps), and 40,000 samples agree with it within 4 standard errors."""
    T, m, s, n = 1000, 0.5, 0.3, 40_000
    model = gaussian_ddpm(T, m, s, variance)
    beta, alpha_bar = make_schedule("linear", T), alpha_bar_of(T)
    mean, var = torch.tensor(0.0, dtype=DTYPE), torch.tensor(1.0, dtype=DTYPE)
    for t in range(T, 0, -1):
        b, ab = beta[t - 1], alpha_bar[t]
        v_t = ab * s**2 + 1 - ab
        slope = (1 - b / v_t) / (1 - b).sqrt()  # x_{t-1} = slope x_t + shift + sigma_t z
        shift = b / v_t * ab.sqrt() * m / (1 - b).sqrt()
        sigma2 = 0.0 if t == 1 else (b if variance == "beta" else (1 - alpha_bar[t - 1]) / (1 - ab) * b)
        mean, var = slope * mean + shift, slope**2 * var + sigma2
    assert abs(float(mean) - m) < 1e-4 and abs(float(var) / s**2 - 1) < 0.03, (float(mean), float(var))
    x = model.sample(n, generator=gen(0))
    assert x.shape == (n, 1)
    assert abs(float(x.mean()) - float(mean)) < 4 * math.sqrt(float(var) / n)
    assert abs(float(x.var()) - float(var)) < 4 * float(var) * math.sqrt(2 / n)


def test_trajectory_ends_with_the_samples_and_restores_the_mode():
    model = ddpm(T=40)
    frames, steps = model.trajectory(5, every=15, generator=gen(0))
    assert steps.tolist() == [40, 30, 15, 0] and frames.shape == (4, 5, 2)
    torch.testing.assert_close(frames[-1], model.sample(5, generator=gen(0)), rtol=0, atol=0)
    assert model.training
    x_1 = torch.randn(3, 2, generator=gen(1), dtype=DTYPE)
    torch.testing.assert_close(model.p_sample(x_1, 1), model.p_mean_variance(x_1, 1)[0])  # no noise at t = 1


def test_ddim_timesteps_are_evenly_spaced_and_all_of_them_at_S_equal_T():
    tau = ddim_timesteps(1000, 50)
    assert tau[0] == 1 and tau[-1] == 1000 and len(tau) == 50 and (tau.diff() > 0).all()
    assert ddim_timesteps(1000, 1000).tolist() == list(range(1, 1001))
    assert ddim_timesteps(10, 1).tolist() == [10]


def test_ddim_with_eta_0_is_a_deterministic_map_equal_to_a_reference_loop():
    model = ddpm(T=100)
    x_T = torch.randn(8, 2, generator=gen(0), dtype=DTYPE)
    torch.manual_seed(1)
    first = ddim_sample(model, 8, steps=20, x_T=x_T)
    torch.manual_seed(2)
    torch.testing.assert_close(ddim_sample(model, 8, steps=20, x_T=x_T), first, rtol=0, atol=0)
    # Song et al.'s eq. 12 with sigma = 0, written in their notation (their alpha is our alpha_bar)
    a = alpha_bar_of(100)
    tau = [round(1 + k * 99 / 19) for k in range(20)]
    x = x_T
    with torch.no_grad():
        for t, s in zip(tau[::-1], [*tau[-2::-1], 0], strict=True):
            eps = model.denoiser(x, torch.full((8,), t))
            x = a[s].sqrt() * (x - (1 - a[t]).sqrt() * eps) / a[t].sqrt() + (1 - a[s]).sqrt() * eps
    torch.testing.assert_close(first, x, rtol=1e-10, atol=1e-10)


def test_ddim_with_eta_1_one_step_back_is_the_ancestral_step_with_beta_tilde():
    model = ddpm(T=100, variance="beta_tilde")
    x_t = torch.randn(8, 2, generator=gen(0), dtype=DTYPE)
    z = torch.randn(8, 2, generator=gen(1), dtype=DTYPE)
    with torch.no_grad():
        for t in (2, 17, 100):
            mean, variance = model.p_mean_variance(x_t, t)
            torch.testing.assert_close(ddim_step(model, x_t, t, t - 1, eta=1.0, z=z), mean + variance.sqrt() * z,
                                       rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("steps", [1, 7, 100])
def test_ddim_with_a_perfect_denoiser_of_one_point_returns_that_point(steps):
    point = 0.37
    model = gaussian_ddpm(100, point, 0.0)
    x_T = 3 * torch.randn(16, 1, generator=gen(0), dtype=DTYPE)
    torch.testing.assert_close(ddim_sample(model, 16, steps=steps, x_T=x_T), torch.full((16, 1), point, dtype=DTYPE),
                               rtol=0, atol=1e-10)
    with torch.no_grad():
        torch.testing.assert_close(ddim_step(model, x_T, 60, 0), torch.full((16, 1), point, dtype=DTYPE),
                                   rtol=0, atol=1e-10)


def test_ddim_on_gaussian_data_is_the_exact_affine_map_and_tends_to_the_transport_map():
    """Data N(m, s^2) and the optimal denoiser: each DDIM jump t -> s scales d = x - sqrt(ab) m by
    k = (sqrt(ab_s ab_t) s^2 + sqrt((1 - ab_s)(1 - ab_t))) / v_t, v_t = ab_t s^2 + 1 - ab_t, so x_0 = m + prod(k) d_T.
    With all T steps the map approaches the monotone transport (and probability-flow ODE) map m + s d_T / sqrt(v_T)."""
    T, m, s = 1000, -0.4, 0.25
    model = gaussian_ddpm(T, m, s)
    a = alpha_bar_of(T)
    x_T = torch.linspace(-3, 3, 13, dtype=DTYPE)[:, None]
    transport = m + s * (x_T - a[T].sqrt() * m) / (a[T] * s**2 + 1 - a[T]).sqrt()
    errors = {}
    for steps in (10, 1000):
        tau = ddim_timesteps(T, steps).tolist()
        slope = torch.tensor(1.0, dtype=DTYPE)
        for t, u in zip(tau[::-1], [*tau[-2::-1], 0], strict=True):
            slope = slope * ((a[u] * a[t]).sqrt() * s**2 + ((1 - a[u]) * (1 - a[t])).sqrt()) / (a[t] * s**2 + 1 - a[t])
        x0 = ddim_sample(model, 13, steps=steps, x_T=x_T)
        torch.testing.assert_close(x0, m + slope * (x_T - a[T].sqrt() * m), rtol=1e-9, atol=1e-9)
        errors[steps] = float((x0 - transport).abs().max())
    assert errors[1000] < 0.01 * s * 3 and errors[1000] < errors[10] / 10, errors


# --- networks ------------------------------------------------------------------------------------------------------


def test_time_embedding_is_sines_then_cosines_of_integer_steps():
    e = timestep_embedding(torch.tensor([0, 1, 500]), 8)
    assert e.shape == (3, 8)
    torch.testing.assert_close(e[0], torch.tensor([0.0] * 4 + [1.0] * 4))
    omega = 10_000 ** (-torch.arange(4, dtype=DTYPE) / 4)
    torch.testing.assert_close(e[2].double(), torch.cat([(500 * omega).sin(), (500 * omega).cos()]),
                               rtol=0, atol=1e-4)


@pytest.mark.parametrize("attention", [False, True])
def test_the_mnist_unet_keeps_the_shape_and_has_about_a_million_parameters(attention):
    torch.manual_seed(0)
    net = UNet(attention=attention)
    x = torch.randn(2, 1, 28, 28)
    with torch.no_grad():
        out = net(x, torch.tensor([1, 1000]))
    assert out.shape == x.shape and torch.isfinite(out).all()
    n = sum(p.numel() for p in net.parameters())
    assert 5e5 < n < 2e6, n


@pytest.mark.parametrize("kwargs", [dict(image_shape=(3, 8, 8), channels=(8, 16, 16), n_blocks=2),
                                    dict(image_shape=(1, 6, 10), channels=(8, 8), attention=False)])
def test_other_unets_keep_the_shape_of_their_input(kwargs):
    torch.manual_seed(0)
    net = UNet(groups=4, time_dim=16, **kwargs)
    x = torch.randn(3, *kwargs["image_shape"])
    assert net(x, torch.tensor([1, 7, 50])).shape == x.shape


def test_config_is_json_and_rebuilds_the_same_model():
    for model in (DDPM(MLPDenoiser(hidden=(8,)), T=30, schedule="cosine", variance="beta_tilde"),
                  DDPM(UNet(image_shape=(1, 4, 4), channels=(8,), time_dim=8, groups=4), T=30)):
        rebuilt = DDPM(**json.loads(json.dumps(model.config)))
        rebuilt.load_state_dict(model.state_dict())
        x = torch.randn(2, *model.data_shape)
        t = torch.tensor([3, 30])
        torch.testing.assert_close(rebuilt.denoiser(x, t), model.denoiser(x, t), rtol=0, atol=0)
        assert rebuilt.config == model.config and torch.equal(rebuilt.sigma2, model.sigma2)


# --- bad input ------------------------------------------------------------------------------------------------------


def test_bad_input_is_refused_with_a_message_that_says_what_to_do():
    model = ddpm(T=50)
    x = torch.zeros(4, 2, dtype=DTYPE)
    with pytest.raises(ValueError, match="from 1 to T = 50"):
        model.q_sample(x, 0)
    with pytest.raises(ValueError, match="from 1 to T = 50"):
        model.loss(x, t=torch.tensor([1, 2, 3, 51]))
    with pytest.raises(ValueError, match="integer tensor of shape"):
        model.q_sample(x, torch.tensor([0.5, 1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match="integer tensor of shape"):
        model.p_sample(x, torch.tensor([1, 2]))
    with pytest.raises(ValueError, match=r"examples of shape \(2,\)"):
        model.loss(torch.zeros(4, 3))
    with pytest.raises(ValueError, match="unknown noise schedule 'quadratic'"):
        DDPM(MLPDenoiser(), schedule="quadratic")
    with pytest.raises(ValueError, match="unknown noise schedule"):
        make_schedule("sigmoid", 10)
    with pytest.raises(ValueError, match="at least 21"):
        linear_schedule(10)
    with pytest.raises(ValueError, match="positive integer"):
        cosine_schedule(0)
    with pytest.raises(ValueError, match="variance must be one of"):
        DDPM(MLPDenoiser(), variance="learned")
    with pytest.raises(ValueError, match="'name' in"):
        DDPM({"name": "resnet"})
    with pytest.raises(ValueError, match="names its denoiser"):
        _ = gaussian_ddpm(30, 0.0, 1.0).config
    with pytest.raises(ValueError, match="every must be"):
        model.trajectory(2, every=0)
    with pytest.raises(ValueError, match="between 1 and T"):
        ddim_sample(model, 2, steps=51)
    with pytest.raises(ValueError, match="0 <= s < t"):
        ddim_step(model, x, 5, 5)
    with pytest.raises(ValueError, match="eta runs from 0"):
        ddim_step(model, x, 5, 4, eta=1.5)
    with pytest.raises(ValueError, match="decoder must be"):
        elbo_terms(model, x, decoder="laplace")
    with pytest.raises(ValueError, match="undequantised"):
        discretized_gaussian_log_likelihood(torch.full((1, 1), 0.001), torch.zeros(1, 1), torch.tensor(1.0))
    with pytest.raises(ValueError, match=r"rescaled to \[-1, 1\]"):
        bits_per_dim(model, torch.full((4, 2), 2.0, dtype=DTYPE))
    with pytest.raises(ValueError, match="integers"):
        timestep_embedding(torch.tensor([0.5]), 8)
    with pytest.raises(ValueError, match="not divisible by 4"):
        UNet(image_shape=(1, 30, 30))
    with pytest.raises(ValueError, match="divisible by groups"):
        UNet(channels=(12, 24))


# --- how the shipped DDPM is scored (gencourse.diffusion.evaluation) ----------------------------------------------

def tiny_mnist_ddpm(T: int = 25) -> DDPM:
    torch.manual_seed(0)
    return DDPM(UNet(image_shape=(1, 28, 28), channels=(4, 8), time_dim=8, groups=2, attention=False), T=T).eval()


def test_sampled_images_are_in_range_and_ddim_ones_are_a_function_of_the_seed():
    from gencourse.diffusion.evaluation import sample_images

    model = tiny_mnist_ddpm()
    for steps in (3, None):
        x = sample_images(model, 5, steps)
        assert x.shape == (5, 1, 28, 28) and 0 <= float(x.min()) and float(x.max()) <= 1
    torch.manual_seed(1)
    deterministic = sample_images(model, 3, steps=4)
    torch.manual_seed(1)
    assert torch.equal(deterministic, sample_images(model, 3, steps=4))  # eta = 0: a function of x_T


def test_evaluated_bits_per_dim_are_the_bound_of_the_seeded_dequantisation():
    from gencourse.data import dequantize
    from gencourse.diffusion.evaluation import evaluate_bits_per_dim

    torch.manual_seed(0)
    model = DDPM(UNet(image_shape=(1, 4, 4), channels=(8,), time_dim=8, groups=4), T=30).double()
    images = torch.randint(0, 256, (6, 1, 4, 4), generator=gen(0)).double() / 255
    got = evaluate_bits_per_dim(model, images, seed=3, batch_size=4)
    generator = gen(3)  # the same stream: the first batch's dequantisation, then its noise, then the next batch
    expected = torch.cat([bits_per_dim(model, 2 * dequantize(b, generator=generator) - 1, "gaussian", generator)
                          for b in images.split(4)])
    torch.testing.assert_close(got, expected, rtol=0, atol=0)
    assert torch.equal(got, evaluate_bits_per_dim(model, images, seed=3, batch_size=4))
    assert not torch.equal(got, evaluate_bits_per_dim(model, images, seed=4, batch_size=4))


def test_sampler_comparison_times_and_scores_the_samplers_on_the_same_seed():
    from gencourse.diffusion.evaluation import compare_samplers
    from gencourse.metrics import sample_quality

    model = tiny_mnist_ddpm(T=21)
    reference = torch.rand(40, 1, 28, 28, generator=gen(0))
    figures = compare_samplers(model, reference, n=24, steps=2, eta=1.0, seed=5, batch_size=16)
    assert figures["n"] == 24 and figures["ddim_steps"] == 2 and figures["ddim_eta"] == 1.0
    assert figures["ancestral_steps"] == 21
    assert figures["time_ratio"] == figures["ddim_seconds"] / figures["ancestral_seconds"] > 0
    assert figures["fid_ratio"] == pytest.approx(figures["ddim_fid"] / figures["ancestral_fid"])
    for eta, label in ((1.0, "ddim"), (0.0, "ddim_deterministic")):
        with torch.random.fork_rng():
            torch.manual_seed(5)
            x = torch.cat([(ddim_sample(model, k, steps=2, eta=eta, clip=True) + 1) / 2 for k in (16, 8)])
        assert figures[f"{label}_fid"] == pytest.approx(sample_quality(x, reference)["fid"], rel=1e-6), label
    assert "ddim_deterministic_fid" not in compare_samplers(model, reference, n=8, steps=2, eta=0.0, batch_size=8)


@pytest.mark.slow
def test_the_shipped_ddpm_loads_from_its_sidecar_and_reproduces_its_bound_on_a_subset():
    """The bound on the first test images, same dequantisation and noise: the sidecar's figure to rounding."""
    from gencourse.data import load_mnist
    from gencourse.diffusion import load_pretrained_ddpm
    from gencourse.diffusion.evaluation import evaluate_bits_per_dim
    from gencourse.pretrained import read_sidecar

    metrics = read_sidecar("ch08_ddpm")["metrics"]
    model = load_pretrained_ddpm()
    assert not model.training and model.config == read_sidecar("ch08_ddpm")["config"]
    subset = metrics["test_subset"]
    x_test, _ = load_mnist("test", download=False, limit=subset["n"])
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        bpd = evaluate_bits_per_dim(model, x_test, seed=subset["seed"])
    finally:
        torch.set_num_threads(threads)
    assert float(bpd.mean()) == pytest.approx(subset["bpd"], abs=1e-3)
    # the subset's figure is within its spread of the sidecar's larger sample (the first test_bpd_n images)
    assert abs(subset["bpd"] - metrics["test_bpd"]) < 4 * float(bpd.std()) / subset["n"] ** 0.5 + 0.01


def test_the_shipped_ddpm_meets_the_chapters_targets_by_its_recorded_figures():
    """Best classifier FID of chapter 9's table, Inception Score >= 9, and DDIM in at most a tenth of
    the ancestral time at a FID within 20% of it; chapter 9's test re-scores the sidecar's subset."""
    from gencourse.metrics.comparison import fid_by_checkpoint
    from gencourse.pretrained import read_sidecar

    metrics = read_sidecar("ch08_ddpm")["metrics"]
    fid = fid_by_checkpoint()
    assert min(fid, key=fid.get) == "ch08_ddpm", f"another model has a better FID: {fid}"
    assert metrics["inception_score_10000"] >= 9.0
    samplers = metrics["sampler_comparison"]
    assert samplers["n"] == 1000 and samplers["ancestral_steps"] == 1000
    assert samplers["time_ratio"] <= 0.1 and samplers["fid_ratio"] <= 1.2


# --- The training script's learning-rate schedule ----------------------------------------------------------


def _train_script():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "scripts" / "train_ch08_ddpm.py"
    spec = importlib.util.spec_from_file_location("train_ch08_ddpm", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_learning_rate_warms_up_stays_constant_then_falls_linearly_to_zero() -> None:
    import argparse

    factor = _train_script().learning_rate_factor
    decaying = argparse.Namespace(warmup=100, decay_from=1_000, steps=2_000)
    assert [factor(k, decaying) for k in (0, 49, 99, 500, 999)] == [0.01, 0.5, 1.0, 1.0, 1.0]
    assert [factor(k, decaying) for k in (1_000, 1_500, 1_999, 2_000)] == [1.0, 0.5, 0.001, 0.0]
    constant = argparse.Namespace(warmup=100, decay_from=None, steps=2_000)
    assert factor(1_999, constant) == 1.0


def test_a_constant_rate_run_goes_on_with_the_decay_only_from_a_step_not_yet_passed(tmp_path) -> None:
    from gencourse.train import save_atomically

    script = _train_script()
    constant = {"lr": 3e-4, "warmup": 1_000}
    decaying = {**constant, "decay": {"from": 30_000, "to": 56_000}}
    path = tmp_path / "run.ckpt"
    save_atomically({"step": 30_000, "config": constant}, path)
    script.adopt_constant_run(path, decaying, 30_000)
    assert torch.load(path, weights_only=True)["config"] == decaying  # the resume now accepts the decaying run
    other = tmp_path / "other.ckpt"
    save_atomically({"step": 30_000, "config": {**constant, "lr": 1e-3}}, other)
    script.adopt_constant_run(other, decaying, 30_000)  # other settings: left for the resume to refuse
    assert torch.load(other, weights_only=True)["config"]["lr"] == 1e-3
    late = tmp_path / "late.ckpt"
    save_atomically({"step": 31_000, "config": constant}, late)
    with pytest.raises(ValueError, match="past --decay-from 30000"):
        script.adopt_constant_run(late, decaying, 30_000)


def _run_train_script(monkeypatch, *args: str) -> None:
    import sys

    tiny = ["--channels", "8", "8", "8", "--no-attention", "--T", "50", "--warmup", "1", "--train-only"]
    monkeypatch.setattr(sys, "argv", ["train_ch08_ddpm.py", *tiny, *args])
    _train_script().main()


def test_a_further_cycle_goes_on_from_a_finished_run_with_its_moments_data_order_and_clock(
        tmp_path, monkeypatch, one_thread) -> None:
    first, second = tmp_path / "first.ckpt", tmp_path / "second.ckpt"
    _run_train_script(monkeypatch, "--steps", "4", "--decay-from", "2", "--run-checkpoint", str(first))
    _run_train_script(monkeypatch, "--steps", "3", "--decay-from", "1", "--lr", "1e-4",
                      "--run-checkpoint", str(second), "--init-from", str(first))
    before, after = (torch.load(path, weights_only=True) for path in (first, second))
    assert after["step"] == 3 and [cycle["steps"] for cycle in after["parts"]["earlier"]["cycles"]] == [4]
    assert after["parts"]["earlier"]["history"]["loss"] == before["history"]["loss"]  # the curve goes on
    adam = after["parts"]["optimizer"]
    assert all(int(state["step"]) == 4 + 3 for state in adam["state"].values())  # Adam's moments went on
    assert adam["param_groups"][0]["initial_lr"] == 1e-4 and after["parts"]["schedule"]["base_lrs"] == [1e-4]
    assert after["parts"]["batches"]["position"] == before["parts"]["batches"]["position"] + 3  # data order too
    assert after["parts"]["clock"]["seconds"] > before["parts"]["clock"]["seconds"]
    first.unlink()  # the new cycle's own checkpoint holds all it needs to resume
    _run_train_script(monkeypatch, "--steps", "3", "--decay-from", "1", "--lr", "1e-4",
                      "--run-checkpoint", str(second), "--init-from", str(first))
    assert [cycle["steps"] for cycle in torch.load(second, weights_only=True)["parts"]["earlier"]["cycles"]] == [4]
    third = tmp_path / "third.ckpt"  # a cycle after a further cycle knows both before it
    _run_train_script(monkeypatch, "--steps", "2", "--decay-from", "1", "--lr", "5e-5",
                      "--run-checkpoint", str(third), "--init-from", str(second))
    earlier = torch.load(third, weights_only=True)["parts"]["earlier"]
    assert [(cycle["steps"], cycle["lr"]) for cycle in earlier["cycles"]] == [(4, 3e-4), (3, 1e-4)]
    assert earlier["history"]["step"] == [4, 7]  # one curve (a point per 100 steps and the last), counted from cycle 1


def test_the_cycles_of_a_run_add_up_in_its_budget() -> None:
    from gencourse.train import History

    cycles = _train_script().EarlierCycles()
    for steps, decay in ((56_000, {"from": 30_000, "to": 56_000}), (36_000, {"from": 12_000, "to": 36_000})):
        history = History()
        history.log(steps, {"loss": 0.02})
        cycles.add_cycle(steps, {"lr": 3e-4, "warmup": 1_000, "decay": decay}, history)
    assert cycles.steps() == 92_000 and cycles.history["step"] == [56_000, 92_000]
    assert cycles.describe().startswith("cycle 1 (56000 steps): Adam(lr=0.0003)")
    assert "; then cycle 2 (36000 steps): " in cycles.describe()


def test_a_further_cycle_refuses_an_unfinished_run_another_network_or_its_own_checkpoint(
        tmp_path, monkeypatch, one_thread) -> None:
    constant, finished = tmp_path / "constant.ckpt", tmp_path / "finished.ckpt"
    _run_train_script(monkeypatch, "--steps", "2", "--run-checkpoint", str(constant))
    with pytest.raises(ValueError, match="not a finished cycle"):
        _run_train_script(monkeypatch, "--steps", "2", "--run-checkpoint", str(tmp_path / "a.ckpt"),
                          "--init-from", str(constant))
    _run_train_script(monkeypatch, "--steps", "2", "--decay-from", "1", "--run-checkpoint", str(finished))
    with pytest.raises(ValueError, match="network differs"):
        _run_train_script(monkeypatch, "--steps", "2", "--T", "60", "--run-checkpoint", str(tmp_path / "b.ckpt"),
                          "--init-from", str(finished))
    with pytest.raises(FileNotFoundError, match="no such run checkpoint"):
        _run_train_script(monkeypatch, "--steps", "2", "--run-checkpoint", str(tmp_path / "c.ckpt"),
                          "--init-from", str(tmp_path / "missing.ckpt"))
    with pytest.raises(SystemExit):  # the finished run is never overwritten by the new cycle
        _run_train_script(monkeypatch, "--steps", "2", "--run-checkpoint", str(finished), "--init-from", str(finished))
    assert not (tmp_path / "a.ckpt").exists() and not (tmp_path / "b.ckpt").exists()
