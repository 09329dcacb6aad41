"""Chapter 2: divergences, the ELBO and its gap, gradient estimators, checked against exact answers in float64."""

from __future__ import annotations

import math

import pytest
import torch
from torch.distributions import MultivariateNormal, Normal, kl_divergence

from gencourse.lvm import PPCA, GaussianMixture
from gencourse.vi import (
    fit_gaussian_1d,
    fit_mean_field,
    gaussian_kl,
    gaussian_kl_full,
    linear_gaussian_elbo,
    linear_gaussian_log_joint,
    log_normal_diag,
    mean_field_forward_kl,
    mean_field_reverse_kl,
    reparameterization_gradient,
    reparameterize,
    score_function_gradient,
)

DTYPE = torch.float64
MU = torch.tensor([0.0, 1.0], dtype=DTYPE)  # the seed's example: mu = (0, 1), Sigma = [[1, .9], [.9, 1]]
SIGMA = torch.tensor([[1.0, 0.9], [0.9, 1.0]], dtype=DTYPE)


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# --- the Gaussian KL and the reparameterised sample -----------------------------------------------------------


def test_gaussian_kl_matches_torch_distributions() -> None:
    g = gen(0)
    mu_q, mu_p = torch.randn(5, 3, generator=g, dtype=DTYPE), torch.randn(5, 3, generator=g, dtype=DTYPE)
    lv_q, lv_p = torch.randn(5, 3, generator=g, dtype=DTYPE), torch.randn(5, 3, generator=g, dtype=DTYPE)
    reference = kl_divergence(Normal(mu_q, (0.5 * lv_q).exp()), Normal(mu_p, (0.5 * lv_p).exp())).sum(-1)
    torch.testing.assert_close(gaussian_kl(mu_q, lv_q, mu_p, lv_p), reference, rtol=1e-12, atol=1e-12)
    # the default prior is N(0, I), and a distribution has no divergence from itself
    torch.testing.assert_close(gaussian_kl(mu_q, lv_q), gaussian_kl(mu_q, lv_q, 0.0, torch.zeros_like(lv_q)))
    torch.testing.assert_close(gaussian_kl(mu_q, lv_q, mu_q, lv_q), torch.zeros(5, dtype=DTYPE))


def test_gaussian_kl_known_value() -> None:
    # KL(N(1, 4) || N(0, 1)) = (log(1/4) + 4 + 1 - 1) / 2 = 2 - log 2
    value = gaussian_kl(torch.tensor([1.0], dtype=DTYPE), torch.tensor([math.log(4.0)], dtype=DTYPE))
    assert float(value) == pytest.approx(2 - math.log(2), abs=1e-14)


def test_analytic_gaussian_kl_equals_a_monte_carlo_estimate() -> None:
    g = gen(1)
    mu_q, lv_q = torch.tensor([0.3, -1.0, 2.0], dtype=DTYPE), torch.tensor([-0.5, 0.2, 0.0], dtype=DTYPE)
    mu_p, lv_p = torch.tensor([0.0, 0.5, 1.0], dtype=DTYPE), torch.tensor([0.1, -0.3, 0.4], dtype=DTYPE)
    n = 400_000
    z = reparameterize(mu_q, lv_q, torch.randn(n, 3, generator=g, dtype=DTYPE))
    terms = log_normal_diag(z, mu_q, lv_q) - log_normal_diag(z, mu_p, lv_p)
    estimate, stderr = terms.mean(), terms.std() / math.sqrt(n)
    exact = gaussian_kl(mu_q, lv_q, mu_p, lv_p)
    assert abs(float(estimate - exact)) < 4 * float(stderr), (float(estimate), float(exact), float(stderr))


def test_reparameterised_sample_has_the_right_moments_and_gradients() -> None:
    mu = torch.tensor([1.0, -2.0], dtype=DTYPE, requires_grad=True)
    log_var = torch.tensor([0.0, math.log(0.25)], dtype=DTYPE, requires_grad=True)
    eps = torch.randn(200_000, 2, generator=gen(2), dtype=DTYPE)
    z = reparameterize(mu, log_var, eps)
    torch.testing.assert_close(z.mean(0), mu.detach(), atol=0.01, rtol=0)
    torch.testing.assert_close(z.var(0), log_var.detach().exp(), atol=0.01, rtol=0)
    # z = mu + exp(log_var / 2) eps: dz/dmu = 1, dz/dlog_var = eps * exp(log_var / 2) / 2, exactly
    z[:3].sum().backward()
    torch.testing.assert_close(mu.grad, torch.full((2,), 3.0, dtype=DTYPE))
    torch.testing.assert_close(log_var.grad, (0.5 * eps[:3] * (0.5 * log_var.detach()).exp()).sum(0))


def test_gaussian_kl_full_matches_torch_distributions() -> None:
    g = gen(3)
    A, B = torch.randn(3, 3, generator=g, dtype=DTYPE), torch.randn(3, 3, generator=g, dtype=DTYPE)
    S_q, S_p = A @ A.T + 0.5 * torch.eye(3, dtype=DTYPE), B @ B.T + 0.5 * torch.eye(3, dtype=DTYPE)
    m_q, m_p = torch.randn(3, generator=g, dtype=DTYPE), torch.randn(3, generator=g, dtype=DTYPE)
    reference = kl_divergence(MultivariateNormal(m_q, S_q), MultivariateNormal(m_p, S_p))
    torch.testing.assert_close(gaussian_kl_full(m_q, S_q, m_p, S_p), reference, rtol=1e-12, atol=1e-12)


# --- the two directions of the KL -----------------------------------------------------------------------------


def test_mean_field_optima_on_the_seed_example() -> None:
    mu_r, var_r = mean_field_reverse_kl(MU, SIGMA)
    mu_f, var_f = mean_field_forward_kl(MU, SIGMA)
    # Lambda = Sigma^-1 = [[1, -.9], [-.9, 1]] / 0.19, so 1 / Lambda_ii = 1 - 0.9^2 = 0.19
    torch.testing.assert_close(var_r, torch.full((2,), 0.19, dtype=DTYPE), rtol=1e-13, atol=1e-13)
    torch.testing.assert_close(var_f, torch.ones(2, dtype=DTYPE))
    torch.testing.assert_close(mu_r, MU)
    torch.testing.assert_close(mu_f, MU)


@pytest.mark.parametrize("rho", [0.0, 0.5, 0.9, -0.7])
def test_numerical_kl_minimisation_finds_the_closed_form_optima(rho: float) -> None:
    Sigma = torch.tensor([[1.0, rho * 0.8], [rho * 0.8, 0.64]], dtype=DTYPE)
    for direction, closed_form in (("reverse", mean_field_reverse_kl), ("forward", mean_field_forward_kl)):
        mu_fit, var_fit = fit_mean_field(MU, Sigma, direction)
        mu_exact, var_exact = closed_form(MU, Sigma)
        torch.testing.assert_close(mu_fit, mu_exact, atol=1e-7, rtol=0)
        torch.testing.assert_close(var_fit, var_exact, atol=1e-7, rtol=0)


def test_reverse_fit_is_narrower_than_forward_fit() -> None:
    _, var_r = mean_field_reverse_kl(MU, SIGMA)
    _, var_f = mean_field_forward_kl(MU, SIGMA)
    assert (var_r < var_f).all()  # conditional variances never exceed marginal ones


def bimodal() -> GaussianMixture:
    return GaussianMixture(torch.tensor([0.5, 0.5], dtype=DTYPE), torch.tensor([[-2.0], [2.0]], dtype=DTYPE),
                           torch.full((2, 1, 1), 0.25, dtype=DTYPE))


def test_forward_kl_fit_of_a_bimodal_target_matches_its_moments() -> None:
    target = bimodal()
    mu, var = fit_gaussian_1d(lambda t: target.log_prob(t.unsqueeze(-1)), "forward", init=(0.5, 0.0))
    # mixture moments: mean 0, variance = 0.25 + 2^2 = 4.25
    assert mu == pytest.approx(0.0, abs=1e-6) and var == pytest.approx(4.25, abs=1e-6)


def test_reverse_kl_fit_of_a_bimodal_target_picks_one_mode() -> None:
    target = bimodal()
    for start, mode in ((1.0, 2.0), (-1.0, -2.0)):
        mu, var = fit_gaussian_1d(lambda t: target.log_prob(t.unsqueeze(-1)), "reverse", init=(start, 0.0))
        # the modes are 8 standard deviations apart: q sits on one, with (almost) its variance
        assert mu == pytest.approx(mode, abs=1e-3) and var == pytest.approx(0.25, abs=1e-3)


# --- the ELBO and its gap on a model with a known posterior ----------------------------------------------------


def linear_gaussian(seed: int = 4, D: int = 5, d: int = 2) -> PPCA:
    g = gen(seed)
    return PPCA(d, W=torch.randn(D, d, generator=g, dtype=DTYPE), mu=torch.randn(D, generator=g, dtype=DTYPE),
                sigma2=torch.tensor(0.3, dtype=DTYPE))


def test_log_evidence_is_elbo_plus_kl_to_the_posterior_exactly() -> None:
    model = linear_gaussian()
    g = gen(5)
    x = model.sample(6, generator=g)
    mu, log_var = torch.randn(6, 2, generator=g, dtype=DTYPE), torch.randn(6, 2, generator=g, dtype=DTYPE)
    post_mean, post_cov = model.posterior(x)
    gap = torch.stack([gaussian_kl_full(mu[n], torch.diag(log_var[n].exp()), post_mean[n], post_cov) for n in range(6)])
    torch.testing.assert_close(linear_gaussian_elbo(model, x, mu, log_var) + gap, model.log_prob(x),
                               rtol=1e-12, atol=1e-12)
    assert (gap > 0).all()


def test_closed_form_elbo_equals_monte_carlo() -> None:
    model = linear_gaussian()
    g = gen(6)
    x = model.sample(1, generator=g)
    mu, log_var = torch.tensor([[0.2, -0.4]], dtype=DTYPE), torch.tensor([[-1.0, -0.5]], dtype=DTYPE)
    z = reparameterize(mu, log_var, torch.randn(200_000, 1, 2, generator=g, dtype=DTYPE))
    terms = linear_gaussian_log_joint(model, x, z) - log_normal_diag(z, mu, log_var)  # (n, 1)
    exact = linear_gaussian_elbo(model, x, mu, log_var)
    assert abs(float(terms.mean() - exact)) < 4 * float(terms.std() / math.sqrt(len(terms)))


def test_elbo_is_tight_when_q_is_the_exact_posterior() -> None:
    model = linear_gaussian(d=1)  # with one latent dimension the posterior is itself factorised
    x = model.sample(4, generator=gen(7))
    post_mean, post_cov = model.posterior(x)
    log_var = torch.log(post_cov.diagonal()).expand(4, 1)
    torch.testing.assert_close(linear_gaussian_elbo(model, x, post_mean, log_var), model.log_prob(x),
                               rtol=1e-12, atol=1e-12)


# --- gradient estimators --------------------------------------------------------------------------------------


def quadratic(z: torch.Tensor) -> torch.Tensor:
    return (z - 1).pow(2).sum(-1)  # E_q = sum (mu - 1)^2 + sigma^2: d/dmu = 2 (mu - 1), d/dlog_var = sigma^2


@pytest.mark.parametrize("estimator", [score_function_gradient, reparameterization_gradient])
def test_both_gradient_estimators_are_unbiased(estimator) -> None:
    mu, log_var = torch.tensor([0.5, -1.0], dtype=DTYPE), torch.tensor([0.0, math.log(0.5)], dtype=DTYPE)
    grads = estimator(quadratic, mu, log_var, 400_000, generator=gen(8))  # (n, 2, d)
    exact = torch.stack([2 * (mu - 1), log_var.exp()])
    stderr = grads.std(0) / math.sqrt(len(grads))
    assert ((grads.mean(0) - exact).abs() < 4 * stderr + 1e-12).all(), (grads.mean(0), exact)


def test_reparameterised_gradient_matches_autograd_of_the_sample_average() -> None:
    mu = torch.tensor([0.5, -1.0], dtype=DTYPE, requires_grad=True)
    log_var = torch.tensor([0.3, -0.2], dtype=DTYPE, requires_grad=True)
    grads = reparameterization_gradient(lambda z: torch.sin(z).sum(-1), mu.detach(),
                                        log_var.detach(), 64, generator=gen(9))
    eps = torch.randn(64, 2, generator=gen(9), dtype=DTYPE)
    torch.sin(reparameterize(mu, log_var, eps)).sum(-1).mean().backward()
    torch.testing.assert_close(grads.mean(0), torch.stack([mu.grad, log_var.grad]), rtol=1e-12, atol=1e-12)


def test_reparameterisation_has_lower_variance_than_the_score_function() -> None:
    mu, log_var = torch.tensor([0.5, -1.0], dtype=DTYPE), torch.tensor([0.0, 0.0], dtype=DTYPE)
    sf = score_function_gradient(quadratic, mu, log_var, 50_000, generator=gen(10))
    rp = reparameterization_gradient(quadratic, mu, log_var, 50_000, generator=gen(10))
    assert (rp.var(0) < sf.var(0) / 5).all()
