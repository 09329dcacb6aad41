r"""The GAN as a model: a generator and a discriminator playing the game of (eq:gan-value).

The model wraps two networks, ``generator`` and ``discriminator``, as named submodules so
that a notebook builds one optimiser per part in plain sight::

    opt_d = torch.optim.Adam(gan.discriminator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_g = torch.optim.Adam(gan.generator.parameters(), lr=2e-4, betas=(0.5, 0.999))

    d = gan.discriminator_loss(x)          # (eq:gan-d-loss); the fakes are detached
    opt_d.zero_grad(); d["loss"].backward(); opt_d.step()
    g = gan.generator_loss(x)              # (eq:gan-g-ns) or (eq:gan-g-minimax)
    opt_g.zero_grad(); g["loss"].backward(); opt_g.step()

``generator_loss`` back-propagates into the discriminator's parameters too (they are on the
path); only ``opt_g`` steps, and ``opt_d.zero_grad()`` clears them before the next
discriminator step. ``x`` is passed to ``generator_loss`` only for its batch size and device
(and, for a conditional GAN, its labels).

A *conditional* GAN (Mirza & Osindero, 2014) passes labels ``y`` to both networks, as the
conditional VAE of chapter 3 does: ``discriminator_loss(x, y)``, ``generator_loss(x, y)``, and
``sample(n, y)`` draws digits of chosen classes.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from gencourse.gan.losses import GENERATOR_LOSSES, discriminator_loss
from gencourse.gan.networks import DCGANDiscriminator, DCGANGenerator, MLPDiscriminator, MLPGenerator

CODE_SCALE = 3.0  # the length of the one-hot code in the generator's input, against |z| ~ sqrt(latent_dim)


class AdversarialModel(nn.Module):
    """What every adversarial model of the course shares: a generator of ``z ~ N(0, I)``, ``sample``, labels.

    Subclasses build ``self.generator`` and a second network and define the two losses. With
    ``n_codes > 0`` the latent also holds a discrete code ``c``, uniform on ``n_codes`` values and
    unrelated to any label (:meth:`prior`), so that the latent space has ``n_codes`` separate
    pieces (chapter 4, "Why unconditional samples fall between classes").
    """

    latent_dim: int
    n_classes: int
    n_codes: int = 0
    generator: nn.Module
    _config: dict[str, Any]

    @property
    def config(self) -> dict[str, Any]:
        """The keyword arguments that rebuild this model (JSON-friendly)."""
        return dict(self._config)

    def _device(self) -> torch.device:
        return next(self.parameters()).device

    def _build(self, architecture: str, latent_dim: int, data_dim: int, hidden: tuple[int, ...] | list[int],
               width: int, n_classes: int, discriminator_norm: str, n_codes: int) -> None:
        """Set the latent's sizes and build the two networks; the generator reads ``z`` and the code together."""
        if not isinstance(n_codes, int) or n_codes < 0 or n_codes == 1:
            raise ValueError(f"n_codes must be 0 (no discrete code) or an integer of at least 2, got {n_codes!r}")
        self.latent_dim, self.n_classes, self.n_codes = latent_dim, n_classes, n_codes
        self.generator, self.discriminator = build_networks(architecture, latent_dim + n_codes, data_dim, hidden,
                                                            width, n_classes, discriminator_norm)

    def prior(self, n: int, codes: torch.Tensor | None = None) -> torch.Tensor:
        """``n`` latents ``z ~ N(0, I)``: ``(n, latent_dim)`` on the model's device, in its dtype.

        With ``n_codes > 0``, each latent is followed by ``CODE_SCALE`` times the one-hot vector of
        a code ``c`` drawn uniformly from ``n_codes`` values, or taken from ``codes`` (shape
        ``(n,)``) to choose them: ``(n, latent_dim + n_codes)``.
        """
        p = next(self.parameters())
        z = torch.randn(n, self.latent_dim, device=p.device, dtype=p.dtype)
        if not self.n_codes:
            if codes is not None:
                raise ValueError("this model has no discrete code (n_codes=0), so codes cannot be chosen")
            return z
        if codes is None:
            codes = torch.randint(self.n_codes, (n,), device=p.device)
        elif codes.shape != (n,) or (n and not 0 <= int(codes.min()) <= int(codes.max()) < self.n_codes):
            raise ValueError(f"codes must be a tensor of shape ({n},) with values in 0..{self.n_codes - 1}")
        return torch.cat([z, CODE_SCALE * F.one_hot(codes.to(p.device), self.n_codes).to(p.dtype)], dim=1)

    def fake(self, n: int, y: torch.Tensor | None = None) -> torch.Tensor:
        """``G(z, y)`` for ``n`` fresh latents, with gradients (for the losses)."""
        if self.n_classes and y is None:
            raise ValueError("a conditional model needs labels y")
        return self.generator(self.prior(n), y)

    @torch.no_grad()
    def sample(self, n: int, y: torch.Tensor | None = None) -> torch.Tensor:
        """``n`` samples ``G(z)`` drawn in eval mode (batch-norm running statistics); ``y`` defaults to uniform."""
        if self.n_classes and y is None:
            y = torch.randint(self.n_classes, (n,), device=self._device())
        was_training = self.training
        self.eval()
        x = self.generator(self.prior(n), y)
        self.train(was_training)
        return x


class GAN(AdversarialModel):
    r"""A GAN with the loss of Goodfellow et al. (2014) on logits; ``generator_objective`` picks the generator's loss.

    ``architecture="mlp"`` builds MLPs for ``data_dim``-dimensional vectors (1-D and 2-D
    toy data); ``architecture="dcgan"`` builds the DCGAN networks for ``(1, 28, 28)`` images in
    [-1, 1]. ``n_classes > 0`` (DCGAN only) makes the GAN class-conditional; ``n_codes > 0`` adds
    a discrete code to the latent (:meth:`AdversarialModel.prior`), which no label ever informs.
    """

    def __init__(self, architecture: str = "mlp", latent_dim: int = 2, data_dim: int = 2,
                 hidden: tuple[int, ...] | list[int] = (128, 128), width: int = 32, n_classes: int = 0,
                 generator_objective: str = "non_saturating", discriminator_norm: str = "batch",
                 n_codes: int = 0) -> None:
        super().__init__()
        if generator_objective not in GENERATOR_LOSSES:
            raise ValueError(f"generator_objective must be one of {sorted(GENERATOR_LOSSES)}, "
                             f"got {generator_objective!r}")
        self._config = {"architecture": architecture, "latent_dim": latent_dim, "data_dim": data_dim,
                        "hidden": list(hidden), "width": width, "n_classes": n_classes,
                        "generator_objective": generator_objective, "discriminator_norm": discriminator_norm,
                        "n_codes": n_codes}
        self.generator_objective = generator_objective
        self._build(architecture, latent_dim, data_dim, hidden, width, n_classes, discriminator_norm, n_codes)

    def discriminator_loss(self, x: torch.Tensor, y: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """``{"loss": (eq:gan-d-loss), "D_real", "D_fake"}``: the loss and the mean ``D(x)`` on real and fake points."""
        x_fake = self.fake(len(x), y).detach()  # the generator is fixed during the discriminator's step
        d_real, d_fake = self.discriminator(x, y), self.discriminator(x_fake, y)  # logits, (B,)
        loss = discriminator_loss(d_real, d_fake)  # (eq:gan-d-loss)
        return {"loss": loss, "D_real": torch.sigmoid(d_real).mean().detach(),
                "D_fake": torch.sigmoid(d_fake).mean().detach()}

    def generator_loss(self, x: torch.Tensor, y: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """``{"loss": (eq:gan-g-ns) or (eq:gan-g-minimax), "D_fake"}`` for as many fresh fakes as ``x`` has rows."""
        d_fake = self.discriminator(self.fake(len(x), y), y)
        loss = GENERATOR_LOSSES[self.generator_objective](d_fake)
        return {"loss": loss, "D_fake": torch.sigmoid(d_fake).mean().detach()}


def build_networks(architecture: str, latent_dim: int, data_dim: int, hidden: tuple[int, ...] | list[int],
                   width: int, n_classes: int, discriminator_norm: str) -> tuple[nn.Module, nn.Module]:
    """The ``(generator, discriminator)`` pair for "mlp" or "dcgan"; ``latent_dim`` is the generator's input size."""
    if architecture == "mlp":
        if n_classes:
            raise ValueError("the MLP networks are unconditional; use architecture='dcgan' for a conditional GAN")
        return MLPGenerator(latent_dim, data_dim, hidden), MLPDiscriminator(data_dim, hidden)
    if architecture == "dcgan":
        return (DCGANGenerator(latent_dim, width, n_classes),
                DCGANDiscriminator(width, discriminator_norm, n_classes))
    raise ValueError(f"architecture must be 'mlp' or 'dcgan', got {architecture!r}")


# The shipped MNIST generator checkpoints (scripts/train_gan_mnist.py writes them).
MNIST_GENERATORS = ("ch04_dcgan", "ch04_dcgan_codes", "ch04_conditional_dcgan", "ch05_wgan_gp", "ch05_wgan_gp_codes")


def load_pretrained_gan(name: str, device: str | torch.device = "cpu") -> AdversarialModel:
    """A shipped GAN or WGAN checkpoint (only the generator's weights are shipped), in eval mode on ``device``."""
    from gencourse.pretrained import load_pretrained, read_sidecar

    config = read_sidecar(name)["config"]
    if "lipschitz" in config:  # a Wasserstein GAN (chapter 5)
        from gencourse.wgan import WGAN

        gan: AdversarialModel = WGAN(**config)
    else:
        gan = GAN(**config)
    load_pretrained(name, gan.generator)
    return gan.to(device).eval()
