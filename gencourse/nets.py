"""Networks: building blocks that know nothing about the objective they are trained with."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from torch import nn


@contextmanager
def eval_mode(module: nn.Module) -> Iterator[nn.Module]:
    """``with eval_mode(model):`` the model in eval mode, back in its own mode afterwards, even after an error."""
    was_training = module.training
    module.eval()
    try:
        yield module
    finally:
        module.train(was_training)


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


def conv_encoder(channels: Sequence[int] = (32, 64), in_channels: int = 1) -> nn.Sequential:
    """Strided convolutions ``(B, C, H, W) -> (B, channels[-1] * H/2^L * W/2^L)``, each halving the side.

    Each layer is a 4x4 convolution with stride 2 and padding 1 followed by ``ReLU``; the
    output is flattened, ready for a linear head. ``H`` and ``W`` must be divisible by ``2^L``
    (``L = len(channels)``): 28 -> 14 -> 7 for MNIST with two layers.
    """
    layers: list[nn.Module] = []
    for n_in, n_out in zip([in_channels, *channels[:-1]], channels, strict=True):
        layers += [nn.Conv2d(n_in, n_out, kernel_size=4, stride=2, padding=1), nn.ReLU()]
    layers.append(nn.Flatten())
    return nn.Sequential(*layers)


def conv_decoder(in_features: int, channels: Sequence[int] = (64, 32), out_channels: int = 1,
                 side: int = 7) -> nn.Sequential:
    """The mirror of :func:`conv_encoder`: ``(B, in_features) -> (B, out_channels, side * 2^L, side * 2^L)``.

    A linear layer makes a ``channels[0] x side x side`` feature map; each transposed 4x4
    convolution with stride 2 doubles its side. No activation follows the last layer (its
    outputs are logits or means).
    """
    layers: list[nn.Module] = [nn.Linear(in_features, channels[0] * side * side), nn.ReLU(),
                               nn.Unflatten(1, (channels[0], side, side))]  # (B, channels[0], side, side)
    outs = [*channels[1:], out_channels]
    for i, (n_in, n_out) in enumerate(zip(channels, outs, strict=True)):
        layers.append(nn.ConvTranspose2d(n_in, n_out, kernel_size=4, stride=2, padding=1))
        if i < len(outs) - 1:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)
