"""Assertions for exercise tests that tell a student what went wrong.

otter-grader shows the message of the exception a test raises. These helpers make that
message say which check failed, what was expected against what was got, and a hint:

    AssertionError: gmm_log_likelihood on one Gaussian: expected -2.8379, got -3.2568.
    Hint: the log-density of N(mu, Sigma) has the term -1/2 log det(2 pi Sigma).
"""

from __future__ import annotations

from typing import Any, NoReturn

import torch


def _describe(value: Any) -> str:
    if isinstance(value, torch.Tensor):
        if value.numel() <= 6:
            return f"tensor({[round(v, 6) for v in value.detach().flatten().tolist()]}, shape {tuple(value.shape)})"
        return f"a tensor of shape {tuple(value.shape)} and dtype {value.dtype}"
    return repr(value)


def _fail(check: str, message: str, hint: str | None) -> NoReturn:
    text = f"{check}: {message}"
    if hint:
        text += f"\nHint: {hint}"
    raise AssertionError(text)


def answered(check: str, value: Any, hint: str | None = None) -> None:
    """Fail with a clear message if ``value`` is still the ``...`` placeholder or ``None``."""
    if value is None or value is Ellipsis:
        _fail(check, f"got {value!r}: the answer is not written yet (replace the `...` with your code)", hint)


def to_tensor(check: str, value: Any, hint: str | None = None) -> torch.Tensor:
    """``value`` as a float64 tensor, or a clear failure saying what it was instead."""
    answered(check, value, hint)
    if isinstance(value, torch.Tensor):
        return value.detach().to(torch.float64)
    try:
        return torch.as_tensor(value, dtype=torch.float64)
    except (TypeError, ValueError, RuntimeError):
        _fail(check, f"expected a number or a tensor, got {type(value).__name__}: {value!r}", hint)


def close(check: str, got: Any, expected: Any, hint: str | None = None, rtol: float = 1e-6,
          atol: float = 1e-8) -> None:
    """Fail unless ``got`` equals ``expected`` (same shape, values within tolerance)."""
    expected_t = torch.as_tensor(expected, dtype=torch.float64)
    got_t = to_tensor(check, got, hint)
    if got_t.shape != expected_t.shape:
        _fail(check, f"expected shape {tuple(expected_t.shape)}, got shape {tuple(got_t.shape)}", hint)
    if not torch.isfinite(got_t).all():
        _fail(check, f"expected finite values {_describe(expected_t)}, got {_describe(got_t)}", hint)
    if not torch.allclose(got_t, expected_t, rtol=rtol, atol=atol):
        worst = (got_t - expected_t).abs().flatten().argmax().item()
        _fail(check, f"expected {_describe(expected_t)}, got {_describe(got_t)} "
              f"(largest difference at flat index {worst}: expected {expected_t.flatten()[worst].item():.6g}, "
              f"got {got_t.flatten()[worst].item():.6g})", hint)


def equal(check: str, got: Any, expected: Any, hint: str | None = None) -> None:
    """Fail unless ``got == expected`` exactly (integers, strings, tuples)."""
    answered(check, got, hint)
    if got != expected:
        _fail(check, f"expected {expected!r}, got {got!r}", hint)

