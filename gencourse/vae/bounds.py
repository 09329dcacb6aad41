r"""The importance-weighted bound and the importance-sampled estimate of :math:`\log p_\theta(x)`.

With :math:`z_1, \dots, z_K \sim q_\phi(z \mid x)` independent and the importance weights
:math:`w_k = p_\theta(x, z_k) / q_\phi(z_k \mid x)`, each :math:`w_k` is an unbiased
estimate of :math:`p_\theta(x)`, and so is their mean. Jensen's inequality then gives the
IWAE bound (Burda, Grosse & Salakhutdinov, 2016)  (eq:iwae-bound)

.. math::

    \mathcal{L}_K(x) = \mathbb{E}\Big[\log \frac1K \sum_{k=1}^K w_k\Big] \le \log p_\theta(x),

with :math:`\mathcal{L}_1 = \mathcal{L}` the ELBO, :math:`\mathcal{L}_K \le \mathcal{L}_{K+1}`,
and :math:`\mathcal{L}_K \to \log p_\theta(x)` as :math:`K \to \infty` when the weights are
bounded. One draw of :math:`\log \frac1K \sum_k w_k` with large :math:`K` (5,000 in the
papers) is the standard estimate of a VAE's test log-likelihood; it is still a (stochastic)
lower bound, so the negative log-likelihood it reports is an *upper* bound in expectation.

Everything works on log-weights and ``logsumexp``: the weights themselves are about
:math:`e^{-90}` on MNIST and would underflow.
"""

from __future__ import annotations

import math
from typing import Protocol

import torch

from gencourse.data import binarize


class HasLogWeights(Protocol):
    def log_weights(self, x: torch.Tensor, k: int, y: torch.Tensor | None = None, chunk: int | None = None,
                    generator: torch.Generator | None = None) -> torch.Tensor: ...


def iwae_bound(log_w: torch.Tensor) -> torch.Tensor:
    """``log (1/K) sum_k exp(log_w[k])`` over the first dimension: ``(K, ...) -> (...)``  (eq:iwae-bound).

    With ``K = 1`` this is the one-sample ELBO estimate ``log_w[0]``.
    """
    return torch.logsumexp(log_w, dim=0) - math.log(log_w.shape[0])  # (eq:iwae-bound)


@torch.no_grad()
def importance_sampled_nll(
    model: HasLogWeights,
    x: torch.Tensor,
    k: int = 5000,
    y: torch.Tensor | None = None,
    batch_size: int = 100,
    chunk: int = 250,
    seed: int = 0,
) -> torch.Tensor:
    """``-log p(x)`` of every image estimated by ``-iwae_bound`` with ``k`` importance samples: ``(N, ...) -> (N,)``.

    Images go through in batches of ``batch_size`` and samples in chunks of ``chunk``, so at
    most ``batch_size * chunk`` decoder outputs exist at once (25,000 images of 784 pixels,
    about 80 MB, by default): ``k = 5000`` fits in memory. The noise comes from a generator
    seeded with ``seed`` on the model's device, so an estimate can be repeated exactly.
    Put the model in ``eval()`` mode first if it has dropout or batch norm.
    """
    device = x.device
    generator = torch.Generator(device=device).manual_seed(seed)
    out = []
    for i in range(0, len(x), batch_size):
        xb = x[i : i + batch_size]
        yb = None if y is None else y[i : i + batch_size]
        log_w = model.log_weights(xb, k, y=yb, chunk=chunk, generator=generator)  # (k, B)
        out.append(-iwae_bound(log_w))
    return torch.cat(out)


def estimate_nll(model: HasLogWeights, x: torch.Tensor, k: int = 5000, n: int | None = None, seed: int = 0,
                 batch_size: int = 100, chunk: int = 250, per_image: bool = False) -> float | torch.Tensor:
    """Mean importance-sampled ``-log p(x)`` (nats) of the first ``n`` images ``x`` in [0, 1], binarised with ``seed``.

    The binarisation is drawn on the CPU from a generator seeded with ``seed`` (the same on
    every device), and so is the importance-sampling noise (seed ``seed + 1``): a checkpoint's
    sidecar records the figure and a test recomputes it on a subset. Runs the model in ``eval`` mode.
    With ``per_image`` the ``(n,)`` tensor of per-image figures is returned instead of their mean.
    """
    x = x[:n] if n is not None else x
    device = next(model.parameters()).device  # type: ignore[attr-defined]
    x_bin = binarize(x.cpu(), generator=torch.Generator().manual_seed(seed)).to(device)
    was_training = model.training  # type: ignore[attr-defined]
    model.eval()  # type: ignore[attr-defined]
    nll = importance_sampled_nll(model, x_bin, k=k, batch_size=batch_size, chunk=chunk, seed=seed + 1)
    model.train(was_training)  # type: ignore[attr-defined]
    return nll if per_image else float(nll.mean())
