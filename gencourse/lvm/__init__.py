"""Chapter 1, latent variable models: a Gaussian mixture fitted by EM, probabilistic PCA, an auto-encoder."""

from gencourse.lvm.autoencoder import Autoencoder, bernoulli_nll, reconstruction_nats
from gencourse.lvm.gmm import GaussianMixture, kmeans_plus_plus, log_gaussian
from gencourse.lvm.ppca import PPCA

__all__ = [
    "PPCA",
    "Autoencoder",
    "GaussianMixture",
    "bernoulli_nll",
    "kmeans_plus_plus",
    "log_gaussian",
    "reconstruction_nats",
]
