"""Chapter 1: EM for Gaussian mixtures, probabilistic PCA and the auto-encoder, checked against known answers."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from torch.distributions import MultivariateNormal

from gencourse.data import sample_toy
from gencourse.lvm import PPCA, Autoencoder, GaussianMixture, bernoulli_nll
from gencourse.lvm.autoencoder import softplus

DTYPE = torch.float64


def toy_mixture(seed: int, n: int = 400) -> torch.Tensor:
    """A 2-D data set with overlapping clusters, so EM has real work to do."""
    return sample_toy("ring", n, generator=torch.Generator().manual_seed(seed), modes=5, std=0.5).to(DTYPE)


def random_gmm(x: torch.Tensor, k: int, seed: int) -> GaussianMixture:
    return GaussianMixture.from_data(x, k, init="random", generator=torch.Generator().manual_seed(seed))


# --- Gaussian mixture -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
@pytest.mark.parametrize("k", [2, 5, 8])
def test_em_never_decreases_the_log_likelihood(seed: int, k: int) -> None:
    x = toy_mixture(seed)
    history = random_gmm(x, k, seed).fit(x, n_iter=60, tol=0)
    assert len(history) == 61
    steps = np.diff(history)
    assert steps.min() >= -1e-10, f"EM decreased the log-likelihood by {-steps.min():.3g}"
    assert history[-1] > history[0]


def test_fit_history_is_the_log_likelihood_after_each_iteration() -> None:
    x = toy_mixture(0)
    gmm = random_gmm(x, 3, 0)
    history = gmm.fit(x, n_iter=4, tol=0)
    assert history[-1] == pytest.approx(float(gmm.log_likelihood(x)), abs=1e-12)
    restart = random_gmm(x, 3, 0)
    assert history[0] == pytest.approx(float(restart.log_likelihood(x)), abs=1e-12)


def test_fit_stops_early_at_tol() -> None:
    x = toy_mixture(1)
    history = random_gmm(x, 3, 1).fit(x, n_iter=1000, tol=1e-4)
    assert len(history) < 1001
    assert history[-1] - history[-2] < 1e-4


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_em_matches_scikit_learn_from_the_same_start(seed: int) -> None:
    sklearn_mixture = pytest.importorskip("sklearn.mixture")
    x = toy_mixture(seed)
    k, n_iter = 4, 25
    gmm = GaussianMixture.from_data(x, k, init="kmeans++", generator=torch.Generator().manual_seed(seed))
    precisions = torch.linalg.inv(gmm.covariances)
    reference = sklearn_mixture.GaussianMixture(
        n_components=k, covariance_type="full", tol=0, max_iter=n_iter, reg_covar=1e-6,
        weights_init=gmm.weights.numpy(), means_init=gmm.means.numpy(), precisions_init=precisions.numpy(),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tol=0 never "converges": scikit-learn warns
        reference.fit(x.numpy())
    history = gmm.fit(x, n_iter=n_iter, tol=0)
    np.testing.assert_allclose(gmm.weights.numpy(), reference.weights_, atol=1e-8)
    np.testing.assert_allclose(gmm.means.numpy(), reference.means_, atol=1e-8)
    np.testing.assert_allclose(gmm.covariances.numpy(), reference.covariances_, atol=1e-8)
    # scikit-learn's lower_bound_ is the mean log-likelihood before its last M-step.
    assert history[-2] == pytest.approx(reference.lower_bound_, abs=1e-9)
    assert history[-1] == pytest.approx(reference.score(x.numpy()), abs=1e-9)


def test_responsibilities_are_a_distribution() -> None:
    x = toy_mixture(0)
    gmm = random_gmm(x, 6, 0)
    far = torch.tensor([[1e3, -1e3]], dtype=DTYPE)  # every density underflows here; log-sum-exp copes
    resp = gmm.e_step(torch.cat([x, far]))
    assert resp.shape == (len(x) + 1, 6)
    assert torch.isfinite(resp).all() and (resp >= 0).all()
    torch.testing.assert_close(resp.sum(1), torch.ones(len(x) + 1, dtype=DTYPE), atol=1e-12, rtol=0)


def test_one_component_log_prob_equals_multivariate_normal() -> None:
    gen = torch.Generator().manual_seed(0)
    A = torch.randn(3, 3, generator=gen, dtype=DTYPE)
    cov = A @ A.T + 0.5 * torch.eye(3, dtype=DTYPE)
    mean = torch.randn(3, generator=gen, dtype=DTYPE)
    gmm = GaussianMixture(torch.ones(1, dtype=DTYPE), mean[None], cov[None])
    x = torch.randn(50, 3, generator=gen, dtype=DTYPE)
    expected = MultivariateNormal(mean, covariance_matrix=cov).log_prob(x)
    torch.testing.assert_close(gmm.log_prob(x), expected, atol=1e-12, rtol=0)


def test_mixture_log_prob_equals_the_sum_of_weighted_densities() -> None:
    x = toy_mixture(2, n=30)
    gmm = random_gmm(x, 3, 2)
    components = zip(gmm.means, gmm.covariances, strict=True)
    densities = torch.stack([MultivariateNormal(m, c).log_prob(x).exp() for m, c in components], 1)  # (N, K)
    torch.testing.assert_close(gmm.log_prob(x), (densities @ gmm.weights).log(), atol=1e-12, rtol=0)


def test_gmm_sample_has_the_mixture_moments() -> None:
    weights = torch.tensor([0.3, 0.7], dtype=DTYPE)
    means = torch.tensor([[-2.0, 0.0], [1.0, 1.0]], dtype=DTYPE)
    covariances = torch.stack([torch.eye(2, dtype=DTYPE), torch.tensor([[1.0, 0.5], [0.5, 2.0]], dtype=DTYPE)])
    gmm = GaussianMixture(weights, means, covariances)
    x, z = gmm.sample(200_000, generator=torch.Generator().manual_seed(0))
    assert x.shape == (200_000, 2) and x.dtype == DTYPE and z.shape == (200_000,)
    assert float((z == 1).double().mean()) == pytest.approx(0.7, abs=5e-3)
    torch.testing.assert_close(x.mean(0), weights @ means, atol=2e-2, rtol=0)


def test_gmm_state_dict_round_trip() -> None:
    x = toy_mixture(0)
    gmm = random_gmm(x, 3, 0)
    gmm.fit(x, n_iter=5)
    other = random_gmm(x, 3, 1)
    other.load_state_dict(gmm.state_dict())
    torch.testing.assert_close(other.log_prob(x), gmm.log_prob(x), atol=0, rtol=0)


# --- Probabilistic PCA ----------------------------------------------------------------------------------------


def low_rank_data(n: int = 500, D: int = 8, seed: int = 0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    W = torch.randn(D, 3, generator=gen, dtype=DTYPE)
    z = torch.randn(n, 3, generator=gen, dtype=DTYPE)
    scales = torch.linspace(0.1, 0.4, D, dtype=DTYPE)  # anisotropic noise, so the model is not exact
    return z @ W.T + 1.0 + scales * torch.randn(n, D, generator=gen, dtype=DTYPE)


def projector(A: torch.Tensor) -> torch.Tensor:
    """The orthogonal projection onto the column span of ``A``."""
    return A @ torch.linalg.solve(A.T @ A, A.T)


@pytest.mark.parametrize("d", [1, 2, 3, 5])
def test_ppca_ml_spans_the_top_principal_components(d: int) -> None:
    x = low_rank_data()
    ppca = PPCA(d).fit(x)
    xc = x - x.mean(0)
    _, s, Vt = torch.linalg.svd(xc, full_matrices=False)  # an independent route to the principal directions
    eigenvalues = s**2 / len(x)
    torch.testing.assert_close(projector(ppca.W), Vt[:d].T @ Vt[:d], atol=1e-10, rtol=0)
    assert float(ppca.sigma2) == pytest.approx(float(eigenvalues[d:].mean()), abs=1e-12)
    torch.testing.assert_close(ppca.mu, x.mean(0), atol=1e-12, rtol=0)
    # W_ML^T W_ML = Lambda_d - sigma2 I (R = I)
    torch.testing.assert_close(ppca.W.T @ ppca.W, torch.diag(eigenvalues[:d] - ppca.sigma2), atol=1e-10, rtol=0)


def test_ppca_log_prob_equals_dense_multivariate_normal() -> None:
    x = low_rank_data()
    ppca = PPCA(2).fit(x)
    C = ppca.W @ ppca.W.T + ppca.sigma2 * torch.eye(x.shape[1], dtype=DTYPE)
    expected = MultivariateNormal(ppca.mu, covariance_matrix=C).log_prob(x)
    torch.testing.assert_close(ppca.log_prob(x), expected, atol=1e-10, rtol=0)


@pytest.mark.parametrize("seed", range(5))
def test_ppca_ml_beats_perturbed_parameters(seed: int) -> None:
    x = low_rank_data()
    ppca = PPCA(3).fit(x)
    best = float(ppca.log_likelihood(x))
    gen = torch.Generator().manual_seed(seed)
    for scale in (1e-3, 1e-2, 1e-1):
        W = ppca.W + scale * torch.randn(ppca.W.shape, generator=gen, dtype=DTYPE)
        mu = ppca.mu + scale * torch.randn(ppca.mu.shape, generator=gen, dtype=DTYPE)
        sigma2 = ppca.sigma2 * float(torch.empty(1, dtype=DTYPE).uniform_(0.5, 1.5, generator=gen))
        perturbed = [(W, ppca.mu, ppca.sigma2), (ppca.W, mu, ppca.sigma2), (ppca.W, ppca.mu, sigma2), (W, mu, sigma2)]
        for params in perturbed:
            assert float(PPCA(3, *params).log_likelihood(x)) <= best + 1e-12
    rotation, _ = torch.linalg.qr(torch.randn(3, 3, generator=gen, dtype=DTYPE))  # W R is equally good
    assert float(PPCA(3, ppca.W @ rotation, ppca.mu, ppca.sigma2).log_likelihood(x)) == pytest.approx(best, abs=1e-10)


def test_ppca_posterior_matches_bayes_rule() -> None:
    """p(z | x) from the joint Gaussian of (z, x), conditioned in the textbook way."""
    x = low_rank_data(n=20)
    ppca = PPCA(2).fit(x)
    W, mu, s2 = ppca.W, ppca.mu, ppca.sigma2
    C = W @ W.T + s2 * torch.eye(x.shape[1], dtype=DTYPE)
    mean = (W.T @ torch.linalg.solve(C, (x - mu).T)).T  # Cov(z, x) C^{-1} (x - mu)
    cov = torch.eye(2, dtype=DTYPE) - W.T @ torch.linalg.solve(C, W)
    got_mean, got_cov = ppca.posterior(x)
    torch.testing.assert_close(got_mean, mean, atol=1e-10, rtol=0)
    torch.testing.assert_close(got_cov, cov, atol=1e-10, rtol=0)
    assert ppca.encode(x).shape == (20, 2) and ppca.reconstruct(x).shape == x.shape


def test_ppca_samples_have_the_model_covariance() -> None:
    ppca = PPCA(2).fit(low_rank_data())
    samples = ppca.sample(100_000, generator=torch.Generator().manual_seed(0))
    C = ppca.W @ ppca.W.T + ppca.sigma2 * torch.eye(8, dtype=DTYPE)
    torch.testing.assert_close(torch.cov(samples.T), C, atol=0.05 * float(C.abs().max()), rtol=0)


# --- Auto-encoder -----------------------------------------------------------------------------------------------


def small_autoencoder() -> Autoencoder:
    torch.manual_seed(0)
    return Autoencoder(image_shape=(1, 8, 8), hidden=(32, 16), code_dim=2)


def binary_images(n: int = 16) -> torch.Tensor:
    return torch.rand(n, 1, 8, 8, generator=torch.Generator().manual_seed(0)).round()


def test_autoencoder_loss_is_bernoulli_nll_summed_over_pixels() -> None:
    model = small_autoencoder()
    x = binary_images()
    logits = model.decode(model.encode(x))
    expected = -torch.distributions.Bernoulli(logits=logits).log_prob(x.flatten(1)).sum(1).mean()
    torch.testing.assert_close(model.loss(x)["loss"], expected)


def test_bernoulli_nll_is_softplus_minus_x_logit_from_extreme_to_zero_logits() -> None:
    """softplus(l) - x l equals -log Bern(x; sigmoid(l)) in float64, with gradient sigmoid(l) - x, even at l = 0."""
    logits = torch.tensor([[-800.0, -30.0, -1.0, 0.0, 1e-9, 2.0, 40.0, 800.0]], dtype=DTYPE, requires_grad=True)
    x = torch.tensor([[0.0, 1.0, 0.3, 1.0, 0.0, 1.0, 0.0, 1.0]], dtype=DTYPE)
    nll = bernoulli_nll(logits, x)
    # softplus(l) = log(1 + e^l), with log1p on whichever side keeps the exponential finite
    softplus_exact = torch.where(logits > 0, logits + torch.log1p(torch.exp(-logits)), torch.log1p(torch.exp(logits)))
    exact = softplus_exact - x * logits
    torch.testing.assert_close(nll, exact.sum(1), rtol=1e-14, atol=0)
    (grad,) = torch.autograd.grad(nll.sum(), logits)
    torch.testing.assert_close(grad, torch.sigmoid(logits) - x, rtol=0, atol=1e-15)
    assert grad[0, 3] == 0.5 - 1.0  # at l = 0 the derivative of softplus is 1/2, not a kink's 0 or 1


def test_softplus_gradients_to_second_order() -> None:
    logits = torch.linspace(-6, 6, 25, dtype=DTYPE).requires_grad_()  # includes 0
    assert torch.autograd.gradcheck(softplus, (logits,))
    assert torch.autograd.gradgradcheck(softplus, (logits,))


def test_autoencoder_shapes_and_no_sampler() -> None:
    """The checks every model passes are in test_models.py; these are the auto-encoder's own."""
    model = small_autoencoder()
    assert model.encode(binary_images()).shape == (16, 2)
    assert model.reconstruct(binary_images()).shape == (16, 1, 8, 8)
    with pytest.raises(NotImplementedError, match="prior"):
        model.sample(4)


@pytest.mark.slow
def test_pretrained_autoencoder_reproduces_its_sidecar_metric() -> None:
    """The shipped checkpoint loads and its test reconstruction equals the figure its sidecar records."""
    from gencourse.data import load_mnist
    from gencourse.lvm import reconstruction_nats
    from gencourse.pretrained import load_pretrained, read_sidecar

    record = read_sidecar("ch01_autoencoder")
    model = Autoencoder(**record["config"])
    load_pretrained("ch01_autoencoder", model)
    assert model.encode(torch.zeros(3, 1, 28, 28)).shape == (3, record["config"]["code_dim"])
    x_test, _ = load_mnist("test", download=False)
    recon = reconstruction_nats(model, x_test, seed=record["metrics"]["test_binarization_seed"])
    assert recon == pytest.approx(record["metrics"]["test_recon_nats"], rel=1e-4)


def test_ppca_refuses_data_of_lower_rank_than_the_latent_dimension() -> None:
    """With lambda_{d+1} = 0 the ML noise variance is 0 and the likelihood has no maximum."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(100, 2, generator=g, dtype=torch.float64) @ torch.randn(2, 6, generator=g, dtype=torch.float64)
    PPCA(latent_dim=1).fit(x)  # rank 2 > 1: fine
    with pytest.raises(ValueError, match="span only about 2 dimensions"):
        PPCA(latent_dim=2).fit(x)
