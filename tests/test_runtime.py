"""Run set-up: profiles, budgets, devices and seeding."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from gencourse.runtime import PROFILE_ENV, Profile, budget, get_device, get_profile, seed_everything, setup


def test_profile_from_environment(monkeypatch):
    monkeypatch.setenv(PROFILE_ENV, "smoke")
    assert get_profile() is Profile.SMOKE
    monkeypatch.setenv(PROFILE_ENV, " GPU ")
    assert get_profile() is Profile.GPU


def test_parameter_overrides_environment(monkeypatch):
    monkeypatch.setenv(PROFILE_ENV, "smoke")
    assert get_profile("cpu") is Profile.CPU
    # papermill parameters left empty fall through to the environment
    assert get_profile("") is Profile.SMOKE
    assert get_profile(None) is Profile.SMOKE


def test_default_profile_follows_cuda(monkeypatch):
    monkeypatch.delenv(PROFILE_ENV, raising=False)
    expected = Profile.GPU if torch.cuda.is_available() else Profile.CPU
    assert get_profile() is expected
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert get_profile() is Profile.GPU


def test_unknown_profile_names_the_choices(monkeypatch):
    monkeypatch.setenv(PROFILE_ENV, "fast")
    with pytest.raises(ValueError, match=r"'fast'.*GENCOURSE_PROFILE.*'smoke', 'cpu', 'gpu'"):
        get_profile()


def test_budget_picks_the_profile_value():
    assert budget("smoke", smoke=1, cpu=2, gpu=3) == 1
    assert budget(Profile.GPU, smoke=1, cpu=2, gpu=3) == 3
    assert setup("cpu", verbose=False).budget(smoke=1, cpu=2, gpu=3) == 2


def test_device_choice(monkeypatch):
    monkeypatch.delenv("GENCOURSE_DEVICE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert get_device() == torch.device("cpu")
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert get_device() == torch.device("mps")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert get_device() == torch.device("cuda")


def test_unavailable_device_is_an_error_not_a_fallback(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        get_device("cuda")
    monkeypatch.setenv("GENCOURSE_DEVICE", "cpu")
    assert get_device() == torch.device("cpu")


def test_seeding_makes_every_generator_repeat():
    def draw():
        return random.random(), np.random.rand(), torch.rand(()).item()

    seed_everything(123)
    first = draw()
    seed_everything(123)
    assert draw() == first
    seed_everything(124)
    assert draw() != first


@pytest.mark.parametrize("bad", [-1, 1.5, "0"])
def test_bad_seed(bad):
    with pytest.raises(ValueError, match="seed"):
        seed_everything(bad)
