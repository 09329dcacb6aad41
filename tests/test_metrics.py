"""The course's sample-quality metrics: Inception Score and Frechet distance, and the shipped classifier."""

from __future__ import annotations

import math

import pytest
import scipy.linalg
import torch

from gencourse import pretrained
from gencourse.metrics import (
    MNISTClassifier,
    classify,
    floors,
    frechet_distance,
    gaussian_statistics,
    inception_score,
    inception_score_terms,
    load_classifier,
    real_data_floors,
    score_sampler,
)
from gencourse.pretrained import read_sidecar


def test_inception_score_of_confident_balanced_predictions_is_the_number_of_classes():
    probs = torch.eye(10, dtype=torch.float64).repeat(7, 1)  # every class, each predicted with certainty
    assert inception_score(probs) == pytest.approx(10.0, rel=1e-12)


def test_inception_score_is_one_for_a_single_class_or_for_uninformative_predictions():
    one_class = torch.zeros(20, 10, dtype=torch.float64)
    one_class[:, 3] = 1
    assert inception_score(one_class) == pytest.approx(1.0, rel=1e-12)
    assert inception_score(torch.full((20, 10), 0.1, dtype=torch.float64)) == pytest.approx(1.0, rel=1e-12)


def test_inception_score_equals_the_definition_on_random_probabilities(generator):
    probs = torch.softmax(torch.randn(50, 4, generator=generator, dtype=torch.float64), 1)
    p_y = probs.mean(0)
    kl = [sum(p[k] * math.log(p[k] / p_y[k]) for k in range(4)) for p in probs.tolist()]
    assert inception_score(probs) == pytest.approx(math.exp(sum(kl) / len(kl)), rel=1e-12)


def test_inception_score_is_the_exponential_of_marginal_minus_conditional_entropy(generator):
    """Exercise ex-ch04-is (a): IS = exp(H(p(y)) - E_x H(p(y|x)))."""
    probs = torch.softmax(3 * torch.randn(200, 10, generator=generator, dtype=torch.float64), 1)
    terms = inception_score_terms(probs)
    assert inception_score(probs) == pytest.approx(math.exp(terms["marginal_entropy"] - terms["conditional_entropy"]),
                                                   rel=1e-12)
    assert 0 < terms["conditional_entropy"] < terms["marginal_entropy"] <= math.log(10)
    assert terms["unsure_share"] == pytest.approx(float((probs.max(1).values < 0.9).double().mean()), abs=0)


def test_inception_score_terms_at_the_two_ends():
    """Certain, balanced predictions: H(p(y)) = log K, E H(p(y|x)) = 0, no unsure sample; uniform ones: all unsure."""
    certain = inception_score_terms(torch.eye(10, dtype=torch.float64).repeat(3, 1))
    assert certain == {"marginal_entropy": pytest.approx(math.log(10), rel=1e-12), "conditional_entropy": 0.0,
                       "unsure_share": 0.0}
    uniform = inception_score_terms(torch.full((5, 10), 0.1, dtype=torch.float64))
    assert uniform["conditional_entropy"] == pytest.approx(math.log(10), rel=1e-12) and uniform["unsure_share"] == 1.0


def test_frechet_distance_matches_scipy_sqrtm(generator):
    a = torch.randn(6, 6, generator=generator, dtype=torch.float64)
    b = torch.randn(6, 6, generator=generator, dtype=torch.float64)
    s1, s2 = a @ a.T + 0.1 * torch.eye(6), b @ b.T + 0.1 * torch.eye(6)
    mu1, mu2 = torch.randn(6, generator=generator, dtype=torch.float64), torch.zeros(6, dtype=torch.float64)
    covmean = scipy.linalg.sqrtm(s1.numpy() @ s2.numpy()).real
    expected = float((mu1 - mu2).square().sum() + s1.trace() + s2.trace() - 2 * covmean.trace())
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(expected, rel=1e-9)


def test_frechet_distance_of_diagonal_gaussians_and_of_a_gaussian_to_itself():
    s1, s2 = torch.diag(torch.tensor([1.0, 4.0, 9.0])), torch.diag(torch.tensor([4.0, 1.0, 1.0]))
    mu1, mu2 = torch.tensor([1.0, 0.0, 0.0]), torch.tensor([0.0, 0.0, 2.0])
    # ||mu1 - mu2||^2 + sum (sqrt(s1_i) - sqrt(s2_i))^2 = 5 + (1 + 1 + 4)
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(11.0, abs=1e-12)
    assert frechet_distance(mu1, s1, mu1, s1) == pytest.approx(0.0, abs=1e-12)


def test_gaussian_statistics_are_the_sample_mean_and_unbiased_covariance(generator):
    f = torch.randn(30, 3, generator=generator, dtype=torch.float64)
    mu, sigma = gaussian_statistics(f)
    centred = f - f.mean(0)
    torch.testing.assert_close(mu, f.mean(0))
    torch.testing.assert_close(sigma, centred.T @ centred / 29)


def test_classify_refuses_images_outside_the_unit_interval():
    with pytest.raises(ValueError, match=r"\(x \+ 1\) / 2"):
        classify(MNISTClassifier(), -torch.ones(2, 1, 28, 28))


def test_score_sampler_is_reproducible_and_leaves_the_global_generator_alone():
    model = MNISTClassifier().eval()
    torch.manual_seed(5)
    before = torch.rand(1)
    torch.manual_seed(5)
    reference = torch.rand(50, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    first = score_sampler(lambda n: torch.rand(n, 1, 28, 28), reference, n=40, seed=3, model=model, batch_size=16)
    assert torch.rand(1) == before
    second = score_sampler(lambda n: torch.rand(n, 1, 28, 28), reference, n=40, seed=3, model=model, batch_size=16)
    assert first == second


@pytest.mark.slow
def test_the_shipped_classifier_reaches_99_percent_and_reproduces_its_sidecar():
    from gencourse.data import load_mnist

    record = read_sidecar("mnist_classifier")
    assert record["metrics"]["test_accuracy"] >= 0.99
    model = load_classifier()
    x_train, _ = load_mnist("train", download=False, limit=10_000)
    x_test, y_test = load_mnist("test", download=False)
    _, probs = classify(model, x_test)
    assert float((probs.argmax(1) == y_test).double().mean()) == pytest.approx(record["metrics"]["test_accuracy"])
    measured = real_data_floors(model, x_train, x_test)
    for key, value in floors().items():
        assert measured[key] == pytest.approx(value, rel=1e-4), key
    assert 9.0 < floors()["inception_score_test"] <= 10 and 0 < floors()["fid_floor_train10k_vs_test"] < 10


def test_every_listed_generator_is_shipped():
    from gencourse.gan import MNIST_GENERATORS

    assert set(MNIST_GENERATORS) <= set(pretrained.available())


# Each shipped generator's sidecar scores are re-measured from its weights, on 2,000 samples with the
# sidecar's seed, by tests/test_ch09_comparison.py (one test for every generative checkpoint).


@pytest.mark.parametrize(("name", "lipschitz"), [("ch04_dcgan_codes", "none"), ("ch05_wgan_gp_codes", "gp")])
def test_an_unconditional_dcgan_and_wgan_gp_reach_an_inception_score_of_9(name, lipschitz):
    """The course's quality target, on the sidecar's 10,000 samples (re-measured on 2,000 in test_ch09_comparison).

    Both are DCGAN networks with no label anywhere: the discrete code beside ``z`` is drawn uniformly
    at random. The plain generators of a Gaussian latent are shipped and scored beside them.
    """
    record = read_sidecar(name)
    config = record["config"]
    assert config["architecture"] == "dcgan" and config["n_classes"] == 0 and config["n_codes"] > 0
    assert config.get("lipschitz", "none") == lipschitz
    assert record["metrics"]["inception_score_10000"] >= 9.0
    assert record["metrics"]["fid_10000"] > record["metrics"]["fid_floor_train10k_vs_test"]
