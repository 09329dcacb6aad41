r"""The variational auto-encoder (Kingma & Welling, 2014; Rezende et al., 2014), conditional or not.

A latent variable model :math:`p_\theta(x, z) = p(z)\, p_\theta(x \mid z)` with the prior
:math:`p(z) = \mathcal{N}(0, I)` and a decoder network, trained jointly with an encoder
:math:`q_\phi(z \mid x) = \mathcal{N}(z; \mu_\phi(x), \operatorname{diag}\sigma^2_\phi(x))`
by maximising the ELBO (eq:vae-elbo)

.. math::

    \mathcal{L}(\theta, \phi; x) = \mathbb{E}_{q_\phi(z \mid x)}[\log p_\theta(x \mid z)]
      - \mathrm{KL}\big(q_\phi(z \mid x) \,\Vert\, p(z)\big),

whose first term is estimated with one reparameterised sample and whose second is the closed
form of :func:`gencourse.vi.gaussian_kl`. Options, all keyword arguments:

- ``architecture``: ``"mlp"`` (``hidden`` sizes) or ``"conv"`` (``channels`` of strided
  convolutions); the networks come from :mod:`gencourse.nets` and know nothing of the ELBO;
- ``likelihood``: ``"bernoulli"`` (decoder outputs logits) or ``"gaussian"`` (decoder outputs
  means, with one learned log-variance ``x_log_var``);
- ``n_classes > 0`` makes it a *conditional* VAE (Sohn et al., 2015): the one-hot label
  :math:`y` is an input of both networks, :math:`q_\phi(z \mid x, y)` and
  :math:`p_\theta(x \mid z, y)`, and ``sample(n, y)`` draws images of chosen classes; the prior
  stays :math:`\mathcal{N}(0, I)` (Sohn et al. also learn a prior network :math:`p_\theta(z \mid y)`);
- ``k > 1`` trains on the IWAE bound with ``k`` samples instead of the ELBO (Burda et al., 2016).

``loss(x, y=None, beta=None)`` returns ``{"loss", "recon", "kl", "elbo"}`` (per-image means,
in nats); ``beta`` weights the KL term (eq:beta-elbo) for annealing and the beta-VAE.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from gencourse.nets import conv_decoder, conv_encoder, mlp
from gencourse.vae.bounds import iwae_bound
from gencourse.vae.likelihoods import bernoulli_log_likelihood, gaussian_log_likelihood
from gencourse.vi.gaussian import gaussian_kl, log_normal_diag, log_standard_normal, reparameterize


class VAE(nn.Module):
    """A VAE on images of shape ``image_shape``; see the module docstring for the options.

    Shapes: images ``(B, *image_shape)``, labels ``(B,)`` integers, codes ``(B, latent_dim)``,
    decoder outputs ``(B, D)`` with ``D = prod(image_shape)``.
    """

    def __init__(
        self,
        image_shape: Sequence[int] = (1, 28, 28),
        latent_dim: int = 20,
        hidden: Sequence[int] = (400,),
        architecture: str = "mlp",
        channels: Sequence[int] = (32, 64),
        likelihood: str = "bernoulli",
        n_classes: int = 0,
        k: int = 1,
    ) -> None:
        super().__init__()
        if architecture not in ("mlp", "conv"):
            raise ValueError(f"architecture must be 'mlp' or 'conv', got {architecture!r}")
        if likelihood not in ("bernoulli", "gaussian"):
            raise ValueError(f"likelihood must be 'bernoulli' or 'gaussian', got {likelihood!r}")
        if k < 1:
            raise ValueError(f"k (importance samples per image) must be at least 1, got {k}")
        self.image_shape = tuple(int(s) for s in image_shape)
        self.latent_dim, self.n_classes, self.k = int(latent_dim), int(n_classes), int(k)
        self.hidden, self.channels = tuple(int(h) for h in hidden), tuple(int(c) for c in channels)
        self.architecture, self.likelihood = architecture, likelihood
        C, H, W = self.image_shape
        D, d, L = C * H * W, self.latent_dim, len(self.channels)
        if architecture == "mlp":
            self.encoder = mlp([D + self.n_classes, *self.hidden, 2 * d])  # -> (B, 2d): mu and log_var
            self.decoder = mlp([d + self.n_classes, *reversed(self.hidden), D])
        else:
            if H % 2**L or W % 2**L or H != W:
                raise ValueError(f"the conv architecture needs square images with sides divisible by {2**L}")
            features = self.channels[-1] * (H // 2**L) * (W // 2**L)
            self.encoder = nn.Sequential(conv_encoder(self.channels, C + self.n_classes), nn.Linear(features, 2 * d))
            self.decoder = nn.Sequential(conv_decoder(d + self.n_classes, tuple(reversed(self.channels)), C, H // 2**L),
                                         nn.Flatten())
        if likelihood == "gaussian":
            self.x_log_var = nn.Parameter(torch.zeros(()))  # one learned pixel log-variance

    @property
    def config(self) -> dict[str, object]:
        """The keyword arguments that rebuild this model (JSON-friendly)."""
        return {"image_shape": list(self.image_shape), "latent_dim": self.latent_dim, "hidden": list(self.hidden),
                "architecture": self.architecture, "channels": list(self.channels), "likelihood": self.likelihood,
                "n_classes": self.n_classes, "k": self.k}

    def _one_hot(self, y: torch.Tensor | None, n: int, like: torch.Tensor) -> torch.Tensor:
        if self.n_classes == 0:
            if y is not None:
                raise ValueError("labels were given to an unconditional VAE (n_classes=0)")
            return like.new_zeros(n, 0)
        if y is None:
            raise ValueError(f"this conditional VAE needs labels y in 0..{self.n_classes - 1}")
        return F.one_hot(y, self.n_classes).to(like.dtype)  # (B, n_classes)

    def encode(self, x: torch.Tensor, y: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """``(mu, log_var)`` of :math:`q_\\phi(z \\mid x[, y])`, each ``(B, latent_dim)``."""
        y1 = self._one_hot(y, len(x), x)
        if self.architecture == "mlp":
            inputs = torch.cat([x.flatten(1), y1], dim=1)  # (B, D + n_classes)
        else:  # labels enter as constant feature maps
            maps = y1[:, :, None, None].expand(-1, -1, *x.shape[2:])  # (B, n_classes, H, W)
            inputs = torch.cat([x, maps], dim=1)  # (B, C + n_classes, H, W)
        mu, log_var = self.encoder(inputs).chunk(2, dim=1)
        return mu, log_var

    def decode(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """The decoder's output for codes ``(..., latent_dim)``: logits (Bernoulli) or means (Gaussian), ``(..., D)``.

        Leading dimensions beyond the batch (``k`` samples) are flattened through the network and restored.
        """
        lead = z.shape[:-1]
        z2 = z.reshape(-1, self.latent_dim)
        if y is not None:  # one label per image, repeated for each of the leading sample dimensions
            y = y.expand(lead).reshape(-1)
        out = self.decoder(torch.cat([z2, self._one_hot(y, len(z2), z2)], dim=1))
        return out.view(*lead, -1)

    def log_likelihood(self, x: torch.Tensor, x_out: torch.Tensor) -> torch.Tensor:
        """``log p(x | z)`` from the decoder's output: ``(..., D)`` against images ``(B, D)`` -> ``(...)``."""
        if self.likelihood == "bernoulli":
            return bernoulli_log_likelihood(x_out, x)
        return gaussian_log_likelihood(x_out, x, self.x_log_var)

    def loss(self, x: torch.Tensor, y: torch.Tensor | None = None,
             beta: float | None = None) -> dict[str, torch.Tensor]:
        """Minus the ELBO (``k == 1``, with the KL weighted by ``beta``) or minus the IWAE bound (``k > 1``), per image.

        Diagnostics: ``recon`` = ``-log p(x | z)`` at one sample, ``kl`` = the closed-form KL,
        ``elbo`` = ``-(recon + kl)``; all batch means, in nats.
        """
        mu, log_var = self.encode(x, y)
        xf = x.flatten(1)  # (B, D)
        eps = torch.randn(self.k, *mu.shape, dtype=mu.dtype, device=mu.device)  # (k, B, d)
        z = reparameterize(mu, log_var, eps)  # (k, B, d)  (eq:reparameterization)
        log_px_z = self.log_likelihood(xf, self.decode(z, y))  # (k, B)
        kl = gaussian_kl(mu, log_var)  # (B,)  (eq:gaussian-kl)
        recon = -log_px_z[0]
        if self.k == 1:
            weight = 1.0 if beta is None else beta
            loss = (recon + weight * kl).mean()  # (eq:beta-elbo); the ELBO (eq:vae-elbo) at beta = 1
        else:
            if beta not in (None, 1.0):
                raise ValueError("beta weights the ELBO's KL term; the IWAE bound (k > 1) has no such term")
            log_w = log_px_z + log_standard_normal(z) - log_normal_diag(z, mu, log_var)  # (k, B)
            loss = -iwae_bound(log_w).mean()  # (eq:iwae-bound)
        return {"loss": loss, "recon": recon.mean().detach(), "kl": kl.mean().detach(),
                "elbo": -(recon + kl).mean().detach()}

    def log_weights(self, x: torch.Tensor, k: int, y: torch.Tensor | None = None, chunk: int | None = None,
                    generator: torch.Generator | None = None) -> torch.Tensor:
        """``log w = log p(x, z) - log q(z | x)`` for ``k`` samples ``z ~ q(z | x)`` per image: ``(k, B)``.

        The encoder runs once; the decoder runs on ``chunk`` samples at a time (all ``k`` if None).
        """
        mu, log_var = self.encode(x, y)
        xf = x.flatten(1)
        chunks = []
        for start in range(0, k, chunk or k):
            n = min(chunk or k, k - start)
            eps = torch.randn(n, *mu.shape, dtype=mu.dtype, device=mu.device, generator=generator)
            z = reparameterize(mu, log_var, eps)  # (n, B, d)
            log_p = self.log_likelihood(xf, self.decode(z, y)) + log_standard_normal(z)  # log p(x, z): (n, B)
            chunks.append(log_p - log_normal_diag(z, mu, log_var))
        return torch.cat(chunks)  # (k, B)

    def reconstruct(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """The decoder's mean image at the posterior mean ``z = mu``: ``(B, *image_shape)`` in [0, 1] for Bernoulli."""
        mu, _ = self.encode(x, y)
        return self.mean_image(self.decode(mu, y))

    def mean_image(self, x_out: torch.Tensor) -> torch.Tensor:
        """``E[x | z]`` as images ``(B, *image_shape)`` from decoder outputs ``(B, D)``: sigmoid of logits, or means."""
        x_hat = torch.sigmoid(x_out) if self.likelihood == "bernoulli" else x_out
        return x_hat.view(-1, *self.image_shape)

    def sample(self, n: int, y: torch.Tensor | None = None) -> torch.Tensor:
        """``n`` images ``E[x | z]`` with ``z ~ p(z)``: ``(n, *image_shape)``.

        Like most VAE papers, this shows the decoder's mean rather than a draw of binary pixels.
        A conditional VAE draws classes ``0, 1, ..., n_classes - 1, 0, ...`` unless ``y`` is given.
        """
        device = next(self.parameters()).device
        if self.n_classes and y is None:
            y = torch.arange(n, device=device) % self.n_classes
        z = torch.randn(n, self.latent_dim, device=device)
        return self.mean_image(self.decode(z, y))

    def extra_repr(self) -> str:
        return (f"latent_dim={self.latent_dim}, architecture={self.architecture!r}, likelihood={self.likelihood!r}, "
                f"n_classes={self.n_classes}, k={self.k}")


