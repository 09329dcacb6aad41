"""Chapter 8, diffusion models: noise schedules, the DDPM process around a denoiser, its ELBO, DDIM sampling."""

from gencourse.diffusion.ddim import ddim_sample, ddim_step, ddim_timesteps
from gencourse.diffusion.ddpm import DDPM, VARIANCES, load_pretrained_ddpm
from gencourse.diffusion.elbo import (
    DECODERS,
    bits_per_dim,
    continuous_gaussian_log_likelihood,
    discretized_gaussian_log_likelihood,
    elbo_terms,
    nll_bound,
)
from gencourse.diffusion.networks import DENOISERS, MLPDenoiser, UNet, timestep_embedding
from gencourse.diffusion.schedules import SCHEDULES, cosine_alpha_bar, cosine_schedule, linear_schedule, make_schedule

__all__ = [
    "DDPM",
    "DECODERS",
    "DENOISERS",
    "MLPDenoiser",
    "SCHEDULES",
    "UNet",
    "VARIANCES",
    "bits_per_dim",
    "cosine_alpha_bar",
    "cosine_schedule",
    "ddim_sample",
    "ddim_step",
    "ddim_timesteps",
    "discretized_gaussian_log_likelihood",
    "elbo_terms",
    "continuous_gaussian_log_likelihood",
    "linear_schedule",
    "load_pretrained_ddpm",
    "make_schedule",
    "nll_bound",
    "timestep_embedding",
]
