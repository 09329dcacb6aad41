"""What a trained VAE is doing: its ELBO split into distortion and rate, and how many latent units it uses."""

from __future__ import annotations

import torch

from gencourse.vae.model import VAE


@torch.no_grad()
def evaluate_elbo(model: VAE, x: torch.Tensor, y: torch.Tensor | None = None, batch_size: int = 1000,
                  seed: int = 0) -> dict[str, float]:
    """Per-image means over the images ``x`` (already binarised) of ``recon`` (the distortion,
    ``-log p(x | z)`` at one sample), ``kl`` (the rate) and ``elbo = -(recon + kl)``, in nats.

    Runs in ``eval`` mode with the global generator seeded with ``seed`` for the sample of ``z``.
    """
    was_training = model.training
    model.eval()
    torch.manual_seed(seed)
    totals = {"recon": 0.0, "kl": 0.0, "elbo": 0.0}
    for i in range(0, len(x), batch_size):
        out = model.loss(x[i : i + batch_size], None if y is None else y[i : i + batch_size])
        for key in totals:
            totals[key] += float(out[key]) * len(x[i : i + batch_size])
    model.train(was_training)
    return {key: value / len(x) for key, value in totals.items()}


@torch.no_grad()
def active_units(model: VAE, x: torch.Tensor, y: torch.Tensor | None = None, threshold: float = 0.01) -> int:
    r"""How many latent units have a posterior mean that varies across images: :math:`\mathrm{Var}_x[\mu_j(x)] > 0.01`.

    A unit whose posterior mean is the same for every image carries no information about it
    (its posterior has collapsed onto the prior); the threshold is that of Burda et al. (2016).
    """
    mu, _ = model.encode(x, y)
    return int((mu.var(0) > threshold).sum())
