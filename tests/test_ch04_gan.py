"""Chapter 4: every fact about the GAN game that code can check, in float64 with exact answers."""

from __future__ import annotations

import math

import pytest
import torch
from scipy.spatial.distance import jensenshannon

from gencourse.data.toy import ring_centers, sample_ring
from gencourse.gan import (
    GAN,
    density_ratio,
    discriminator_loss,
    gan_value,
    generator_loss_minimax,
    generator_loss_non_saturating,
    js_divergence,
    kl_divergence,
    mode_coverage,
    optimal_discriminator,
    total_variation,
)


def two_histograms(seed: int, k: int = 12) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    p = torch.rand(k, generator=g, dtype=torch.float64) + 0.05
    q = torch.rand(k, generator=g, dtype=torch.float64) + 0.05
    return p / p.sum(), q / q.sum()


def test_losses_on_logits_equal_the_losses_on_probabilities():
    l_real = torch.tensor([-3.0, 0.0, 2.5], dtype=torch.float64)
    l_fake = torch.tensor([-1.0, 4.0], dtype=torch.float64)
    D_real, D_fake = torch.sigmoid(l_real), torch.sigmoid(l_fake)
    expected_d = -(D_real.log().mean() + (1 - D_fake).log().mean())
    torch.testing.assert_close(discriminator_loss(l_real, l_fake), expected_d)
    torch.testing.assert_close(generator_loss_minimax(l_fake), (1 - D_fake).log().mean())
    torch.testing.assert_close(generator_loss_non_saturating(l_fake), -D_fake.log().mean())


def test_losses_stay_finite_where_probabilities_round_to_zero_or_one():
    l = torch.tensor([-200.0, 200.0], dtype=torch.float64)  # sigmoid rounds to exactly 0 and 1
    for value in (discriminator_loss(l, l), generator_loss_minimax(l), generator_loss_non_saturating(l)):
        assert torch.isfinite(value)
    assert discriminator_loss(l, l) == pytest.approx(200.0)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_optimal_discriminator_is_p_over_p_plus_q(seed):
    """Maximising V(D, G) over free per-bin probabilities D_k lands on D* = p / (p + q)  (eq:gan-d-star)."""
    p, q = two_histograms(seed)
    logits = torch.zeros_like(p, requires_grad=True)
    optimizer = torch.optim.LBFGS([logits], lr=1, max_iter=200, tolerance_grad=1e-14, tolerance_change=1e-16,
                                  line_search_fn="strong_wolfe")

    def closure():
        optimizer.zero_grad()
        loss = -gan_value(p, q, torch.sigmoid(logits))
        loss.backward()
        return loss

    optimizer.step(closure)
    torch.testing.assert_close(torch.sigmoid(logits).detach(), optimal_discriminator(p, q), atol=1e-6, rtol=0)
    # and its logit is the log density ratio, which density_ratio reads back
    torch.testing.assert_close(density_ratio(logits.detach()), p / q, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_value_at_the_optimal_discriminator_is_minus_log_4_plus_twice_js(seed):
    """C(G) = -log 4 + 2 JS(p || q)  (eq:gan-c-of-g), with JS from scipy as the independent reference."""
    p, q = two_histograms(seed)
    c_of_g = gan_value(p, q, optimal_discriminator(p, q))
    js_scipy = jensenshannon(p.numpy(), q.numpy()) ** 2  # scipy returns the square root, natural log
    assert float(js_divergence(p, q)) == pytest.approx(js_scipy, rel=1e-12)
    assert float(c_of_g) == pytest.approx(-math.log(4) + 2 * js_scipy, rel=1e-12)
    assert float(gan_value(p, p, optimal_discriminator(p, p))) == pytest.approx(-math.log(4), rel=1e-14)


def test_any_other_discriminator_has_a_lower_value():
    p, q = two_histograms(3)
    best = gan_value(p, q, optimal_discriminator(p, q))
    g = torch.Generator().manual_seed(0)
    for _ in range(20):
        noise = 0.05 * torch.randn(len(p), generator=g, dtype=torch.float64)
        d = (optimal_discriminator(p, q) + noise).clamp(1e-3, 1 - 1e-3)
        assert gan_value(p, q, d) < best


def test_divergences_of_disjoint_histograms():
    p = torch.tensor([0.5, 0.5, 0.0, 0.0], dtype=torch.float64)
    q = torch.tensor([0.0, 0.0, 0.25, 0.75], dtype=torch.float64)
    assert float(js_divergence(p, q)) == pytest.approx(math.log(2), rel=1e-14)
    assert float(total_variation(p, q)) == 1.0
    assert math.isinf(float(kl_divergence(p, q)))
    assert float(kl_divergence(p, p)) == 0.0


def test_generator_gradients_near_d_of_g_equal_zero():
    """Seed 002, B.2.1: d/dl of E log(1 - sigmoid(l)) is -D (vanishes), of -E log sigmoid(l) is -(1 - D) (about -1)."""
    l = torch.tensor([-12.0, -8.0, -5.0], dtype=torch.float64, requires_grad=True)
    D = torch.sigmoid(l.detach())
    (g_minimax,) = torch.autograd.grad(generator_loss_minimax(l), l)
    (g_ns,) = torch.autograd.grad(generator_loss_non_saturating(l), l)
    torch.testing.assert_close(g_minimax, -D / 3)  # the mean over 3 logits divides by 3
    torch.testing.assert_close(g_ns, -(1 - D) / 3)
    assert g_minimax.abs().max() < 3e-3 and (g_ns.abs() > 0.33).all()


def test_generator_gradients_through_a_linear_generator_and_discriminator():
    """With G(z) = theta z and d(x) = a x + b the gradients are E[-D a z] and E[-(1 - D) a z]  (seed 002, eq. 13)."""
    g = torch.Generator().manual_seed(0)
    z = torch.rand(100, generator=g, dtype=torch.float64)  # z in [0, 1]: the gradients do not average out
    theta = torch.tensor(0.7, dtype=torch.float64, requires_grad=True)
    a, b = 3.0, -9.0  # a discriminator that rejects the fakes: D(G(z)) is near 0
    logits = a * theta * z + b
    D = torch.sigmoid(logits.detach())
    (g_minimax,) = torch.autograd.grad(generator_loss_minimax(logits), theta, retain_graph=True)
    (g_ns,) = torch.autograd.grad(generator_loss_non_saturating(logits), theta)
    torch.testing.assert_close(g_minimax, (-D * a * z).mean())
    torch.testing.assert_close(g_ns, (-(1 - D) * a * z).mean())
    assert abs(float(g_ns)) > 100 * abs(float(g_minimax))


def test_a_logistic_regression_discriminator_recovers_the_density_ratio():
    """Seed 003: p = N(1, 1), q = N(-1, 1) have log p/q = 2x; a trained linear discriminator's logit finds it."""
    g = torch.Generator().manual_seed(0)
    n = 20_000
    x_p = 1 + torch.randn(n, 1, generator=g, dtype=torch.float64)
    x_q = -1 + torch.randn(n, 1, generator=g, dtype=torch.float64)
    w = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS([w], max_iter=100, line_search_fn="strong_wolfe")

    def closure():
        optimizer.zero_grad()
        loss = discriminator_loss(w[0] * x_p[:, 0] + w[1], w[0] * x_q[:, 0] + w[1])
        loss.backward()
        return loss

    optimizer.step(closure)
    slope, intercept = w.detach().tolist()
    assert slope == pytest.approx(2.0, abs=0.06) and intercept == pytest.approx(0.0, abs=0.04)


def test_mode_coverage_counts_modes_and_high_quality_samples():
    centers = ring_centers(8)
    g = torch.Generator().manual_seed(0)
    full = sample_ring(4000, std=0.05, generator=g)
    assert mode_coverage(full, centers, std=0.05)["modes"] == 8
    collapsed = full[torch.cdist(full.double(), centers).argmin(1) < 3]  # only modes 0, 1, 2
    result = mode_coverage(collapsed, centers, std=0.05)
    assert result["modes"] == 3 and result["high_quality"] > 0.99
    smeared = torch.zeros(100, 2)  # every sample at the centre of the ring: far from every mode
    assert mode_coverage(smeared, centers, std=0.05) == {"modes": 0, "high_quality": 0.0, "counts": [0] * 8}


def test_the_conditional_gan_draws_the_labels_it_is_given():
    torch.manual_seed(0)
    gan = GAN(architecture="dcgan", latent_dim=8, width=8, n_classes=10)
    y = torch.arange(10)
    x = gan.sample(10, y)
    assert x.shape == (10, 1, 28, 28) and x.abs().max() <= 1
    with pytest.raises(ValueError, match="labels"):
        gan.fake(3)
    with pytest.raises(ValueError, match="conditional"):
        GAN(architecture="mlp", n_classes=3)


# --- separated classes from a connected latent (eq:gap-bound, eq:gap-mass) ----------------------

def test_a_linear_generator_attains_the_gap_bound():
    """G(z) = L w.z, |w| = 1: the classes G <= -D/2 and G >= D/2 have masses Phi(-D/(2L)) each, and
    half-spaces are the extremal sets of the Gaussian isoperimetric inequality, so equality holds."""
    from scipy.stats import norm

    from gencourse.gan import gap_mass_lower_bound, separation_bound

    for gap, L in [(1.0, 1.0), (2.0, 0.5), (0.3, 4.0), (5.0, 2.0)]:
        a = b = norm.cdf(-gap / (2 * L))  # P(L w.z <= -gap/2), exactly
        assert separation_bound(a, b, gap, L) == pytest.approx(0.0, abs=1e-9)
        assert gap_mass_lower_bound(gap, L) == pytest.approx(1 - a - b, rel=1e-12)


@pytest.mark.parametrize("d", [1, 2, 5, 20])
def test_radial_and_folded_generators_respect_the_gap_bound(d):
    """Exact masses (chi-square and normal distributions) of two other Lipschitz generators: strictly inside."""
    from scipy.stats import chi2, norm

    from gencourse.gan import separation_bound

    L = 1.7
    for inner in [0.5, 1.0, 2.0, 4.0]:
        for gap in [0.1, 0.5, 1.0, 3.0]:
            # G(z) = L |z| (Lipschitz L): S1 = {G <= inner}, S2 = {G >= inner + gap}
            a = chi2.cdf((inner / L) ** 2, d)
            b = chi2.sf(((inner + gap) / L) ** 2, d)
            if 1e-12 < a < 1 - 1e-12 and 1e-12 < b < 1 - 1e-12:
                assert separation_bound(a, b, gap, L) < 0
            # G(z) = L |z_1|: the same with one coordinate
            a, b = 2 * norm.cdf(inner / L) - 1, 2 * norm.sf((inner + gap) / L)
            if 1e-12 < b:
                assert separation_bound(a, b, gap, L) < 0


def test_two_halves_with_nothing_between_need_an_infinite_lipschitz_constant():
    """The step function (Lipschitz constant infinite) splits into two halves with nothing between."""
    from gencourse.gan import gap_mass_lower_bound, separation_bound

    assert separation_bound(0.5, 0.5, gap=1.0, lipschitz=1.0) == pytest.approx(1.0, rel=1e-12)  # > 0: impossible
    assert gap_mass_lower_bound(0.0, 1.0) == 0.0
    assert gap_mass_lower_bound(1.0, 1e-9) == pytest.approx(1.0)  # a very flat generator fills the gap


def test_gap_bound_rejects_impossible_masses():
    from gencourse.gan import separation_bound

    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        separation_bound(0.0, 0.5, 1.0, 1.0)
    with pytest.raises(ValueError, match="lipschitz > 0"):
        separation_bound(0.3, 0.5, 1.0, 0.0)


def test_the_discrete_code_is_a_scaled_one_hot_vector_drawn_uniformly():
    from gencourse.gan.gan import CODE_SCALE

    gan = GAN(architecture="dcgan", latent_dim=6, width=4, n_codes=5).double()
    torch.manual_seed(0)
    z = gan.prior(50_000)
    assert z.shape == (50_000, 11) and z.dtype == torch.float64
    code = z[:, 6:]
    assert torch.equal(code.sum(1), torch.full((50_000,), CODE_SCALE, dtype=torch.float64))
    assert set(code.unique().tolist()) == {0.0, CODE_SCALE}
    frequencies = (code > 0).double().mean(0)
    assert torch.allclose(frequencies, torch.full((5,), 0.2, dtype=torch.float64), atol=0.01)  # 5 sd ~ 0.009
    assert abs(float(z[:, :6].mean())) < 0.01 and abs(float(z[:, :6].var()) - 1) < 0.02
    assert gan.sample(3).shape == (3, 1, 28, 28)


def test_without_codes_the_prior_is_the_plain_gaussian_so_old_checkpoints_draw_the_same_samples():
    gan = GAN(architecture="dcgan", latent_dim=6, width=4)
    torch.manual_seed(3)
    z = gan.prior(7)
    torch.manual_seed(3)
    assert torch.equal(z, torch.randn(7, 6))


@pytest.mark.parametrize("n_codes", [1, -2, 2.5])
def test_a_bad_number_of_codes_is_a_clear_error(n_codes):
    with pytest.raises(ValueError, match="n_codes must be 0"):
        GAN(architecture="dcgan", latent_dim=6, width=4, n_codes=n_codes)


def test_codes_can_be_chosen_and_bad_ones_are_refused():
    from gencourse.gan.gan import CODE_SCALE

    gan = GAN(architecture="dcgan", latent_dim=6, width=4, n_codes=3)
    z = gan.prior(4, codes=torch.tensor([2, 0, 1, 2]))
    assert torch.equal(z[:, 6:].argmax(1), torch.tensor([2, 0, 1, 2])) and float(z[:, 6:].max()) == CODE_SCALE
    assert gan.prior(0, codes=torch.tensor([], dtype=torch.long)).shape == (0, 9)
    with pytest.raises(ValueError, match="values in 0..2"):
        gan.prior(2, codes=torch.tensor([0, 3]))
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        gan.prior(2, codes=torch.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match="no discrete code"):
        GAN(architecture="dcgan", latent_dim=6, width=4).prior(2, codes=torch.tensor([0, 1]))
