"""How the shipped MNIST DDPM is scored: its samples as images, its bound in bits per dimension, two samplers timed.

Every figure in the checkpoint's sidecar comes from these functions, so a test (or a reader)
recomputes it with the same seed and gets the same number.
"""

from __future__ import annotations

import time

import torch

from gencourse.data import dequantize
from gencourse.diffusion.ddim import ddim_sample
from gencourse.diffusion.ddpm import DDPM
from gencourse.diffusion.elbo import bits_per_dim
from gencourse.metrics import MNISTClassifier, draw_samples, sample_quality
from gencourse.metrics.comparison import Reference

DDIM_STEPS = 50
DDIM_ETA = 1.0  # DDIM's noise on the 50-step path: on the shipped model it scores far better than eta = 0


def sample_images(ddpm: DDPM, n: int, steps: int | None = DDIM_STEPS, eta: float = DDIM_ETA) -> torch.Tensor:
    """``n`` images in [0, 1] from a DDPM trained on images scaled to [-1, 1]: ``(n, *data_shape)``.

    ``steps`` DDIM jumps (with noise ``eta``: 0 is deterministic, 1 draws each jump from the
    posterior as the ancestral step does), or with ``steps=None`` all
    ``T`` ancestral steps. Both clip the predicted ``x0`` to [-1, 1] at every step, as Ho et
    al.'s sampler does, so the images end in range.
    """
    x = ddpm.sample(n, clip=True) if steps is None else ddim_sample(ddpm, n, steps=steps, eta=eta, clip=True)
    return (x + 1) / 2


def evaluate_bits_per_dim(ddpm: DDPM, images: torch.Tensor, seed: int = 0, batch_size: int = 128) -> torch.Tensor:
    """The bound in bits per dimension of each 8-bit image (in [0, 1]), one seeded dequantisation each: ``(B,)``.

    ``2 y - 1`` for the dequantised ``y`` goes through :func:`~gencourse.diffusion.elbo.bits_per_dim`
    with the Gaussian decoder, so the figure is on the same footing as a flow's on dequantised
    MNIST. Each batch costs ``T`` passes of the denoiser; the same ``seed`` gives the same figures.
    """
    generator = torch.Generator(device=images.device).manual_seed(seed)
    return torch.cat([bits_per_dim(ddpm, 2 * dequantize(batch, generator=generator) - 1, "gaussian", generator)
                      for batch in images.split(batch_size)])


def compare_samplers(ddpm: DDPM, reference: Reference, n: int = 1000, steps: int = DDIM_STEPS,
                     eta: float = DDIM_ETA, seed: int = 0, model: MNISTClassifier | None = None,
                     batch_size: int = 500) -> dict[str, float]:
    """DDIM in ``steps`` jumps against ``T``-step ancestral sampling, side by side: seconds and scores of ``n`` images.

    Three samplers draw ``n`` images each with the same seed, timed on the wall clock in this
    process one after the other: DDIM with noise ``eta`` (keys ``ddim_*``), deterministic DDIM
    (``eta = 0``, keys ``ddim_deterministic_*``; the same as the first when ``eta = 0``) and
    ancestral sampling (``ancestral_*``). Each set is scored by classifier FID (against
    ``reference``) and Inception Score; the ratios compare the first with ancestral sampling.
    """
    figures: dict[str, float] = {"n": n, "ddim_steps": steps, "ddim_eta": eta, "ancestral_steps": ddpm.T}
    samplers = {"ddim": (steps, eta), **({"ddim_deterministic": (steps, 0.0)} if eta != 0 else {}),
                "ancestral": (None, 0.0)}
    for label, (k, e) in samplers.items():
        start = time.perf_counter()
        x = draw_samples(lambda m, k=k, e=e: sample_images(ddpm, m, k, e), n, seed, batch_size)
        figures[f"{label}_seconds"] = time.perf_counter() - start
        quality = sample_quality(x.float(), reference, model)
        figures[f"{label}_fid"], figures[f"{label}_inception_score"] = quality["fid"], quality["inception_score"]
    figures["time_ratio"] = figures["ddim_seconds"] / figures["ancestral_seconds"]
    figures["fid_ratio"] = figures["ddim_fid"] / figures["ancestral_fid"]
    return figures
