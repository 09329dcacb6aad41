"""Chapter 2, divergences and variational inference: Gaussian KLs, mean-field fits, the ELBO gap, gradients."""

from gencourse.vi.divergences import (
    fit_gaussian_1d,
    fit_mean_field,
    gaussian_kl_full,
    kl_on_grid,
    mean_field_forward_kl,
    mean_field_reverse_kl,
)
from gencourse.vi.gaussian import gaussian_kl, log_normal_diag, log_standard_normal, reparameterize
from gencourse.vi.gradients import gaussian_score, reparameterization_gradient, score_function_gradient
from gencourse.vi.linear_gaussian import linear_gaussian_elbo, linear_gaussian_log_joint

__all__ = [
    "fit_gaussian_1d",
    "fit_mean_field",
    "gaussian_kl",
    "gaussian_kl_full",
    "gaussian_score",
    "kl_on_grid",
    "linear_gaussian_elbo",
    "linear_gaussian_log_joint",
    "log_normal_diag",
    "log_standard_normal",
    "mean_field_forward_kl",
    "mean_field_reverse_kl",
    "reparameterization_gradient",
    "reparameterize",
    "score_function_gradient",
]
