"""Networks: building blocks that know nothing about the objective they are trained with."""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn


def mlp(
    sizes: Sequence[int], activation: type[nn.Module] = nn.ReLU, final_activation: nn.Module | None = None
) -> nn.Sequential:
    """A multi-layer perceptron ``sizes[0] -> sizes[1] -> ... -> sizes[-1]`` with ``activation`` between layers.

    No activation follows the last layer unless ``final_activation`` is given: most outputs
    of this course are logits, means or log-variances.
    """
    if len(sizes) < 2:
        raise ValueError(f"an MLP needs at least an input and an output size, got {list(sizes)}")
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(activation())
    if final_activation is not None:
        layers.append(final_activation)
    return nn.Sequential(*layers)
