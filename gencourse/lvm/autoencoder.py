r"""A deterministic auto-encoder: a non-linear generalisation of PCA.

An encoder :math:`f_\phi: \mathbb{R}^D \to \mathbb{R}^d` and a decoder
:math:`g_\theta: \mathbb{R}^d \to \mathbb{R}^D` are trained to make :math:`g_\theta(f_\phi(x))`
close to :math:`x`. With a linear encoder and decoder and the squared error, the optimum
spans the top-:math:`d` principal subspace (Baldi & Hornik, 1989); with deeper networks the
code can follow a curved manifold (Hinton & Salakhutdinov, 2006).

The reconstruction loss here is the binary cross-entropy between the decoder's logits and
the (binarised) image, summed over pixels and averaged over the batch  (eq:ae-loss):

.. math::

    \mathcal{L}_{\mathrm{AE}}(\theta, \phi) = \frac1B \sum_{n=1}^{B} \sum_{i=1}^{D}
    -\big[x_{ni} \log \sigma(\ell_{ni}) + (1 - x_{ni}) \log (1 - \sigma(\ell_{ni}))\big],
    \qquad \ell_n = g_\theta(f_\phi(x_n)).

Why cross-entropy rather than the squared error: on binarised MNIST it is the negative
log-likelihood of a Bernoulli decoder :math:`p_\theta(x \mid z)`, the very term that chapter 3's
VAE uses, so the two chapters' reconstruction numbers are in the same unit (nats per image).
Summing over pixels (not averaging) keeps that unit.

There is no ``sample``: a plain auto-encoder has no prior :math:`p(z)` over codes, so nothing
says which codes to decode. Codes drawn from an arbitrary distribution land in regions the
encoder never produced, and the decoder's output there is unconstrained. Chapter 3 fixes
this by adding a prior and training the encoder as an approximate posterior (the VAE).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from gencourse.data import binarize
from gencourse.nets import mlp


def bernoulli_nll(x_logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    r"""``-log p(x | x_logits)`` of independent Bernoulli pixels, summed over pixels  (eq:ae-loss).

    Shapes: ``(B, D), (B, D) -> (B,)``.

    Since :math:`\log\sigma(\ell) = \ell - \operatorname{softplus}(\ell)` and
    :math:`\log(1 - \sigma(\ell)) = -\operatorname{softplus}(\ell)`, each pixel contributes
    :math:`-x\log\sigma(\ell) - (1 - x)\log(1 - \sigma(\ell)) = \operatorname{softplus}(\ell) - x\ell`
    (the binary cross-entropy on logits), whose gradient is :math:`\sigma(\ell) - x`.
    """
    return (softplus(x_logits) - x * x_logits).sum(1)  # (eq:ae-loss)


class _Softplus(torch.autograd.Function):
    r""":math:`\operatorname{softplus}(\ell) = \log(1 + e^{\ell}) = \max(\ell, 0) + \log(1 + e^{-|\ell|})`,
    with its derivative :math:`\sigma(\ell)` written out.

    The second form never overflows. Its pieces :math:`\max` and :math:`|\cdot|` have kinks at 0
    that cancel in the sum but not in autograd (which would give 0 or 1 there, not 1/2), hence the
    explicit backward. Written with ``log`` rather than ``log1p`` (the absolute error of
    :math:`\log(1 + e^{-|\ell|})` stays below one unit in the last place of 1): torch's own
    softplus and binary cross-entropy kernels use ``log1p``, which on the course's reference CPU
    makes them about three times slower than this (forward and backward on a batch of 128
    MNIST images), and the likelihood is a large part of a training step of the course's MLP
    models of binary images.
    """

    @staticmethod
    def forward(ctx, logits: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(logits)
        return logits.clamp(min=0) + torch.log(1 + torch.exp(-logits.abs()))

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        (logits,) = ctx.saved_tensors
        return grad * torch.sigmoid(logits)


def softplus(logits: torch.Tensor) -> torch.Tensor:
    r""":math:`\log(1 + e^{\ell})` elementwise, stable for every :math:`\ell`; differentiable (to any order)."""
    return _Softplus.apply(logits)


class Autoencoder(nn.Module):
    """An MLP auto-encoder ``D -> hidden -> code_dim -> reversed(hidden) -> D`` with Bernoulli logits out.

    All configuration is keyword arguments with defaults, so ``Autoencoder(**config)`` rebuilds
    a model from a checkpoint's sidecar. Images of shape ``(B, *image_shape)`` go in; codes are
    ``(B, code_dim)``; the decoder returns logits of shape ``(B, D)``.
    """

    def __init__(self, image_shape: Sequence[int] = (1, 28, 28), hidden: Sequence[int] = (256, 128),
                 code_dim: int = 2) -> None:
        super().__init__()
        self.image_shape = tuple(int(s) for s in image_shape)
        self.hidden = tuple(int(h) for h in hidden)
        self.code_dim = int(code_dim)
        D = math.prod(self.image_shape)
        self.encoder = mlp([D, *self.hidden, self.code_dim])
        self.decoder = mlp([self.code_dim, *reversed(self.hidden), D])

    @property
    def config(self) -> dict[str, object]:
        """The keyword arguments that rebuild this model (JSON-friendly)."""
        return {"image_shape": list(self.image_shape), "hidden": list(self.hidden), "code_dim": self.code_dim}

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """The code ``z = f(x)``: ``(B, *image_shape) -> (B, code_dim)``."""
        return self.encoder(x.flatten(1))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """The decoder's logits ``g(z)``: ``(B, code_dim) -> (B, D)``; their ``sigmoid`` is an image in [0, 1]."""
        return self.decoder(z)

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """``sigmoid(g(f(x)))`` reshaped to ``(B, *image_shape)``: the reconstruction as an image in [0, 1]."""
        return torch.sigmoid(self.decode(self.encode(x))).view(-1, *self.image_shape)

    def loss(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """``{"loss": the batch mean of the per-image cross-entropy, "recon": the same, detached}``  (eq:ae-loss)."""
        x = x.flatten(1)  # (B, D)
        x_logits = self.decode(self.encode(x))  # (B, D)
        loss = bernoulli_nll(x_logits, x).mean()  # (eq:ae-loss)
        return {"loss": loss, "recon": loss.detach()}

    def sample(self, n: int) -> torch.Tensor:
        """Not defined: an auto-encoder has no prior over codes (see the module docstring and chapter 3)."""
        raise NotImplementedError(
            "a deterministic auto-encoder is not a generative model: it has no prior p(z), so there is no "
            "distribution to draw codes from. Decode codes of your choice with decode(z), or use the VAE of "
            "chapter 3, which adds the prior."
        )


@torch.no_grad()
def reconstruction_nats(model: Autoencoder, x: torch.Tensor, seed: int = 0, batch_size: int = 1000) -> float:
    """Mean per-image cross-entropy (nats) of ``model`` on images ``x`` in [0, 1], binarised with ``seed``.

    The binarisation is drawn on the CPU from a generator seeded with ``seed``, so the figure is
    the same on every device: a shipped checkpoint's sidecar records it, and a test or a
    notebook recomputes it exactly.
    """
    x_bin = binarize(x.cpu(), generator=torch.Generator().manual_seed(seed))
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    total = sum(float(model.loss(b.to(device))["recon"]) * len(b) for b in x_bin.split(batch_size))
    model.train(was_training)
    return total / len(x_bin)
