"""Chapter 6, adversarial auto-encoders and adversarial variational Bayes: priors over codes, the AAE, the AVB."""

from gencourse.aae.aae import AAE, aggregated_posterior_test, load_pretrained_aae
from gencourse.aae.avb import AVB, ImplicitEncoder, JointDiscriminator, avb_elbo, optimal_t_gaussian
from gencourse.aae.priors import (
    PRIORS,
    GaussianMixturePrior,
    Prior,
    StandardGaussianPrior,
    SwissRollPrior,
    make_prior,
)
from gencourse.aae.training import aae_step

__all__ = [
    "AAE",
    "AVB",
    "PRIORS",
    "GaussianMixturePrior",
    "ImplicitEncoder",
    "JointDiscriminator",
    "Prior",
    "StandardGaussianPrior",
    "SwissRollPrior",
    "aae_step",
    "aggregated_posterior_test",
    "avb_elbo",
    "load_pretrained_aae",
    "make_prior",
    "optimal_t_gaussian",
]
