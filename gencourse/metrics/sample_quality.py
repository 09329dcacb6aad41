r"""Sample quality in the evaluation classifier's eyes: classifier Inception Score and classifier FID.

**Inception Score** (Salimans et al., 2016). With :math:`p(y \mid x)` the classifier's class
probabilities and :math:`p(y) = \mathbb{E}_{x \sim p_g}\, p(y \mid x)` their average over the
samples,

.. math::

    \mathrm{IS} = \exp\Big(\mathbb{E}_{x \sim p_g}\, \mathrm{KL}\big(p(y \mid x) \,\|\, p(y)\big)\Big).

It lies between 1 and the number of classes (10): high when every sample is classified
confidently (sharp :math:`p(y \mid x)`) *and* the classes are used evenly (flat
:math:`p(y)`). It never looks at real data, so a generator that draws one perfect digit per
class scores 10 without covering the data's variety.

**Frechet distance** (Heusel et al., 2017). Fit a Gaussian to the classifier's features of each
set, :math:`(\mu_1, \Sigma_1)` and :math:`(\mu_2, \Sigma_2)`; the squared 2-Wasserstein
distance between the two Gaussians is

.. math::

    d^2 = \|\mu_1 - \mu_2\|^2 + \operatorname{tr}\big(\Sigma_1 + \Sigma_2
          - 2\,(\Sigma_1^{1/2} \Sigma_2 \Sigma_1^{1/2})^{1/2}\big).

Lower is better. It compares samples with real images, so it sees missing modes and missing
variety that the Inception Score cannot.

**Floors.** Even two sets of real images differ: the FID between 10,000 training images and
the 10,000 test images, and the Inception Score of the test images, are the best a generator
can hope for. The course reports every figure beside these floors (the classifier's sidecar
records them).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from gencourse.metrics.classifier import MNISTClassifier, classify, load_classifier

FLOOR_IMAGES = 10_000


def inception_score(probs: torch.Tensor) -> float:
    r"""``exp(mean KL(p(y|x) || p(y)))`` from class probabilities ``probs`` of shape ``(N, K)``."""
    probs = probs.double()
    p_y = probs.mean(0, keepdim=True)  # (1, K): the marginal class distribution of the samples
    log_ratio = torch.log(probs.clamp_min(1e-300)) - torch.log(p_y.clamp_min(1e-300))
    kl = (probs * log_ratio).sum(1)  # (N,); 0 log 0 = 0 since probs multiplies
    return float(kl.mean().exp())  # (eq:inception-score)


def inception_score_terms(probs: torch.Tensor, confident: float = 0.9) -> dict[str, float]:
    r"""Why a score is what it is: ``IS = exp(H(p(y)) - E_x H(p(y|x)))`` (exercise ex-ch04-is).

    Returns the entropy of the marginal class distribution, ``"marginal_entropy"`` (at most
    ``log K``: it falls when classes are missing or unevenly drawn), the mean entropy of the
    per-sample class distributions, ``"conditional_entropy"`` (0 when every sample is classified
    with certainty: it rises with ambiguous samples), and ``"unsure_share"``, the share of samples
    whose most probable class has probability below ``confident``.
    """
    probs = probs.double()
    p_y = probs.mean(0)

    def entropy(p: torch.Tensor) -> torch.Tensor:
        return -(p * torch.log(p.clamp_min(1e-300))).sum(-1)  # 0 log 0 = 0

    return {"marginal_entropy": float(entropy(p_y)), "conditional_entropy": float(entropy(probs).mean()),
            "unsure_share": float((probs.max(1).values < confident).double().mean())}


def gaussian_statistics(features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The mean ``(d,)`` and unbiased covariance ``(d, d)`` of ``features`` ``(N, d)``, in float64."""
    f = features.double()
    return f.mean(0), torch.cov(f.T)


def _sqrt_psd(a: torch.Tensor) -> torch.Tensor:
    """The symmetric square root of a symmetric positive semi-definite matrix (eigenvalues clamped at 0)."""
    values, vectors = torch.linalg.eigh((a + a.T) / 2)
    return (vectors * values.clamp_min(0).sqrt()) @ vectors.T


def frechet_distance(mu1: torch.Tensor, sigma1: torch.Tensor, mu2: torch.Tensor, sigma2: torch.Tensor) -> float:
    """The squared 2-Wasserstein distance between ``N(mu1, sigma1)`` and ``N(mu2, sigma2)``, in float64.

    ``tr((S1 S2)^{1/2})`` is computed as ``tr((S1^{1/2} S2 S1^{1/2})^{1/2})``, the square root
    of a symmetric matrix, which is stable where ``S1 S2`` is nearly singular.
    """
    mu1, mu2, sigma1, sigma2 = (t.double() for t in (mu1, mu2, sigma1, sigma2))
    root1 = _sqrt_psd(sigma1)
    cross = torch.linalg.eigvalsh(root1 @ sigma2 @ root1).clamp_min(0).sqrt().sum()
    return float((mu1 - mu2).square().sum() + sigma1.trace() + sigma2.trace() - 2 * cross)  # (eq:fid)


def classifier_fid(x: torch.Tensor, reference: torch.Tensor, model: MNISTClassifier | None = None) -> float:
    """The Frechet distance between images ``x`` and ``reference`` (both in [0, 1]) in the classifier's features."""
    model = model if model is not None else load_classifier()
    f_x, _ = classify(model, x)
    f_ref, _ = classify(model, reference)
    return frechet_distance(*gaussian_statistics(f_x), *gaussian_statistics(f_ref))


def classifier_inception_score(x: torch.Tensor, model: MNISTClassifier | None = None) -> float:
    """The Inception Score of images ``x`` in [0, 1] under the evaluation classifier."""
    model = model if model is not None else load_classifier()
    return inception_score(classify(model, x)[1])


def reference_statistics(reference: torch.Tensor, model: MNISTClassifier | None = None
                         ) -> tuple[torch.Tensor, torch.Tensor]:
    """The mean and covariance of the classifier's features of ``reference`` images: compute once, score many sets."""
    model = model if model is not None else load_classifier()
    return gaussian_statistics(classify(model, reference)[0])


def sample_quality(x: torch.Tensor, reference: torch.Tensor | tuple[torch.Tensor, torch.Tensor],
                   model: MNISTClassifier | None = None) -> dict[str, float]:
    """``{"inception_score", "fid"}`` of samples ``x`` in [0, 1]; FID against ``reference`` (the MNIST test set).

    ``reference`` is the images or their :func:`reference_statistics` (the same figures, without
    classifying the reference images again).
    """
    model = model if model is not None else load_classifier()
    f_x, probs = classify(model, x)
    mu_ref, sigma_ref = reference if isinstance(reference, tuple) else reference_statistics(reference, model)
    return {"inception_score": inception_score(probs),
            "fid": frechet_distance(*gaussian_statistics(f_x), mu_ref, sigma_ref)}


def real_data_floors(model: MNISTClassifier, x_train: torch.Tensor, x_test: torch.Tensor) -> dict[str, float]:
    """The floors every figure is reported beside: FID(first 10,000 training images, test set) and IS(test set)."""
    floor = sample_quality(x_train[:FLOOR_IMAGES], x_test, model)
    return {"fid_floor_train10k_vs_test": floor["fid"],
            "inception_score_test": classifier_inception_score(x_test, model),
            "inception_score_train10k": floor["inception_score"]}


def floors() -> dict[str, float]:
    """The real-data floors recorded in the shipped classifier's sidecar (no data needed)."""
    from gencourse.pretrained import read_sidecar

    metrics = read_sidecar("mnist_classifier")["metrics"]
    return {key: metrics[key] for key in ("fid_floor_train10k_vs_test", "inception_score_test")}


def score_sampler(sample: Callable[[int], torch.Tensor], reference: torch.Tensor | tuple[torch.Tensor, torch.Tensor],
                  n: int = 10_000, seed: int = 0, model: MNISTClassifier | None = None,
                  batch_size: int = 1000) -> dict[str, float]:
    """:func:`sample_quality` of ``n`` images drawn by ``sample(k)`` (images in [0, 1]) with the torch seed ``seed``.

    The global generator is seeded inside :func:`torch.random.fork_rng`, so the caller's random
    stream is left as it was and the same ``seed`` gives the same figures (a checkpoint's
    sidecar records them; a test recomputes them).
    """
    return sample_quality(draw_samples(sample, n, seed, batch_size).float(), reference, model)


def draw_samples(sample: Callable[[int], torch.Tensor], n: int = 10_000, seed: int = 0,
                 batch_size: int = 1000) -> torch.Tensor:
    """The ``n`` images that :func:`score_sampler` scores: ``sample(k)`` in batches, the global seed ``seed``.

    Drawn inside :func:`torch.random.fork_rng`, so the caller's random stream is left as it was.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return torch.cat([sample(min(batch_size, n - i)).cpu() for i in range(0, n, batch_size)])


def checkpoint_table(names: list[str]) -> list[dict[str, object]]:
    """One row per shipped generator checkpoint: its classifier IS and FID (10,000 samples), then the two floors.

    Read from the sidecars (nothing is recomputed); a checkpoint that is not shipped is skipped.
    Rows: ``{"model", "inception_score", "fid", "steps", "seconds"}``.
    """
    from gencourse.pretrained import available, read_sidecar

    rows: list[dict[str, object]] = []
    for name in names:
        if name not in available():
            continue
        record = read_sidecar(name)
        rows.append({"model": name, "inception_score": record["metrics"]["inception_score_10000"],
                     "fid": record["metrics"]["fid_10000"],
                     "steps": record["budget"].get("generator_steps"),
                     "seconds": record["budget"].get("wall_clock_seconds")})
    floor = floors()
    rows.append({"model": "floor: 10,000 training images (FID against the test set)",
                 "inception_score": read_sidecar("mnist_classifier")["metrics"]["inception_score_train10k"],
                 "fid": floor["fid_floor_train10k_vs_test"], "steps": None, "seconds": None})
    rows.append({"model": "floor: the 10,000 test images (IS; FID 0 by definition)",
                 "inception_score": floor["inception_score_test"], "fid": 0.0, "steps": None, "seconds": None})
    return rows


def format_table(rows: list[dict[str, object]]) -> str:
    """:func:`checkpoint_table`'s rows as a plain-text table."""
    lines = [f"{'model':<58} {'IS':>6} {'FID':>8}"]
    lines += [f"{row['model']:<58} {row['inception_score']:>6.2f} {row['fid']:>8.2f}" for row in rows]
    return "\n".join(lines)
