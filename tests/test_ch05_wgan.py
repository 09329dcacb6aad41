"""Chapter 5: exact optimal transport, the critic's W1 estimate, the parallel lines, the gradient penalty."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.stats import wasserstein_distance

from gencourse.gan import js_divergence, kl_divergence, total_variation
from gencourse.gan.networks import MLPDiscriminator
from gencourse.wgan import (
    WGAN,
    clip_weights,
    critic_loss,
    discrete_transport,
    estimate_w1,
    exact_w1,
    fit_critic,
    generator_loss_wasserstein,
    gradient_penalty,
    histogram2d,
    interpolates,
    parallel_lines_divergences,
    sample_parallel_line,
    wasserstein_1d,
)

# The discrete example of seed 000: three masses a_i at x_i moved onto four masses b_j at y_j (here on a line).
X, A = np.array([0.0, 1.0, 3.0]), np.array([0.5, 0.3, 0.2])
Y, B = np.array([0.5, 2.0, 2.5, 4.0]), np.array([0.25, 0.25, 0.25, 0.25])


def test_discrete_transport_plan_has_the_marginals_and_the_cost_of_scipy():
    cost = np.abs(X[:, None] - Y[None, :])
    plan, total = discrete_transport(A, B, cost)
    np.testing.assert_allclose(plan.sum(1), A, atol=1e-12)
    np.testing.assert_allclose(plan.sum(0), B, atol=1e-12)
    assert (plan >= -1e-12).all()
    assert total == pytest.approx(float((plan * cost).sum()), abs=1e-12)
    assert total == pytest.approx(wasserstein_distance(X, Y, A, B), abs=1e-10)


def test_discrete_transport_is_cheaper_than_the_independent_coupling():
    cost = np.abs(X[:, None] - Y[None, :])
    _, total = discrete_transport(A, B, cost)
    assert total < float((np.outer(A, B) * cost).sum())
    with pytest.raises(ValueError, match="same total mass"):
        discrete_transport(A, B * 2, cost)


@pytest.mark.parametrize("m, n", [(50, 50), (40, 70)])
def test_wasserstein_1d_from_sorted_samples_equals_scipy(m, n, generator):
    x = torch.randn(m, generator=generator, dtype=torch.float64)
    y = 0.5 + 2 * torch.rand(n, generator=generator, dtype=torch.float64)
    assert float(wasserstein_1d(x, y)) == pytest.approx(wasserstein_distance(x.numpy(), y.numpy()), rel=1e-12)


def test_exact_w1_in_2d_assignment_and_linear_program_agree(generator):
    x = torch.randn(30, 2, generator=generator, dtype=torch.float64)
    y = torch.randn(30, 2, generator=generator, dtype=torch.float64) + torch.tensor([1.0, -0.5])
    w_assignment = exact_w1(x, y)
    cost = torch.cdist(x, y).numpy()
    _, w_lp = discrete_transport(np.full(30, 1 / 30), np.full(30, 1 / 30), cost)
    assert w_assignment == pytest.approx(w_lp, rel=1e-9)
    assert exact_w1(x, x + torch.tensor([3.0, 4.0])) == pytest.approx(5.0, rel=1e-12)  # a translation moves by 5
    assert exact_w1(x[:20], y) == pytest.approx(
        discrete_transport(np.full(20, 1 / 20), np.full(30, 1 / 30), torch.cdist(x[:20], y).numpy())[1])


def test_exact_w1_of_points_on_a_line_equals_the_1d_formula(generator):
    x1, y1 = torch.randn(40, generator=generator, dtype=torch.float64), torch.rand(40, generator=generator,
                                                                                    dtype=torch.float64)
    embed = lambda v: torch.stack([v, torch.zeros_like(v)], 1)  # noqa: E731
    assert exact_w1(embed(x1), embed(y1)) == pytest.approx(float(wasserstein_1d(x1, y1)), rel=1e-12)


def test_js_is_log_2_on_disjoint_supports_while_w1_moves_continuously(generator):
    """The parallel lines (eq:parallel-lines): histogram JS, TV, KL against W1 from the exact solver."""
    edges_x, edges_y = torch.linspace(-0.05, 1.05, 23), torch.linspace(0, 1, 11)
    n = 400
    p0 = sample_parallel_line(0.0, n, generator)
    w1s = []
    for theta in [0.1, 0.25, 0.5, 1.0]:
        p_theta = torch.stack([p0[:, 0] + theta, p0[:, 1]], 1)  # the same Z: the optimal plan moves sideways
        h0, h_theta = histogram2d(p0, edges_x, edges_y), histogram2d(p_theta, edges_x, edges_y)
        assert float(js_divergence(h0, h_theta)) == pytest.approx(math.log(2), rel=1e-12)
        assert float(total_variation(h0, h_theta)) == pytest.approx(1.0, rel=1e-12)
        assert math.isinf(float(kl_divergence(h_theta, h0)))
        w1 = exact_w1(p0, p_theta)
        assert w1 == pytest.approx(parallel_lines_divergences(theta)["w1"], rel=1e-12)
        w1s.append(w1)
    assert w1s == sorted(w1s)  # W1 grows with the distance between the lines
    assert parallel_lines_divergences(0.0) == {"w1": 0.0, "js": 0.0, "kl": 0.0, "tv": 0.0}


def test_gradient_penalty_of_a_linear_critic_is_the_squared_norm_excess():
    """f(x) = w . x + b has gradient w everywhere: the penalty is (||w|| - 1)^2, and its gradient in w is known."""
    w = torch.tensor([3.0, 4.0], dtype=torch.float64, requires_grad=True)
    x_hat = torch.randn(16, 2, dtype=torch.float64)
    gp = gradient_penalty(lambda x: x @ w + 1.0, x_hat)
    assert float(gp.detach()) == pytest.approx((5 - 1) ** 2, rel=1e-14)
    (grad,) = torch.autograd.grad(gp, w)  # d/dw (||w|| - 1)^2 = 2 (||w|| - 1) w / ||w||
    torch.testing.assert_close(grad, 2 * 4 * w.detach() / 5)


def test_the_one_sided_penalty_spares_every_1_lipschitz_critic():
    x_hat = torch.randn(16, 2, dtype=torch.float64)
    for w, expected in [((0.6, 0.0), 0.0), ((0.3, 0.4), 0.0), ((3.0, 4.0), 16.0)]:
        w = torch.tensor(w, dtype=torch.float64)
        gp = gradient_penalty(lambda x, w=w: x @ w, x_hat, one_sided=True)
        assert float(gp) == pytest.approx(expected, abs=1e-14)
    assert float(gradient_penalty(lambda x: x @ torch.tensor([0.6, 0.0], dtype=torch.float64), x_hat)) == (
        pytest.approx(0.16))  # the two-sided penalty does not


def test_gradient_penalty_of_a_quadratic_critic_at_known_interpolates():
    """f(x) = ||x||^2 / 2 has gradient x; with alpha given, the interpolates and the penalty are exact."""
    x_real = torch.tensor([[2.0, 0.0], [0.0, 1.0]], dtype=torch.float64)
    x_fake = torch.tensor([[0.0, 0.0], [0.0, 3.0]], dtype=torch.float64)
    alpha = torch.tensor([0.25, 0.5], dtype=torch.float64)
    x_hat = interpolates(x_real, x_fake, alpha)
    torch.testing.assert_close(x_hat, torch.tensor([[0.5, 0.0], [0.0, 2.0]], dtype=torch.float64))
    gp = gradient_penalty(lambda x: 0.5 * x.square().sum(1), x_hat)
    assert float(gp.detach()) == pytest.approx(((0.5 - 1) ** 2 + (2 - 1) ** 2) / 2, rel=1e-14)


def test_interpolates_of_images_use_one_alpha_per_image():
    x_real, x_fake = torch.ones(3, 1, 4, 4), torch.zeros(3, 1, 4, 4)
    x_hat = interpolates(x_real, x_fake, torch.tensor([0.0, 0.5, 1.0]))
    assert x_hat.shape == (3, 1, 4, 4)
    torch.testing.assert_close(x_hat.flatten(1).std(1), torch.zeros(3))
    torch.testing.assert_close(x_hat[:, 0, 0, 0], torch.tensor([0.0, 0.5, 1.0]))


def test_critic_and_generator_losses_are_the_dual_objective():
    f_real, f_fake = torch.tensor([1.0, 3.0]), torch.tensor([-1.0, 0.0, 1.0])
    assert float(critic_loss(f_real, f_fake)) == pytest.approx(0.0 - 2.0)
    assert float(generator_loss_wasserstein(f_fake)) == pytest.approx(0.0)
    assert estimate_w1(lambda x: x, torch.tensor([2.0, 4.0]), torch.tensor([0.0])) == pytest.approx(3.0)


def test_weight_clipping_keeps_every_parameter_in_the_box():
    torch.manual_seed(0)
    critic = MLPDiscriminator(hidden=(16,))
    clip_weights(critic, 0.01)
    assert all(p.abs().max() <= 0.01 for p in critic.parameters())
    wgan = WGAN(lipschitz="clip", clip=0.02)
    wgan.clip()
    assert all(p.abs().max() <= 0.02 for p in wgan.critic.parameters())


@pytest.mark.slow
def test_a_gradient_penalty_critic_estimates_w1_within_ten_percent():
    """A critic fitted by (eq:wgan-gp) between two fixed 2-D samples: its dual estimate against the exact W1.

    With the soft penalty the critic's slope settles near 1 + W1 / (2 lambda): lambda = 100 measures
    W1 within a few per cent, lambda = 10 overestimates it by about 10%.
    """
    g = torch.Generator().manual_seed(0)
    x = torch.randn(500, 2, generator=g, dtype=torch.float64)
    y = 0.5 * torch.randn(500, 2, generator=g, dtype=torch.float64) + torch.tensor([2.0, 1.0], dtype=torch.float64)
    exact = exact_w1(x, y)
    estimates = {}
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # many tiny steps: threads only add synchronisation, badly so on a busy machine
    try:
        for penalty in (100.0, 10.0):
            torch.manual_seed(0)
            critic = MLPDiscriminator(hidden=(32, 32)).double()
            fit_critic(critic, x, y, steps=300, lr=2e-3, penalty=penalty, generator=g)
            estimates[penalty] = estimate_w1(critic, x, y)
    finally:
        torch.set_num_threads(threads)
    assert abs(estimates[100.0] - exact) / exact < 0.05, (estimates, exact)
    assert estimates[10.0] > 1.05 * exact, (estimates, exact)
