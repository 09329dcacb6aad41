"""Chapter 4, generative adversarial networks: the losses on logits, the networks, the model."""

from gencourse.gan.disconnected import gap_mass_lower_bound, separation_bound
from gencourse.gan.divergences import gan_value, js_divergence, kl_divergence, total_variation
from gencourse.gan.gan import GAN, MNIST_GENERATORS, AdversarialModel, build_networks, load_pretrained_gan
from gencourse.gan.losses import (
    GENERATOR_LOSSES,
    density_ratio,
    discriminator_loss,
    generator_loss_minimax,
    generator_loss_non_saturating,
    optimal_discriminator,
)
from gencourse.gan.modes import mode_coverage
from gencourse.gan.networks import DCGANDiscriminator, DCGANGenerator, MLPDiscriminator, MLPGenerator
from gencourse.gan.training import adversarial_step, fit_adversarial

__all__ = [
    "fit_adversarial",
    "adversarial_step",
    "mode_coverage",
    "gap_mass_lower_bound",
    "separation_bound",
    "total_variation",
    "kl_divergence",
    "js_divergence",
    "gan_value",
    "GAN",
    "MNIST_GENERATORS",
    "GENERATOR_LOSSES",
    "AdversarialModel",
    "DCGANDiscriminator",
    "DCGANGenerator",
    "MLPDiscriminator",
    "MLPGenerator",
    "build_networks",
    "load_pretrained_gan",
    "density_ratio",
    "discriminator_loss",
    "generator_loss_minimax",
    "generator_loss_non_saturating",
    "optimal_discriminator",
]
