"""Shared test set-up: float64 by default where a test asks for it, and quiet plotting."""

from __future__ import annotations

import matplotlib
import pytest
import torch

matplotlib.use("Agg")


@pytest.fixture
def float64():
    """Run the test with float64 as torch's default dtype, restoring the previous default afterwards."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(previous)


@pytest.fixture
def generator() -> torch.Generator:
    return torch.Generator().manual_seed(0)
