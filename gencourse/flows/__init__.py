"""Chapter 7, normalizing flows: change of variables, planar flows, affine couplings, bits per dimension."""

from gencourse.flows.base import Bijection, Chain, Flow, standard_normal_log_prob
from gencourse.flows.coupling import (
    ActNorm,
    AffineCoupling,
    CouplingFlow,
    alternating_masks,
    channel_mask,
    checkerboard_mask,
)
from gencourse.flows.images import ImageFlow, LogitTransform, Squeeze, bits_per_dim, evaluate_bits_per_dim
from gencourse.flows.planar import ENERGIES, PlanarFlow, PlanarLayer

__all__ = [
    "ENERGIES",
    "PlanarFlow",
    "PlanarLayer",
    "ActNorm",
    "AffineCoupling",
    "Bijection",
    "Chain",
    "CouplingFlow",
    "Flow",
    "ImageFlow",
    "LogitTransform",
    "Squeeze",
    "alternating_masks",
    "bits_per_dim",
    "channel_mask",
    "checkerboard_mask",
    "standard_normal_log_prob",
    "evaluate_bits_per_dim",
]
