"""Chapter 3: the VAE's objective, the IWAE bound and the test-set likelihood estimate, against exact answers."""

from __future__ import annotations

import math

import pytest
import torch

from gencourse.lvm import PPCA
from gencourse.vae import (
    VAE,
    active_units,
    bernoulli_log_likelihood,
    estimate_nll,
    evaluate_elbo,
    gaussian_log_likelihood,
    importance_sampled_nll,
    iwae_bound,
    kl_warmup,
)
from gencourse.vi import (
    linear_gaussian_elbo,
    linear_gaussian_log_joint,
    log_normal_diag,
    log_standard_normal,
    reparameterization_gradient,
    reparameterize,
)

DTYPE = torch.float64


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def linear_gaussian(seed: int = 0, D: int = 4, d: int = 2) -> PPCA:
    g = gen(seed)
    return PPCA(d, W=torch.randn(D, d, generator=g, dtype=DTYPE), mu=torch.randn(D, generator=g, dtype=DTYPE),
                sigma2=torch.tensor(0.5, dtype=DTYPE))


def log_weights(model: PPCA, x: torch.Tensor, mu: torch.Tensor, log_var: torch.Tensor, k: int,
                generator: torch.Generator) -> torch.Tensor:
    z = reparameterize(mu, log_var, torch.randn(k, *mu.shape, generator=generator, dtype=DTYPE))  # (k, N, d)
    return linear_gaussian_log_joint(model, x, z) - log_normal_diag(z, mu, log_var)  # (k, N)


# --- the IWAE bound -------------------------------------------------------------------------------------------


def test_iwae_bound_is_the_log_of_the_mean_weight() -> None:
    log_w = torch.randn(7, 3, generator=gen(0), dtype=DTYPE) * 3 - 100  # weights of e^-100 would underflow in exp
    expected = torch.log(torch.exp(log_w + 100).mean(0)) - 100
    torch.testing.assert_close(iwae_bound(log_w), expected, rtol=1e-13, atol=1e-13)
    torch.testing.assert_close(iwae_bound(log_w[:1]), log_w[0])  # K = 1: the one-sample ELBO


def test_iwae_bound_is_exact_when_q_is_the_posterior() -> None:
    model = linear_gaussian(d=1)  # one latent dimension: the exact posterior is a factorised Gaussian
    x = model.sample(5, generator=gen(1))
    post_mean, post_cov = model.posterior(x)
    log_var = post_cov.diagonal().log().expand(5, 1)
    log_w = log_weights(model, x, post_mean, log_var, k=3, generator=gen(2))
    # every weight equals p(x): log w = log p(x) for every sample, so every bound is tight
    torch.testing.assert_close(iwae_bound(log_w), model.log_prob(x), rtol=1e-10, atol=1e-10)


def test_iwae_bound_rises_with_k_and_approaches_log_p() -> None:
    model = linear_gaussian()
    g = gen(3)
    x = model.sample(1, generator=g)
    post_mean, post_cov = model.posterior(x)
    mu, log_var = post_mean + 0.5, torch.log(post_cov.diagonal() * 3).unsqueeze(0)  # a poor, over-wide q
    log_p = float(model.log_prob(x))
    elbo = float(linear_gaussian_elbo(model, x, mu, log_var))
    bounds = []
    for k in (1, 4, 16, 64, 256):
        # E[L_K] by averaging 2,000 independent K-sample bounds
        log_w = log_weights(model, x.expand(2000, -1), mu.expand(2000, -1), log_var.expand(2000, -1), k, g)
        values = iwae_bound(log_w)
        bounds.append((float(values.mean()), float(values.std()) / math.sqrt(2000)))
    assert bounds[0][0] == pytest.approx(elbo, abs=4 * bounds[0][1])  # L_1 is the ELBO
    for (lo, se_lo), (hi, se_hi) in zip(bounds[:-1], bounds[1:], strict=True):
        assert hi > lo - 3 * (se_lo + se_hi), bounds
    assert all(b < log_p + 4 * se for b, se in bounds)  # still bounds
    assert log_p - bounds[-1][0] < 0.02 < log_p - elbo  # and nearly tight at K = 256, unlike the ELBO


def tiny_vae(seed: int = 0) -> VAE:
    torch.manual_seed(seed)
    return VAE(image_shape=(1, 3, 3), latent_dim=1, hidden=(16,)).double()


def log_p_by_quadrature(model: VAE, x: torch.Tensor) -> torch.Tensor:
    """log p(x) = log int p(z) p(x | z) dz on a grid of 20,001 points over [-10, 10] (one latent dimension)."""
    z = torch.linspace(-10, 10, 20001, dtype=DTYPE).view(-1, 1, 1)  # (G, 1, 1)
    log_joint = model.log_likelihood(x.flatten(1), model.decode(z.expand(-1, len(x), 1))) + log_standard_normal(z)
    return torch.logsumexp(log_joint, dim=0) + math.log(20 / 20000)  # (N,)


def test_importance_sampled_nll_approaches_the_exact_log_likelihood_of_a_vae() -> None:
    model = tiny_vae()
    x = torch.rand(6, 1, 3, 3, generator=gen(4), dtype=DTYPE).round()
    with torch.no_grad():
        exact = -log_p_by_quadrature(model, x)
        elbo_nll = -model.log_weights(x, 4000, generator=gen(5)).mean(0)  # the ELBO's estimate: looser
        nll = importance_sampled_nll(model, x, k=4000, chunk=700, batch_size=4)
    assert (elbo_nll > exact).all()
    torch.testing.assert_close(nll, exact, atol=0.02, rtol=0)


def test_vae_loss_is_minus_the_elbo_and_beta_weights_the_kl() -> None:
    model = tiny_vae()
    x = torch.rand(8, 1, 3, 3, generator=gen(6), dtype=DTYPE).round()
    torch.manual_seed(0)
    out = model.loss(x)
    torch.manual_seed(0)
    out_beta = model.loss(x, beta=0.25)
    assert float(out["loss"].detach()) == pytest.approx(-float(out["elbo"]), abs=1e-12)
    assert float(out["loss"].detach()) == pytest.approx(float(out["recon"] + out["kl"]), abs=1e-12)
    assert float(out_beta["loss"].detach()) == pytest.approx(float(out["recon"] + 0.25 * out["kl"]), abs=1e-12)
    with pytest.raises(ValueError):
        VAE(image_shape=(1, 3, 3), latent_dim=1, k=3).double().loss(x, beta=0.5)


def test_kl_warmup_is_linear_then_flat() -> None:
    assert [kl_warmup(s, 4) for s in (0, 1, 2, 4, 10)] == [0.0, 0.25, 0.5, 1.0, 1.0]
    assert kl_warmup(2, 4, beta=4.0) == 2.0 and kl_warmup(3, 0) == 1.0


# --- the reparameterised gradient -------------------------------------------------------------------------------


def test_reparameterised_gradient_of_the_expected_log_joint_is_unbiased() -> None:
    model = linear_gaussian()
    x = model.sample(1, generator=gen(7))
    mu = torch.tensor([[0.3, -0.2]], dtype=DTYPE, requires_grad=True)
    log_var = torch.tensor([[-0.5, 0.4]], dtype=DTYPE, requires_grad=True)
    # E_q[log p(x, z)] = ELBO - entropy, in closed form
    entropy = 0.5 * (math.log(2 * math.pi * math.e) * 2 + log_var.sum())
    (linear_gaussian_elbo(model, x, mu, log_var).sum() - entropy).backward()
    exact = torch.stack([mu.grad[0], log_var.grad[0]])
    grads = reparameterization_gradient(lambda z: linear_gaussian_log_joint(model, x, z), mu.detach()[0],
                                        log_var.detach()[0], 200_000, generator=gen(8))
    stderr = grads.std(0) / math.sqrt(len(grads))
    assert ((grads.mean(0) - exact).abs() < 4 * stderr).all(), (grads.mean(0), exact)


def test_vae_elbo_gradient_is_unbiased_for_the_encoder() -> None:
    """The average of many one-sample ELBO gradients equals the gradient of the ELBO computed by quadrature."""
    model = tiny_vae(1)
    x = torch.rand(1, 1, 3, 3, generator=gen(9), dtype=DTYPE).round()
    mu, log_var = (t.detach() for t in model.encode(x))
    # exact E_q[log p(x | z)] by quadrature over the one latent dimension, as a function of (mu, log_var)
    m = mu.clone().requires_grad_(True)
    lv = log_var.clone().requires_grad_(True)
    z = torch.linspace(-12, 12, 24001, dtype=DTYPE).view(-1, 1, 1)
    with torch.no_grad():
        log_lik = model.log_likelihood(x.flatten(1), model.decode(z))  # (G, 1)
    q = log_normal_diag(z, m, lv).exp()  # (G, 1)
    (q * log_lik).sum().mul(24 / 24000).backward()
    exact = torch.cat([m.grad, lv.grad]).squeeze(-1)
    grads = reparameterization_gradient(lambda zz: model.log_likelihood(x.flatten(1), model.decode(zz)),
                                        mu[0], log_var[0], 100_000, generator=gen(10))  # (n, 2, 1)
    stderr = grads.std(0) / math.sqrt(len(grads))
    assert ((grads.mean(0).squeeze(-1) - exact).abs() < 4 * stderr.squeeze(-1) + 1e-9).all()


# --- the shipped checkpoint ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pretrained():
    from gencourse.pretrained import load_pretrained, read_sidecar

    record = read_sidecar("ch03_vae")
    model = VAE(**record["config"])
    load_pretrained("ch03_vae", model)
    return model, record


def test_pretrained_vae_reaches_the_quality_target(pretrained) -> None:
    _, record = pretrained
    metrics = record["metrics"]
    assert metrics["test_nll_k"] == 5000 and metrics["test_nll_n"] == 10_000
    assert metrics["test_nll_nats"] <= 90.0, metrics["test_nll_nats"]
    assert metrics["test_nll_nats"] < -metrics["test_elbo_nats"]  # importance sampling tightens the ELBO


@pytest.mark.slow
def test_pretrained_vae_nll_re_estimated_on_a_subset_agrees_with_the_sidecar(pretrained) -> None:
    from gencourse.data import load_mnist

    model, record = pretrained
    metrics = record["metrics"]
    subset = metrics["test_nll_subset"]
    x_test, _ = load_mnist("test", download=False)
    nll = estimate_nll(model, x_test, k=subset["k"], n=subset["n"], seed=metrics["test_binarization_seed"])
    assert nll == pytest.approx(subset["nll_nats"], abs=0.05)  # the same computation, repeated
    assert abs(nll - metrics["test_nll_nats"]) <= subset["tolerance_nats"]  # the sidecar's stated tolerance


# --- likelihoods and diagnostics --------------------------------------------------------------------------------


def test_likelihoods_match_torch_distributions() -> None:
    g = gen(11)
    x_logits, x_mean = torch.randn(3, 4, 6, generator=g, dtype=DTYPE), torch.randn(3, 4, 6, generator=g, dtype=DTYPE)
    x_bin = torch.rand(4, 6, generator=g, dtype=DTYPE).round()  # one batch of images, broadcast over 3 samples
    reference = torch.distributions.Bernoulli(logits=x_logits).log_prob(x_bin.expand(3, 4, 6)).sum(-1)
    torch.testing.assert_close(bernoulli_log_likelihood(x_logits, x_bin), reference, rtol=1e-12, atol=1e-12)
    reference = torch.distributions.Normal(x_mean, math.exp(-0.25)).log_prob(x_bin.expand(3, 4, 6)).sum(-1)
    torch.testing.assert_close(gaussian_log_likelihood(x_mean, x_bin, -0.5), reference, rtol=1e-12, atol=1e-12)


def test_active_units_counts_the_units_whose_posterior_mean_varies() -> None:
    model = VAE(image_shape=(1, 3, 3), latent_dim=4, hidden=(8,)).double()
    with torch.no_grad():
        last = model.encoder[-1]  # outputs (mu, log_var): rows 0..3 are mu
        last.weight[1:3] = 0  # units 1 and 2: mu no longer depends on x
    x = torch.rand(200, 1, 3, 3, generator=gen(12), dtype=DTYPE).round()
    assert active_units(model, x, threshold=1e-12) == 2


def test_evaluate_elbo_is_the_average_of_the_loss_terms() -> None:
    model = tiny_vae(2)
    x = torch.rand(10, 1, 3, 3, generator=gen(13), dtype=DTYPE).round()
    result = evaluate_elbo(model, x, batch_size=4)
    assert result["elbo"] == pytest.approx(-(result["recon"] + result["kl"]), abs=1e-9)
    torch.manual_seed(0)
    assert result["kl"] == pytest.approx(float(model.loss(x)["kl"]), abs=1e-9)  # the KL term is exact


def test_fused_adam_of_the_notebook_takes_the_same_steps_as_torchs_default_adam() -> None:
    """Notebook 03 trains with ``Adam(..., fused=True)`` and says it is the same update as the default, in less time."""
    x = torch.rand(16, 1, 3, 3, generator=gen(14), dtype=DTYPE).round()
    trained = {}
    for fused in (False, True):
        model = tiny_vae(2)  # seeds torch: both runs then draw the same noise
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-2, fused=fused)
        for _ in range(5):
            out = model.loss(x)
            optimizer.zero_grad()
            out["loss"].backward()
            optimizer.step()
        trained[fused] = model.state_dict()
    assert any(not torch.equal(v, tiny_vae(2).state_dict()[k]) for k, v in trained[True].items())  # it did move
    for name, value in trained[False].items():
        torch.testing.assert_close(trained[True][name], value, rtol=1e-12, atol=1e-12)
