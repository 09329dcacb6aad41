"""Chapter 3, variational auto-encoders: the VAE (MLP or convolutional, conditional or not), likelihoods, bounds."""

from gencourse.vae.annealing import kl_warmup
from gencourse.vae.bounds import estimate_nll, importance_sampled_nll, iwae_bound
from gencourse.vae.diagnostics import active_units, evaluate_elbo
from gencourse.vae.likelihoods import bernoulli_log_likelihood, gaussian_log_likelihood
from gencourse.vae.model import VAE

__all__ = [
    "VAE",
    "active_units",
    "bernoulli_log_likelihood",
    "estimate_nll",
    "evaluate_elbo",
    "gaussian_log_likelihood",
    "importance_sampled_nll",
    "iwae_bound",
    "kl_warmup",
]
