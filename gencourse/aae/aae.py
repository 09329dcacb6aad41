r"""The adversarial auto-encoder (Makhzani et al., 2016): an auto-encoder whose codes are made to look like the prior.

An encoder :math:`q_\phi(z \mid x)` and a decoder :math:`p_\theta(x \mid z)`, as in a VAE, but
the regulariser is not a KL divergence per example: it is a GAN played on *codes*. Its
"data" are samples of the prior :math:`p(z)` and its "generator" is the encoder, whose codes of
the training images are samples of the **aggregated posterior** (eq:aggregated-posterior)

.. math::

    q_\phi(z) = \int q_\phi(z \mid x)\, p_{\mathrm{data}}(x)\, dx .

Each mini-batch is used in two phases:

1. *reconstruction*: encoder and decoder minimise :math:`-\mathbb{E}_{q_\phi(z \mid x)} \log p_\theta(x \mid z)`
   (eq:aae-reconstruction);
2. *regularisation*: the discriminator :math:`d_\psi(z)` learns to tell prior samples (label 1)
   from codes (label 0) with the logistic loss (eq:aae-discriminator), then the encoder learns
   to fool it, minimising :math:`-\mathbb{E}_{x} \log \sigma(d_\psi(z_\phi(x)))` (eq:aae-generator,
   the non-saturating loss of chapter 4).

At the game's equilibrium :math:`q_\phi(z) = p(z)`: the decoder, fed prior samples, then sees
the codes it was trained on, and ``sample(n)`` decodes them. Nothing asks :math:`q_\phi(z \mid x)`
to approximate the posterior; only the aggregate is matched, so the prior needs no density
(:class:`gencourse.aae.SwissRollPrior`) and the encoder may be deterministic.

Parts as named submodules, one optimiser each in plain sight (:func:`gencourse.aae.aae_step`)::

    opt_ae = torch.optim.Adam([*aae.encoder.parameters(), *aae.decoder.parameters()])
    opt_d = torch.optim.Adam(aae.discriminator.parameters())
    opt_g = torch.optim.Adam(aae.encoder.parameters())
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from gencourse.aae.priors import Prior, make_prior
from gencourse.gan.losses import discriminator_loss, generator_loss_non_saturating
from gencourse.gan.networks import MLPDiscriminator
from gencourse.metrics.mmd import MMDTest, mmd_test
from gencourse.nets import eval_mode, mlp
from gencourse.vae.likelihoods import bernoulli_log_likelihood
from gencourse.vi.gaussian import reparameterize

ENCODERS = ("deterministic", "gaussian")


class AAE(nn.Module):
    """An MLP adversarial auto-encoder for images in [0, 1] with Bernoulli logits out.

    ``encoder="deterministic"`` maps ``x`` to one code ``z = E_phi(x)``; ``encoder="gaussian"``
    outputs ``(mu, log_var)`` and codes are the reparameterised samples ``z = mu + sigma * eps``.
    ``prior`` names the prior over codes (:func:`gencourse.aae.make_prior`) and ``prior_options``
    its keyword arguments. The discriminator is an MLP on codes with LeakyReLU layers
    (:class:`gencourse.gan.MLPDiscriminator`).

    Shapes: images ``(B, *image_shape)``, codes ``(B, latent_dim)``, decoder logits ``(B, D)``.
    """

    def __init__(self, image_shape: Sequence[int] = (1, 28, 28), latent_dim: int = 8,
                 hidden: Sequence[int] = (400, 400), discriminator_hidden: Sequence[int] = (256, 256),
                 encoder: str = "deterministic", prior: str = "mixture",
                 prior_options: dict[str, Any] | None = None) -> None:
        super().__init__()
        if encoder not in ENCODERS:
            raise ValueError(f"encoder must be one of {ENCODERS}, got {encoder!r}")
        self.image_shape = tuple(int(s) for s in image_shape)
        self.latent_dim = int(latent_dim)
        self.hidden = tuple(int(h) for h in hidden)
        self.discriminator_hidden = tuple(int(h) for h in discriminator_hidden)
        self.encoder_kind = encoder
        self.prior: Prior = make_prior(prior, self.latent_dim, **(prior_options or {}))
        D, d = math.prod(self.image_shape), self.latent_dim
        self.encoder = mlp([D, *self.hidden, 2 * d if encoder == "gaussian" else d])
        self.decoder = mlp([d, *reversed(self.hidden), D])  # Bernoulli logits
        self.discriminator = MLPDiscriminator(d, self.discriminator_hidden)  # d_psi(z): a logit per code

    @property
    def config(self) -> dict[str, Any]:
        """The keyword arguments that rebuild this model (JSON-friendly)."""
        prior = self.prior.config
        return {"image_shape": list(self.image_shape), "latent_dim": self.latent_dim, "hidden": list(self.hidden),
                "discriminator_hidden": list(self.discriminator_hidden), "encoder": self.encoder_kind,
                "prior": prior.pop("name"), "prior_options": prior}

    def _check(self, x: torch.Tensor) -> torch.Tensor:
        if tuple(x.shape[1:]) != self.image_shape:
            raise ValueError(f"images must have shape (B, {', '.join(map(str, self.image_shape))}), "
                             f"got {tuple(x.shape)}")
        return x.flatten(1)  # (B, D)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        r"""Codes ``z ~ q_phi(z | x)``: ``(B, latent_dim)``; over a data set, samples of ``q_phi(z)``."""
        h = self.encoder(self._check(x))
        if self.encoder_kind == "deterministic":
            return h
        mu, log_var = h.chunk(2, dim=1)
        return reparameterize(mu, log_var)  # (eq:reparameterization)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """The decoder's Bernoulli logits for codes ``(B, latent_dim)``: ``(B, D)``."""
        return self.decoder(z)

    def prior_sample(self, n: int) -> torch.Tensor:
        """``n`` codes ``z ~ p(z)`` on the model's device, in its dtype."""
        p = next(self.parameters())
        return self.prior.sample(n, device=p.device, dtype=p.dtype)

    def reconstruction_loss(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """``{"loss": -log p(x | z) per image, z ~ q(z | x)}``, nats per image (eq:aae-reconstruction)."""
        x_logits = self.decode(self.encode(x))
        recon = -bernoulli_log_likelihood(x_logits, self._check(x)).mean()  # (eq:aae-reconstruction)
        return {"loss": recon}

    def discriminator_loss(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """``{"loss", "D_prior", "D_codes"}``: the logistic loss of prior samples (1) against codes (0).

        The codes are detached: the encoder is fixed during the discriminator's step.
        """
        z_q = self.encode(x).detach()  # samples of the aggregated posterior q(z)  (eq:aggregated-posterior)
        z_p = self.prior_sample(len(x))
        d_prior, d_codes = self.discriminator(z_p), self.discriminator(z_q)  # logits, (B,)
        loss = discriminator_loss(d_prior, d_codes)  # (eq:aae-discriminator)
        return {"loss": loss, "D_prior": torch.sigmoid(d_prior).mean().detach(),
                "D_codes": torch.sigmoid(d_codes).mean().detach()}

    def generator_loss(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """``{"loss", "D_codes"}``: the encoder's non-saturating loss for fooling the discriminator."""
        d_codes = self.discriminator(self.encode(x))
        loss = generator_loss_non_saturating(d_codes)  # (eq:aae-generator)
        return {"loss": loss, "D_codes": torch.sigmoid(d_codes).mean().detach()}

    def mean_image(self, x_logits: torch.Tensor) -> torch.Tensor:
        """``E[x | z]`` as images ``(B, *image_shape)`` in [0, 1] from logits ``(B, D)``."""
        return torch.sigmoid(x_logits).view(-1, *self.image_shape)

    @torch.no_grad()
    def codes(self, x: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
        """The codes of a data set ``x`` in eval mode, ``batch_size`` images at a time: ``(N, latent_dim)``."""
        with eval_mode(self):
            return torch.cat([self.encode(b) for b in x.split(batch_size)])

    @torch.no_grad()
    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """The decoder's mean image at the codes of ``x``: ``(B, *image_shape)``."""
        return self.mean_image(self.decode(self.encode(x)))

    @torch.no_grad()
    def sample(self, n: int) -> torch.Tensor:
        """``n`` images ``E[x | z]`` with ``z ~ p(z)``: ``(n, *image_shape)`` in [0, 1] (the decoder's mean)."""
        return self.mean_image(self.decode(self.prior_sample(n)))

    def autoencoder(self) -> nn.ModuleDict:
        """The encoder and decoder together: the part a shipped checkpoint holds (sampling needs no discriminator)."""
        return nn.ModuleDict({"encoder": self.encoder, "decoder": self.decoder})

    def extra_repr(self) -> str:
        return f"latent_dim={self.latent_dim}, encoder={self.encoder_kind!r}, prior={self.prior!r}"


def aggregated_posterior_test(model: AAE, x: torch.Tensor, n: int = 2000, seed: int = 0,
                              permutations: int = 1000) -> MMDTest:
    """Does ``q(z)`` match ``p(z)``? The MMD test of the codes of ``n`` images of ``x`` against ``n`` prior samples.

    The images are a random subset of ``x`` and the prior samples are drawn from one
    ``torch.Generator`` seeded with ``seed``, which also seeds the permutations, so the result is
    reproducible (:func:`gencourse.metrics.mmd_test`: Gaussian kernel, median-heuristic bandwidth).
    """
    if not 2 <= n <= len(x):
        raise ValueError(f"n must lie between 2 and the number of images {len(x)}, got {n}")
    generator = torch.Generator().manual_seed(seed)
    subset = torch.randperm(len(x), generator=generator)[:n]
    z_prior = model.prior.sample(n, generator=generator)  # drawn on the CPU, so the seed fixes it anywhere
    device = next(model.parameters()).device
    codes = model.codes(x[subset].to(device))
    return mmd_test(codes, z_prior.to(device=device, dtype=codes.dtype), permutations=permutations, seed=seed)


def load_pretrained_aae(name: str = "ch06_aae", device: str | torch.device = "cpu") -> AAE:
    """A shipped AAE checkpoint in eval mode on ``device``: its encoder and decoder (no discriminator is shipped)."""
    from gencourse.pretrained import build_pretrained

    return build_pretrained(name, AAE, part=lambda model: model.autoencoder(), device=device)
