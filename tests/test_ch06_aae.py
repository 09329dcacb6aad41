"""Chapter 6: the facts about AAEs and AVB that code can check, in float64, exact where possible.

Expectations over Gaussians are computed by Gauss-Hermite quadrature (exact for polynomials up
to degree 2 * nodes - 1, and to round-off for the smooth integrands here), not by sampling.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from gencourse.aae import (
    AAE,
    AVB,
    GaussianMixturePrior,
    JointDiscriminator,
    StandardGaussianPrior,
    SwissRollPrior,
    aggregated_posterior_test,
    avb_elbo,
    make_prior,
    optimal_t_gaussian,
)
from gencourse.gan import discriminator_loss
from gencourse.metrics import mmd_test
from gencourse.metrics.mmd import gaussian_kernel, median_bandwidth
from gencourse.pretrained import available, read_sidecar
from gencourse.vi.gaussian import gaussian_kl

pytestmark = pytest.mark.usefixtures("one_thread")  # small tensors: see tests/conftest.py


def hermite(nodes: int = 60) -> tuple[torch.Tensor, torch.Tensor]:
    """Nodes ``t`` and weights ``w`` with ``sum_i w_i f(t_i) = E f(T)``, ``T ~ N(0, 1)``."""
    t, w = np.polynomial.hermite_e.hermegauss(nodes)  # weight function exp(-t^2 / 2)
    return torch.from_numpy(t), torch.from_numpy(w / math.sqrt(2 * math.pi))


# A Gaussian case of AVB: x ~ N(0, 1), q(z | x) = N(a x + b, s^2), p(z) = N(0, 1); all 1-D.
A, B, S = 0.8, 0.3, 0.6
LOG_S = math.log(S)


def q_params(x: torch.Tensor, a=A, b=B, log_s=LOG_S) -> tuple[torch.Tensor, torch.Tensor]:
    """``(mu, log_var)`` of q(z | x) as ``(..., 1)`` tensors."""
    log_s = torch.as_tensor(log_s, dtype=torch.float64)
    return (a * x + b).unsqueeze(-1), (2 * log_s).expand_as(x).unsqueeze(-1)


def population_logistic_loss(t_fn) -> torch.Tensor:
    """``E_x E_{q(z|x)} softplus(-T) + E_x E_{p(z)} softplus(T)`` by a product Gauss-Hermite rule.

    The population version of the discriminator's loss (eq:avb-discriminator).
    """
    t, w = hermite(150)  # the integrands are smooth but not polynomial: 150 nodes bring the error to ~1e-12
    x = t[:, None].expand(-1, len(t))  # (nodes_x, nodes_z)
    wx = w[:, None] * w[None, :]
    z_q = A * x + B + S * t[None, :]  # z ~ q(z | x) at the nodes
    z_p = t[None, :].expand_as(x)  # z ~ p(z)
    return (wx * F.softplus(-t_fn(x, z_q))).sum() + (wx * F.softplus(t_fn(x, z_p))).sum()


def t_star(x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    mu, log_var = q_params(x)
    return optimal_t_gaussian(z.unsqueeze(-1), mu, log_var)  # (eq:avb-optimal-t)


def test_optimal_t_is_the_gaussian_log_ratio_from_scipy():
    from scipy.stats import multivariate_normal

    g = torch.Generator().manual_seed(0)
    z, mu = torch.randn(5, 3, generator=g, dtype=torch.float64), torch.randn(5, 3, generator=g, dtype=torch.float64)
    log_var = 0.3 * torch.randn(5, 3, generator=g, dtype=torch.float64)
    expected = [multivariate_normal(mu[i].numpy(), np.diag(log_var[i].exp().numpy())).logpdf(z[i].numpy())
                - multivariate_normal(np.zeros(3), np.eye(3)).logpdf(z[i].numpy()) for i in range(5)]
    torch.testing.assert_close(optimal_t_gaussian(z, mu, log_var), torch.tensor(expected, dtype=torch.float64))


def test_the_logistic_loss_is_smallest_at_the_closed_form_t_star():
    """Every perturbation T* + delta h raises the population loss; its derivative at delta = 0 vanishes."""
    best = population_logistic_loss(t_star)
    g = torch.Generator().manual_seed(0)
    for _ in range(5):
        c = torch.randn(5, generator=g, dtype=torch.float64)

        def h(x, z, c=c):
            return c[0] + c[1] * x + c[2] * z + c[3] * x * z + c[4] * torch.tanh(z)

        for delta in (-1.0, -0.1, -0.01, 0.01, 0.1, 1.0):
            assert population_logistic_loss(lambda x, z, d=delta, h=h: t_star(x, z) + d * h(x, z)) > best
        zero = torch.zeros((), dtype=torch.float64, requires_grad=True)
        perturbed = population_logistic_loss(lambda x, z, d=zero, h=h: t_star(x, z) + d * h(x, z))
        (slope,) = torch.autograd.grad(perturbed, zero)
        assert abs(float(slope)) < 1e-10


@pytest.mark.slow
def test_a_trained_discriminator_approaches_t_star_on_a_grid():
    """A small T(x, z) trained with the logistic loss (eq:avb-discriminator) learns log q(z|x) - log p(z)."""
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    n = 10_000
    x = torch.randn(n, 1, generator=g, dtype=torch.float64)
    z_q = A * x + B + S * torch.randn(n, 1, generator=g, dtype=torch.float64)
    z_p = torch.randn(n, 1, generator=g, dtype=torch.float64)
    T = JointDiscriminator(1, 1, hidden=(32, 32)).double()
    optimizer = torch.optim.Adam(T.parameters(), lr=1e-2)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, 2000)
    for _ in range(2000):  # full batch
        loss = discriminator_loss(T(x, z_q), T(x, z_p))  # (eq:avb-discriminator)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
    xs, zs = torch.meshgrid(torch.linspace(-1.5, 1.5, 31, dtype=torch.float64),
                            torch.linspace(-2, 2, 41, dtype=torch.float64), indexing="ij")
    mass = ((zs - A * xs - B).abs() < 1.5 * S) & (zs.abs() < 1.5)  # where both q(z|x) and p(z) have mass
    with torch.no_grad():
        learned = T(xs.reshape(-1, 1), zs.reshape(-1, 1)).view_as(xs)
    error = (learned - t_star(xs, zs))[mass].abs()
    # From 10,000 pairs of each kind the error is statistical: about 0.08 on average, against |T*| of about 0.5
    assert error.mean() < 0.12 and error.max() < 0.6, (float(error.mean()), float(error.max()))


def test_proposition_1_the_expected_gradient_of_t_star_vanishes():
    """E_q[grad_phi T*(x, z)] = E_q[grad_phi log q_phi(z|x)] = 0 at every x  (eq:avb-gradient-identity).

    And the gradient that flows only through the sample z_phi = mu + s eps (T*'s own phi held
    fixed) is the whole gradient of E_q[T*] = KL(q || p): the part through T*'s phi adds nothing.
    """
    t, w = hermite()
    for x in (-1.3, 0.0, 0.7, 2.0):
        x = torch.tensor(x, dtype=torch.float64)
        phi = torch.tensor([A, B, math.log(S)], dtype=torch.float64, requires_grad=True)
        mu, log_var = q_params(x, *phi)
        z = (mu + torch.exp(0.5 * log_var) * t.unsqueeze(-1)).detach()  # (nodes, 1): z held fixed
        (score,) = torch.autograd.grad((w * optimal_t_gaussian(z, mu, log_var)).sum(), phi)
        torch.testing.assert_close(score, torch.zeros(3, dtype=torch.float64), atol=1e-12, rtol=0)

        mu, log_var = q_params(x, *phi)
        kl = gaussian_kl(mu, log_var)  # E_q[T*] in closed form
        (grad_kl,) = torch.autograd.grad(kl.sum(), phi, retain_graph=True)
        z_phi = mu + torch.exp(0.5 * log_var) * t.unsqueeze(-1)  # reparameterised: depends on phi
        frozen = optimal_t_gaussian(z_phi, mu.detach(), log_var.detach())  # T* with its own phi held fixed
        (through_z,) = torch.autograd.grad((w * frozen).sum(), phi)
        torch.testing.assert_close(through_z, grad_kl, atol=1e-12, rtol=1e-10)
        assert grad_kl.abs().max() > 1e-3  # the gradient itself is far from 0


def test_the_avb_elbo_with_t_star_is_the_vae_elbo():
    """E_q[log p(x|z) - T*(x, z)] = E_q log p(x|z) - KL(q || p): with the exact T the AVB objective is the ELBO."""
    t, w = hermite(40)
    z1, z2 = torch.meshgrid(t, t, indexing="ij")
    weights = (w[:, None] * w[None, :]).reshape(-1)
    eps = torch.stack([z1.reshape(-1), z2.reshape(-1)], dim=1)  # (nodes^2, 2)
    mu, log_var = torch.tensor([0.4, -1.1], dtype=torch.float64), torch.tensor([-0.7, 0.2], dtype=torch.float64)
    z = mu + torch.exp(0.5 * log_var) * eps
    log_px_z = -0.5 * (z - torch.tensor([1.0, 2.0], dtype=torch.float64)).pow(2).sum(1)  # any log-likelihood
    expected = (weights * log_px_z).sum() - gaussian_kl(mu, log_var)
    torch.testing.assert_close((weights * avb_elbo(log_px_z, optimal_t_gaussian(z, mu, log_var))).sum(), expected,
                               atol=1e-12, rtol=0)


# --- The models' losses against hand computations ------------------------------------------------


def logistic_by_hand(logits_1: torch.Tensor, logits_0: torch.Tensor) -> torch.Tensor:
    """-mean log D(label 1) - mean log(1 - D(label 0)), with probabilities."""
    return -(torch.sigmoid(logits_1).log().mean() + (1 - torch.sigmoid(logits_0)).log().mean())


def bernoulli_by_hand(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    p = torch.sigmoid(logits)
    return (x * p.log() + (1 - x) * (1 - p).log()).sum(1)


def mlp_by_hand(net: torch.nn.Sequential, h: torch.Tensor, slope: float = 0.0) -> torch.Tensor:
    """The MLP's output from its weights: linear layers, ReLU (or LeakyReLU(slope)) between them."""
    linears = [m for m in net if isinstance(m, torch.nn.Linear)]
    for i, layer in enumerate(linears):
        h = h @ layer.weight.T + layer.bias
        if i < len(linears) - 1:
            h = torch.where(h > 0, h, slope * h)
    return h


@pytest.mark.parametrize("encoder", ["deterministic", "gaussian"])
def test_aae_losses_equal_the_hand_computation(float64, encoder):
    torch.manual_seed(0)
    model = AAE(image_shape=(1, 2, 3), latent_dim=2, hidden=(5,), discriminator_hidden=(4,), encoder=encoder,
                prior="mixture", prior_options={"components": 3, "radius": 2.0, "std": 0.5})
    x = torch.rand(6, 1, 2, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    xf = x.flatten(1)

    def codes_by_hand(eps: torch.Tensor | None) -> torch.Tensor:
        h = mlp_by_hand(model.encoder, xf)
        if encoder == "deterministic":
            return h
        mu, log_var = h.chunk(2, dim=1)
        return mu + torch.exp(0.5 * log_var) * eps

    def d_by_hand(z: torch.Tensor) -> torch.Tensor:
        return mlp_by_hand(model.discriminator.net, z, slope=0.2).squeeze(1)

    torch.manual_seed(2)
    eps = torch.randn(6, 2) if encoder == "gaussian" else None
    z = codes_by_hand(eps)
    expected = -bernoulli_by_hand(mlp_by_hand(model.decoder, z), xf).mean()  # (eq:aae-reconstruction)
    torch.manual_seed(2)
    torch.testing.assert_close(model.reconstruction_loss(x)["loss"], expected)

    torch.manual_seed(3)
    eps = torch.randn(6, 2) if encoder == "gaussian" else None  # the encoder's noise is drawn first
    k = torch.randint(3, (6,))  # then the prior's components and offsets
    z_prior = model.prior.centers()[k] + 0.5 * torch.randn(6, 2)
    torch.manual_seed(3)
    out = model.discriminator_loss(x)
    torch.testing.assert_close(out["loss"], logistic_by_hand(d_by_hand(z_prior), d_by_hand(codes_by_hand(eps))))
    torch.testing.assert_close(out["D_prior"], torch.sigmoid(d_by_hand(z_prior)).mean())

    torch.manual_seed(4)
    eps = torch.randn(6, 2) if encoder == "gaussian" else None
    torch.manual_seed(4)
    expected = -torch.sigmoid(d_by_hand(codes_by_hand(eps))).log().mean()  # (eq:aae-generator)
    torch.testing.assert_close(model.generator_loss(x)["loss"], expected)


@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian"])
def test_avb_losses_equal_the_hand_computation(float64, likelihood):
    torch.manual_seed(0)
    model = AVB(data_shape=(4,), latent_dim=2, noise_dim=3, hidden=(5,), discriminator_hidden=(6,),
                likelihood=likelihood, x_std=0.7)
    x = torch.rand(5, 4, generator=torch.Generator().manual_seed(1), dtype=torch.float64)

    def t_by_hand(z: torch.Tensor) -> torch.Tensor:
        return mlp_by_hand(model.discriminator.net, torch.cat([x, z], 1), slope=0.2).squeeze(1)

    def z_by_hand(eps: torch.Tensor) -> torch.Tensor:
        return mlp_by_hand(model.encoder.net, torch.cat([x, eps], 1))

    torch.manual_seed(2)
    eps, z_prior = torch.randn(5, 3), torch.randn(5, 2)
    torch.manual_seed(2)
    out = model.discriminator_loss(x)
    torch.testing.assert_close(out["loss"], logistic_by_hand(t_by_hand(z_by_hand(eps)), t_by_hand(z_prior)))

    torch.manual_seed(3)
    z = z_by_hand(torch.randn(5, 3))
    out_x = mlp_by_hand(model.decoder, z)
    if likelihood == "bernoulli":
        log_px_z = bernoulli_by_hand(out_x, x)
    else:
        log_px_z = (-0.5 * math.log(2 * math.pi * 0.49) - (x - out_x).pow(2) / (2 * 0.49)).sum(1)
    torch.manual_seed(3)
    out = model.generator_loss(x)
    torch.testing.assert_close(out["loss"], -(log_px_z - t_by_hand(z)).mean())  # (eq:avb-objective)
    torch.testing.assert_close(out["kl"], t_by_hand(z).mean())
    torch.testing.assert_close(out["elbo"], -out["loss"].detach())


def test_models_refuse_bad_settings_and_data_of_the_wrong_shape():
    with pytest.raises(ValueError, match="encoder must be one of"):
        AAE(encoder="implicit")
    with pytest.raises(ValueError, match="unknown prior"):
        AAE(prior="laplace")
    with pytest.raises(ValueError, match="bad options"):
        AAE(prior="gaussian", prior_options={"radius": 1.0})
    with pytest.raises(ValueError, match=r"images must have shape \(B, 1, 28, 28\)"):
        AAE().reconstruction_loss(torch.rand(3, 784))
    with pytest.raises(ValueError, match="likelihood must be one of"):
        AVB(likelihood="poisson")
    with pytest.raises(ValueError, match=r"data must have shape \(B, 2\)"):
        AVB(data_shape=(2,)).generator_loss(torch.rand(3, 3))


# --- Priors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("prior", [StandardGaussianPrior(3), GaussianMixturePrior(3, components=5),
                                   SwissRollPrior(3)], ids=lambda p: p.name)
def test_prior_samples_have_the_asked_shape_dtype_and_are_reproducible(prior):
    z = prior.sample(7, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    assert z.shape == (7, 3) and z.dtype == torch.float64 and torch.isfinite(z).all()
    torch.testing.assert_close(prior.sample(7, generator=torch.Generator().manual_seed(0), dtype=torch.float64), z)
    assert make_prior(**{"dim": 3, **prior.config}).config == prior.config
    assert prior.sample(0).shape == (0, 3)


def test_mixture_log_prob_integrates_to_one_and_matches_scipy():
    from scipy.stats import multivariate_normal

    prior = GaussianMixturePrior(2, components=6, radius=2.0, std=0.4)
    axis = torch.linspace(-5, 5, 1001, dtype=torch.float64)
    grid = torch.cartesian_prod(axis, axis)
    mass = prior.log_prob(grid).exp().sum() * (axis[1] - axis[0]) ** 2
    assert float(mass) == pytest.approx(1.0, abs=1e-8)

    prior3 = GaussianMixturePrior(3, components=4, radius=1.5, std=0.8)
    z = torch.randn(10, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    expected = sum(multivariate_normal(c.numpy(), 0.64 * np.eye(3)).pdf(z.numpy())
                   for c in prior3.centers(torch.float64)) / 4
    torch.testing.assert_close(prior3.log_prob(z), torch.from_numpy(np.log(expected)))


def test_mixture_samples_have_the_mixture_moments():
    """E z = mean of the centres = 0 and E |z|^2 = r^2 + d s^2, within 5 standard errors of 40,000 samples."""
    prior = GaussianMixturePrior(4, components=10, radius=3.0, std=0.5)
    z = prior.sample(40_000, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    assert z.mean(0).abs().max() < 5 * 3.0 / 200
    squared = z.pow(2).sum(1)
    assert abs(float(squared.mean()) - (9 + 4 * 0.25)) < 5 * float(squared.std()) / 200
    share = torch.bincount(prior.component(z), minlength=10).double() / len(z)
    assert (share - 0.1).abs().max() < 5 * math.sqrt(0.09 / 40_000)


def test_gaussian_prior_log_prob_is_the_standard_normal():
    z = torch.randn(6, 3, dtype=torch.float64)
    expected = torch.distributions.Normal(0.0, 1.0).log_prob(z).sum(1)
    torch.testing.assert_close(StandardGaussianPrior(3).log_prob(z), expected)


def test_the_sampler_only_prior_says_why_it_has_no_density():
    with pytest.raises(NotImplementedError, match="defined only by its sampler.*no closed form"):
        SwissRollPrior(2).log_prob(torch.zeros(1, 2))
    with pytest.raises(ValueError, match="at least 2"):
        SwissRollPrior(1)
    with pytest.raises(ValueError, match="coordinates"):
        GaussianMixturePrior(2).log_prob(torch.zeros(1, 3))


# --- The MMD two-sample test ------------------------------------------------------------------


def test_unbiased_mmd_equals_a_brute_force_double_loop():
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(7, 3, generator=g, dtype=torch.float64), 0.5 + torch.randn(9, 3, generator=g,
                                                                                   dtype=torch.float64)
    pooled = torch.cat([x, y])
    distances = [float((a - b).norm()) for a, b in itertools.combinations(pooled, 2)]
    sigma = float(np.median(distances))
    assert median_bandwidth(pooled) == pytest.approx(sigma, rel=1e-12)

    def k(a, b):
        return math.exp(-float((a - b).pow(2).sum()) / (2 * sigma**2))

    m, n = len(x), len(y)
    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(n)) / (m * n)
    result = mmd_test(x, y, permutations=50)
    assert result.statistic == pytest.approx(xx + yy - 2 * xy, rel=1e-12)
    assert result.bandwidth == pytest.approx(sigma, rel=1e-12)
    assert float(gaussian_kernel(x[:1], y[:1], sigma)) == pytest.approx(k(x[0], y[0]), rel=1e-14)


def test_mmd_p_values_are_not_small_for_one_distribution_and_reject_two():
    """Under the null, p-values spread over (0, 1]; a shift of half a standard deviation is rejected."""
    g = torch.Generator().manual_seed(0)
    same = [mmd_test(torch.randn(150, 2, generator=g), torch.randn(150, 2, generator=g), permutations=200,
                     seed=s).p_value for s in range(20)]
    assert sum(p < 0.05 for p in same) <= 3 and 0.3 < float(np.mean(same)) < 0.7, same
    x, y = torch.randn(300, 2, generator=g), torch.randn(300, 2, generator=g) + torch.tensor([0.5, 0.0])
    result = mmd_test(x, y, permutations=500, seed=0)
    assert result.p_value < 0.01 and result.p_value >= 1 / 501
    assert mmd_test(x, y, permutations=500, seed=0) == result  # seeded: reproducible


def test_mmd_test_refuses_bad_input():
    with pytest.raises(ValueError, match="same d"):
        mmd_test(torch.randn(5, 2), torch.randn(5, 3))
    with pytest.raises(ValueError, match="at least 2 points"):
        mmd_test(torch.randn(1, 2), torch.randn(5, 2))
    with pytest.raises(ValueError, match="bandwidth must be positive"):
        mmd_test(torch.zeros(4, 2), torch.zeros(4, 2))


# --- The shipped checkpoint --------------------------------------------------------------------

shipped = pytest.mark.skipif("ch06_aae" not in available(), reason="the checkpoint ch06_aae is not shipped")


@shipped
def test_the_shipped_aae_codes_match_its_non_gaussian_prior():
    """The sidecar's MMD test does not tell 2,000 test codes from 2,000 prior samples at the 5% level."""
    record = read_sidecar("ch06_aae")
    assert record["config"]["prior"] != "gaussian"
    assert record["metrics"]["mmd"]["p_value"] > 0.05 and record["metrics"]["mmd"]["n"] == 2000
    assert record["metrics"]["fid_10000"] > record["metrics"]["fid_floor_train10k_vs_test"]


@shipped
@pytest.mark.slow
def test_the_shipped_aae_reproduces_its_sidecar_mmd_test():
    """Same seed, same subset, same prior samples, same permutations: the MMD statistic to 1e-4 relative and the
    p-value to 0.01 (only float round-off across thread counts may differ). Its 2,000-sample IS and FID are
    re-measured with every other generative checkpoint's, in tests/test_ch09_comparison.py."""
    from gencourse.aae import load_pretrained_aae
    from gencourse.data import load_mnist

    record = read_sidecar("ch06_aae")
    metrics = record["metrics"]
    model = load_pretrained_aae("ch06_aae")
    x_test, _ = load_mnist("test", download=False)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        again = aggregated_posterior_test(model, x_test, n=metrics["mmd"]["n"], seed=metrics["mmd"]["seed"],
                                          permutations=metrics["mmd"]["permutations"])
    finally:
        torch.set_num_threads(threads)
    assert again.statistic == pytest.approx(metrics["mmd"]["statistic"], rel=1e-4)
    assert again.bandwidth == pytest.approx(metrics["mmd"]["bandwidth"], rel=1e-4)
    assert again.p_value == pytest.approx(metrics["mmd"]["p_value"], abs=0.01) and again.p_value > 0.05
