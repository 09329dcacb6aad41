"""Chapter 7, normalizing flows: every flow inverts, its log-determinant is the Jacobian's, densities
integrate to 1, and the bits-per-dimension accounting is exact; the shipped MNIST flow reproduces its figures."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
import torch
from torch import nn

from gencourse.data import dequantize, load_mnist
from gencourse.flows import (
    ENERGIES,
    ActNorm,
    AffineCoupling,
    Chain,
    CouplingFlow,
    ImageFlow,
    LogitTransform,
    PlanarFlow,
    PlanarLayer,
    Squeeze,
    bits_per_dim,
    channel_mask,
    checkerboard_mask,
    evaluate_bits_per_dim,
)
from gencourse.flows.coupling import MLPConditioner
from gencourse.flows.images import ConvConditioner
from gencourse.pretrained import load_pretrained, read_sidecar

pytestmark = pytest.mark.usefixtures("one_thread")  # small tensors: see tests/conftest.py


def randomise(module: nn.Module, scale: float = 0.3) -> nn.Module:
    """Every parameter drawn at random (zero-initialised last layers would make couplings the identity)."""
    torch.manual_seed(0)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(scale * torch.randn_like(p))
    return module


# Each case: a bijection (float64, random parameters) and a batch of inputs in its domain.
BIJECTIONS: dict[str, Callable[[], tuple[nn.Module, torch.Tensor]]] = {
    "coupling_vector": lambda: (AffineCoupling(torch.tensor([1.0, 0.0, 1.0]), MLPConditioner(3, [8])),
                                torch.randn(4, 3)),
    "coupling_checkerboard": lambda: (AffineCoupling(checkerboard_mask(2, 4, 4, parity=1), ConvConditioner(2, 4, 1)),
                                      torch.randn(3, 2, 4, 4)),
    "coupling_channel": lambda: (AffineCoupling(channel_mask(4, 2, 2), ConvConditioner(4, 4, 1)),
                                 torch.randn(3, 4, 2, 2)),
    "actnorm": lambda: (ActNorm(3, event_dims=3), torch.randn(3, 3, 2, 2)),
    "squeeze": lambda: (Squeeze(), torch.randn(2, 2, 4, 4)),
    "logit": lambda: (LogitTransform(alpha=0.05), torch.rand(3, 1, 3, 3)),
    "planar": lambda: (PlanarLayer(3), torch.randn(5, 3)),
    "coupling_flow": lambda: (CouplingFlow(dim=2, n_layers=4, hidden=[8], actnorm=True).transform, torch.randn(5, 2)),
    "image_flow": lambda: (ImageFlow(image_shape=(1, 4, 4), levels=(2, 2), hidden=(4, 4), n_blocks=1,
                                     alpha=0.05).transform, torch.rand(3, 1, 4, 4)),
}


def make(name: str) -> tuple[nn.Module, torch.Tensor]:
    torch.manual_seed(0)
    bijection, x = BIJECTIONS[name]()
    bijection = randomise(bijection).double()
    bijection.eval()  # ActNorm keeps its random parameters instead of initialising from the batch
    return bijection, x.double()


@pytest.mark.parametrize("name", sorted(BIJECTIONS))
def test_every_flow_inverts(name):
    f, x = make(name)
    z, log_det = f(x)
    x_back, log_det_inverse = f.inverse(z)
    torch.testing.assert_close(x_back, x, atol=1e-10, rtol=1e-10)
    torch.testing.assert_close(log_det_inverse, -log_det, atol=1e-10, rtol=1e-10)


def brute_force_log_det(f: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """``log |det dz/dx|`` of each example from the full autograd Jacobian, in float64."""
    out = []
    for xi in x:
        jacobian = torch.autograd.functional.jacobian(lambda v: f(v[None])[0][0], xi)  # (*z_shape, *x_shape)
        out.append(torch.linalg.slogdet(jacobian.reshape(xi.numel(), xi.numel()))[1])
    return torch.stack(out)


@pytest.mark.parametrize("name", sorted(BIJECTIONS))
def test_log_det_equals_the_autograd_jacobian(name):
    f, x = make(name)
    torch.testing.assert_close(f(x)[1], brute_force_log_det(f, x), atol=1e-9, rtol=1e-9)


def grid(limit: float, n: int) -> tuple[torch.Tensor, float]:
    """The midpoints of an ``n x n`` grid over ``[-limit, limit]^2`` (float64) and the area of one cell."""
    edges = torch.linspace(-limit, limit, n + 1, dtype=torch.float64)
    mid = (edges[1:] + edges[:-1]) / 2
    xx, yy = torch.meshgrid(mid, mid, indexing="ij")
    return torch.stack([xx.flatten(), yy.flatten()], 1), (2 * limit / n) ** 2


@pytest.mark.parametrize("flow", ["coupling", "planar"])
def test_a_2d_flow_density_integrates_to_1_on_a_grid(flow):
    torch.manual_seed(0)
    model = CouplingFlow(dim=2, n_layers=4, hidden=[16]) if flow == "coupling" else PlanarFlow(dim=2, n_layers=8)
    model = randomise(model, 0.5).double()
    points, cell = grid(12.0, 600 if flow == "coupling" else 240)
    with torch.no_grad():
        mass = float(model.log_prob(points).exp().sum() * cell)
    assert abs(mass - 1) < 1e-3, mass


def test_planar_maps_stay_invertible_whatever_their_parameters():
    torch.manual_seed(0)
    layer = PlanarLayer(2).double()
    for _ in range(200):
        with torch.no_grad():
            layer.u.copy_(5 * torch.randn(2))
            layer.w.copy_(5 * torch.randn(2))
            assert float(layer.w @ layer.u_hat()) >= -1 - 1e-12


def test_uniform_density_is_8_bits_per_dim_and_a_point_mass_code_is_exact():
    # log p(y) = 0 on [0,1]^D: every bin of side 1/256 has probability 256^-D, that is 8 bits per dimension.
    assert torch.allclose(bits_per_dim(torch.zeros(3, dtype=torch.float64), dims=784), torch.tensor(8.0).double())
    # A density e^c uniform on a sub-cube of [0,1]^D saves exactly c / (D log 2) bits per dimension.
    c = 100.0
    expected = 8 - c / (784 * math.log(2))
    assert float(bits_per_dim(torch.tensor(c, dtype=torch.float64), dims=784)) == pytest.approx(expected)


def test_dequantised_log_likelihood_bounds_the_discrete_one():
    """Jensen: E_u log p((k + u)/256) - log 256 <= log P(k) in every bin of a density on [0, 1].

    (eq:dequantisation-bound)
    """
    cdf = lambda y: 3 * y**2 - 2 * y**3  # Beta(2, 2)  # noqa: E731
    density = lambda y: 6 * y * (1 - y)  # noqa: E731
    k = torch.arange(256, dtype=torch.float64)
    log_p_bin = torch.log(cdf((k + 1) / 256) - cdf(k / 256))
    # Gauss-Legendre quadrature of E_u log p over each bin (the integrand is smooth inside a bin)
    nodes, weights = (torch.as_tensor(a, dtype=torch.float64) for a in np.polynomial.legendre.leggauss(40))
    u = (nodes + 1) / 2
    expected_log_density = (weights / 2 * torch.log(density((k[:, None] + u) / 256))).sum(1)
    bound = expected_log_density - math.log(256)
    assert (bound <= log_p_bin + 1e-12).all()
    # the gap, averaged over the bins' probabilities, is tiny for a smooth density: a bound worth reporting
    assert float((log_p_bin.exp() * (log_p_bin - bound)).sum()) < 1e-3


def test_dequantize_fills_each_bin_uniformly():
    x = torch.tensor([0.0, 128 / 255, 1.0]).repeat(20000, 1)
    y = dequantize(x, generator=torch.Generator().manual_seed(0))
    for j, k in enumerate([0, 128, 255]):
        assert ((y[:, j] >= k / 256) & (y[:, j] < (k + 1) / 256)).all()
        assert abs(float(y[:, j].mean()) - (k + 0.5) / 256) < 1e-4


def test_image_flow_rejects_data_outside_the_unit_interval_and_wrong_shapes():
    flow = ImageFlow(image_shape=(1, 4, 4), levels=(1, 2), hidden=(4, 4), n_blocks=1)
    with pytest.raises(ValueError, match="dequantize"):
        flow.log_prob(2 * torch.rand(2, 1, 4, 4) - 1)
    with pytest.raises(ValueError, match="shape"):
        flow.log_prob(torch.rand(2, 1, 8, 8))
    with pytest.raises(ValueError, match="halve"):
        ImageFlow(image_shape=(1, 6, 6), levels=(1, 1, 1), hidden=(4, 4, 4))
    with pytest.raises(ValueError, match="odd"):
        channel_mask(3, 2, 2)


def test_image_flow_samples_are_images_in_the_unit_interval():
    torch.manual_seed(0)
    flow = ImageFlow(image_shape=(1, 8, 8), levels=(1, 2, 2), hidden=(4, 4, 4), n_blocks=1)
    x = flow.sample(6)
    assert x.shape == (6, 1, 8, 8) and x.min() >= 0 and x.max() <= 1
    assert flow.latent_shape == (16, 2, 2)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(ENERGIES))
def test_planar_flow_fitting_lowers_the_reverse_kl(name):
    torch.manual_seed(0)
    flow = PlanarFlow(dim=2, n_layers=8)
    optimizer = torch.optim.Adam(flow.parameters(), lr=1e-2)
    energy = ENERGIES[name]
    losses = []
    for _ in range(300):
        out = flow.reverse_kl(energy, n=256)
        optimizer.zero_grad()
        out["loss"].backward()
        optimizer.step()
        losses.append(float(out["loss"]))
    assert sum(losses[-30:]) < sum(losses[:30]) - 30 * 0.2, (losses[:3], losses[-3:])


def test_reverse_kl_is_kl_minus_log_z_for_a_gaussian_target():
    """With U(z) = |z - m|^2 / 2, Z = 2 pi and KL(q || N(m, I)) is known in closed form for the identity flow."""
    flow = PlanarFlow(dim=2, n_layers=1).double()
    with torch.no_grad():  # u = log(e - 1) w with |w| = 1 gives u_hat = 0: the identity map, q = N(0, I)
        flow.layers[0].w.copy_(torch.tensor([1.0, 0.0]))
        flow.layers[0].u.copy_(math.log(math.e - 1) * flow.layers[0].w)
    assert float(flow.layers[0].u_hat().abs().max()) < 1e-15
    m = torch.tensor([1.0, -2.0], dtype=torch.float64)
    torch.manual_seed(0)
    value = float(flow.reverse_kl(lambda z: 0.5 * ((z - m) ** 2).sum(1), n=200_000)["loss"])
    kl = 0.5 * float(m @ m)  # KL(N(0, I) || N(m, I))
    assert value == pytest.approx(kl - math.log(2 * math.pi), abs=0.02)


# --- the shipped MNIST flow ----------------------------------------------------------------------


def test_the_shipped_mnist_flow_reaches_at_most_1_5_bits_per_dim():
    metrics = read_sidecar("ch07_flow")["metrics"]
    assert metrics["test_n"] == 10_000 and metrics["test_bpd"] <= 1.5


@pytest.mark.slow
def test_the_shipped_mnist_flow_reproduces_its_sidecar_figure():
    record = read_sidecar("ch07_flow")
    model = ImageFlow(**record["config"])
    load_pretrained("ch07_flow", model)
    subset = record["metrics"]["test_subset"]
    x_test, _ = load_mnist("test", download=False, limit=subset["n"])
    bpd = evaluate_bits_per_dim(model, x_test, seed=record["metrics"]["test_dequantization_seed"])
    assert bpd == pytest.approx(subset["bpd"], abs=1e-3)
    # and the subset agrees with the full test set within its sampling error
    assert abs(subset["bpd"] - record["metrics"]["test_bpd"]) < 4 * subset["standard_error"] + 0.01


def test_chain_adds_log_dets():
    f, x = make("coupling_vector")
    g, _ = make("coupling_vector")
    chain = Chain([f, g])
    z1, l1 = f(x)
    z2, l2 = g(z1)
    z, log_det = chain(x)
    torch.testing.assert_close(z, z2)
    torch.testing.assert_close(log_det, l1 + l2)


def test_an_evaluation_that_fails_leaves_the_model_in_its_mode():
    flow = ImageFlow(image_shape=(1, 4, 4), levels=(1, 2), hidden=(4, 4), n_blocks=1)
    assert flow.training
    with pytest.raises(ValueError, match="dequantize"):
        evaluate_bits_per_dim(flow, 2 * torch.ones(3, 1, 4, 4))
    assert flow.training  # so its ActNorms still initialise from the first training batch


def test_the_logit_inverse_stays_finite_where_the_sigmoid_rounds_to_one():
    u = torch.tensor([[20.0, -20.0, 0.0]])  # float32: sigmoid(20) == 1 exactly
    y, log_det = LogitTransform(alpha=0.0).inverse(u)
    assert torch.isfinite(log_det).all() and torch.isfinite(y).all()
    expected = -(torch.nn.functional.logsigmoid(u.double()) + torch.nn.functional.logsigmoid(-u.double())).sum()
    assert float(log_det) == pytest.approx(float(-expected), rel=1e-6)


def test_actnorm_and_masks_reject_what_they_cannot_use():
    with pytest.raises(ValueError, match="larger batch"):
        ActNorm(2)(torch.randn(1, 2))
    with pytest.raises(ValueError, match="split"):
        CouplingFlow(dim=1)
