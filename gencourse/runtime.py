"""Run set-up shared by every notebook: device, seeding and the compute profile.

A *profile* is the compute budget a notebook runs with:

- ``smoke``: seconds per notebook, for CI and for a maintainer's quick check;
- ``cpu``: minutes on a laptop;
- ``gpu``: the full budget, on Colab or any CUDA machine.

It is read from the ``GENCOURSE_PROFILE`` environment variable unless a notebook's papermill
``parameters`` cell overrides it, so one switch works for papermill, nbval, the book build
and Colab. The default is ``gpu`` where CUDA is present and ``cpu`` elsewhere.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from enum import Enum
from typing import TypeVar

import numpy as np
import torch

PROFILE_ENV = "GENCOURSE_PROFILE"
DEVICE_ENV = "GENCOURSE_DEVICE"

T = TypeVar("T")


class Profile(str, Enum):
    """The three compute budgets a notebook can run with."""

    SMOKE = "smoke"
    CPU = "cpu"
    GPU = "gpu"

    def __str__(self) -> str:
        return self.value


def get_profile(override: str | Profile | None = None) -> Profile:
    """The compute profile: ``override`` if given, else ``$GENCOURSE_PROFILE``, else the default.

    An empty string counts as "not given", so a papermill parameter left at ``""`` or
    ``None`` falls through to the environment variable.
    """
    value = override if override not in (None, "") else os.environ.get(PROFILE_ENV, "")
    if value in (None, ""):
        return Profile.GPU if torch.cuda.is_available() else Profile.CPU
    try:
        return Profile(str(value).strip().lower())
    except ValueError:
        choices = ", ".join(repr(p.value) for p in Profile)
        source = "the PROFILE parameter" if override not in (None, "") else f"${PROFILE_ENV}"
        raise ValueError(
            f"unknown compute profile {value!r} (from {source}); choose one of {choices}"
        ) from None


def budget(profile: str | Profile, *, smoke: T, cpu: T, gpu: T) -> T:
    """Pick the value that belongs to ``profile``: ``budget(p, smoke=200, cpu=5_000, gpu=50_000)``."""
    return {Profile.SMOKE: smoke, Profile.CPU: cpu, Profile.GPU: gpu}[get_profile(profile)]


def get_device(prefer: str | torch.device | None = None) -> torch.device:
    """The device to compute on: ``prefer`` or ``$GENCOURSE_DEVICE`` if set, else CUDA, Apple MPS, CPU.

    Asking for a device that is not available raises an error rather than silently falling
    back, so that a run never reports CPU timings as GPU ones.
    """
    name = prefer if prefer not in (None, "") else os.environ.get(DEVICE_ENV, "")
    if name in (None, ""):
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(
            f"device {name!r} was asked for but CUDA is not available; "
            f"unset {DEVICE_ENV} or pass device='cpu'"
        )
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise RuntimeError(
            f"device {name!r} was asked for but Apple MPS is not available; "
            f"unset {DEVICE_ENV} or pass device='cpu'"
        )
    return device


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's and PyTorch's (CPU and CUDA) global random-number generators."""
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)  # also seeds every CUDA device


@dataclass(frozen=True)
class Run:
    """What a notebook runs with: its profile, device and seed."""

    profile: Profile
    device: torch.device
    seed: int

    def budget(self, *, smoke: T, cpu: T, gpu: T) -> T:
        """``budget(self.profile, ...)``: the value for this run's profile."""
        return budget(self.profile, smoke=smoke, cpu=cpu, gpu=gpu)


def setup(
    profile: str | Profile | None = None,
    seed: int = 0,
    device: str | torch.device | None = None,
    verbose: bool = True,
) -> Run:
    """Choose the profile and device, seed every generator, and say what was chosen."""
    run = Run(profile=get_profile(profile), device=get_device(device), seed=seed)
    seed_everything(seed)
    if verbose:
        print(f"gencourse: profile={run.profile}, device={run.device}, seed={run.seed}")
    return run
