r"""The Wasserstein GAN: the generator of chapter 4 against a critic kept 1-Lipschitz.

``lipschitz="clip"`` is the WGAN of Arjovsky et al. (2017): after each critic step the caller
clips the critic's weights with :meth:`WGAN.clip` (the optimiser's step is the caller's, so the
clipping is too; the notebook shows it). ``lipschitz="gp"`` is WGAN-GP (Gulrajani et al., 2017):
the critic's loss carries ``lambda * (eq:gradient-penalty)`` at interpolates
(eq:wgan-gp-interpolate). The discriminator network is reused as the critic: its output is a
score, not a logit. For WGAN-GP use ``discriminator_norm="none"`` or ``"layer"``: batch
normalisation makes each score depend on the rest of the batch, and the per-example gradient
penalty then means nothing.
"""

from __future__ import annotations

from typing import Any

import torch

from gencourse.gan.gan import AdversarialModel
from gencourse.wgan.critic import clip_weights, critic_loss, generator_loss_wasserstein, gradient_penalty, interpolates


class WGAN(AdversarialModel):
    """A WGAN with a weight-clipped critic (``lipschitz="clip"``) or a gradient penalty (``lipschitz="gp"``).

    The critic is the ``discriminator`` submodule (one name for the second player across the
    course's adversarial models); :attr:`critic` is an alias. ``n_codes`` adds a discrete code
    to the latent, as for :class:`gencourse.gan.GAN`.
    """

    def __init__(self, architecture: str = "mlp", latent_dim: int = 2, data_dim: int = 2,
                 hidden: tuple[int, ...] | list[int] = (128, 128), width: int = 32, n_classes: int = 0,
                 lipschitz: str = "gp", penalty: float = 10.0, clip: float = 0.01,
                 discriminator_norm: str = "none", n_codes: int = 0) -> None:
        super().__init__()
        if lipschitz not in ("gp", "clip"):
            raise ValueError(f"lipschitz must be 'gp' or 'clip', got {lipschitz!r}")
        self._config: dict[str, Any] = {
            "architecture": architecture, "latent_dim": latent_dim, "data_dim": data_dim, "hidden": list(hidden),
            "width": width, "n_classes": n_classes, "lipschitz": lipschitz, "penalty": penalty, "clip": clip,
            "discriminator_norm": discriminator_norm, "n_codes": n_codes}
        self.lipschitz, self.penalty, self.clip_value = lipschitz, penalty, clip
        self._build(architecture, latent_dim, data_dim, hidden, width, n_classes, discriminator_norm, n_codes)

    @property
    def critic(self) -> torch.nn.Module:
        return self.discriminator

    def discriminator_loss(self, x: torch.Tensor, y: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """``{"loss", "w1", "gp"}``: (eq:critic-loss) plus ``penalty * (eq:gradient-penalty)`` for WGAN-GP.

        ``w1`` is the critic's current estimate ``E f(x) - E f(G(z))`` (detached).
        """
        x_fake = self.fake(len(x), y).detach()
        f_real, f_fake = self.critic(x, y), self.critic(x_fake, y)
        loss = critic_loss(f_real, f_fake)  # (eq:critic-loss)
        out = {"w1": (f_real.mean() - f_fake.mean()).detach()}
        if self.lipschitz == "gp":
            gp = gradient_penalty(lambda v: self.critic(v, y), interpolates(x, x_fake))  # (eq:gradient-penalty)
            loss = loss + self.penalty * gp  # (eq:wgan-gp)
            out["gp"] = gp.detach()
        return {"loss": loss, **out}

    def generator_loss(self, x: torch.Tensor, y: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """``{"loss": (eq:wgan-g-loss)}`` for as many fresh fakes as ``x`` has rows."""
        loss = generator_loss_wasserstein(self.critic(self.fake(len(x), y), y))  # (eq:wgan-g-loss)
        return {"loss": loss}

    def clip(self) -> None:
        """Clip the critic's weights to ``[-clip, clip]`` (``lipschitz="clip"``; a no-op for WGAN-GP)."""
        if self.lipschitz == "clip":
            clip_weights(self.critic, self.clip_value)  # (eq:weight-clipping)
