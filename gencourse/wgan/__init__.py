"""Chapter 5, Wasserstein GANs: exact optimal transport, the critic and its Lipschitz constraint, the model."""

from gencourse.wgan.critic import (
    clip_weights,
    critic_loss,
    estimate_w1,
    fit_critic,
    generator_loss_wasserstein,
    gradient_penalty,
    interpolates,
)
from gencourse.wgan.parallel_lines import histogram2d, parallel_lines_divergences, sample_parallel_line
from gencourse.wgan.transport import discrete_transport, exact_w1, wasserstein_1d
from gencourse.wgan.wgan import WGAN

__all__ = [
    "sample_parallel_line",
    "parallel_lines_divergences",
    "histogram2d",
    "WGAN",
    "clip_weights",
    "critic_loss",
    "discrete_transport",
    "estimate_w1",
    "exact_w1",
    "fit_critic",
    "generator_loss_wasserstein",
    "gradient_penalty",
    "interpolates",
    "wasserstein_1d",
]
