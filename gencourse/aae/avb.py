r"""Adversarial variational Bayes (Mescheder, Nowozin & Geiger, 2017): a VAE whose encoder has no density.

A VAE's ELBO (eq:avb-elbo)

.. math::

    \mathcal{L}(\theta, \phi; x) = \mathbb{E}_{q_\phi(z \mid x)}\big[\log p_\theta(x \mid z)
        - \big(\log q_\phi(z \mid x) - \log p(z)\big)\big]

needs :math:`\log q_\phi(z \mid x)`. An **implicit** encoder :math:`z = f_\phi(x, \varepsilon)`,
:math:`\varepsilon \sim \mathcal{N}(0, I)` fed into the network, can express far more posteriors
than a Gaussian, but its density is unknown. AVB learns the missing log-ratio instead: a
discriminator :math:`T_\psi(x, z)` separates pairs :math:`(x, z \sim q_\phi(z \mid x))` (label 1)
from pairs :math:`(x, z \sim p(z))` (label 0) with the logistic loss (eq:avb-discriminator), whose
optimum is (eq:avb-optimal-t)

.. math::

    T^*(x, z) = \log q_\phi(z \mid x) - \log p(z),

and the encoder and decoder maximise the ELBO with :math:`T_\psi` in place of that log-ratio
(eq:avb-objective): :math:`\mathbb{E}_{x}\mathbb{E}_{\varepsilon}\big[-T_\psi(x, z_\phi) + \log
p_\theta(x \mid z_\phi)\big]`, :math:`z_\phi = f_\phi(x, \varepsilon)`. Although :math:`T^*` depends on
:math:`\phi`, that dependence adds nothing to the gradient: :math:`\mathbb{E}_{q_\phi}[\nabla_\phi T^*]
= \mathbb{E}_{q_\phi}[\nabla_\phi \log q_\phi] = 0` (their Proposition 2; eq:avb-gradient-identity), so the
gradient reaches :math:`T` only through the sample :math:`z_\phi`.

Departures from the paper, for a short readable module: the noise enters once, concatenated to
the input (the paper also adds it to hidden layers); ``T`` is one MLP on the concatenation
``(x, z)``; no "adaptive contrast". The prior is :math:`\mathcal{N}(0, I)`. The Gaussian likelihood
has a fixed standard deviation ``x_std``.

Parts: ``encoder`` and ``decoder`` (one player, one optimiser) and ``discriminator`` (the other)::

    opt_d = torch.optim.Adam(avb.discriminator.parameters())
    opt_g = torch.optim.Adam([*avb.encoder.parameters(), *avb.decoder.parameters()])
    step = gencourse.gan.adversarial_step(avb, opt_d, opt_g)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from gencourse.gan.losses import discriminator_loss
from gencourse.gan.networks import _leaky
from gencourse.nets import mlp
from gencourse.vae.likelihoods import bernoulli_log_likelihood, gaussian_log_likelihood
from gencourse.vi.gaussian import log_normal_diag

LIKELIHOODS = ("bernoulli", "gaussian")


def optimal_t_gaussian(z: torch.Tensor, mu: torch.Tensor, log_var: torch.Tensor,
                       prior_mu: torch.Tensor | float = 0.0, prior_log_var: torch.Tensor | float = 0.0) -> torch.Tensor:
    r"""``T*(x, z) = log q(z | x) - log p(z)`` for Gaussians ``q = N(mu, diag e^log_var)`` and ``p``.

    ``mu`` and ``log_var`` are the encoder's outputs at ``x``; the prior is
    ``p = N(prior_mu, diag e^prior_log_var)``, by default ``N(0, I)``. Shapes ``(..., d) -> (...)``
    (eq:avb-optimal-t).
    """
    prior_mu = torch.as_tensor(prior_mu, dtype=z.dtype, device=z.device).expand_as(z)
    prior_log_var = torch.as_tensor(prior_log_var, dtype=z.dtype, device=z.device).expand_as(z)
    return log_normal_diag(z, mu, log_var) - log_normal_diag(z, prior_mu, prior_log_var)  # (eq:avb-optimal-t)


def avb_elbo(log_px_z: torch.Tensor, log_ratio: torch.Tensor) -> torch.Tensor:
    r"""``log p(x | z) - (log q(z | x) - log p(z))`` at ``z ~ q(z | x)``: one sample of the ELBO, per example.

    With ``log_ratio`` the exact log-ratio its mean over ``z ~ q`` is the ELBO (eq:avb-elbo); AVB
    passes ``T(x, z)`` instead (eq:avb-objective).
    """
    return log_px_z - log_ratio  # (eq:avb-elbo)


class JointDiscriminator(nn.Module):
    """``T_psi(x, z)``: ``(B, D), (B, d) -> (B,)``, an MLP with LeakyReLU layers on the concatenation."""

    def __init__(self, data_dim: int, latent_dim: int, hidden: Sequence[int] = (256, 256)) -> None:
        super().__init__()
        self.net = mlp([data_dim + latent_dim, *hidden, 1], activation=_leaky)

    def forward(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([x, z], dim=1)).squeeze(1)


class ImplicitEncoder(nn.Module):
    r"""``z = f_phi(x, eps)`` with ``eps ~ N(0, I_noise_dim)`` concatenated to ``x``: ``(B, D) -> (B, d)``."""

    def __init__(self, data_dim: int, latent_dim: int, noise_dim: int, hidden: Sequence[int]) -> None:
        super().__init__()
        self.noise_dim = noise_dim
        self.net = mlp([data_dim + noise_dim, *hidden, latent_dim])

    def forward(self, x: torch.Tensor, eps: torch.Tensor | None = None) -> torch.Tensor:
        if eps is None:
            eps = torch.randn(len(x), self.noise_dim, dtype=x.dtype, device=x.device)
        return self.net(torch.cat([x, eps], dim=1))


class AVB(nn.Module):
    """Adversarial variational Bayes with an implicit encoder, for data of shape ``data_shape``.

    ``likelihood="bernoulli"``: the decoder outputs logits (images in [0, 1]);
    ``likelihood="gaussian"``: it outputs means, with the fixed standard deviation ``x_std``.
    ``noise_dim`` is the size of the encoder's noise (default: ``latent_dim``).
    """

    def __init__(self, data_shape: Sequence[int] = (1, 28, 28), latent_dim: int = 8, noise_dim: int | None = None,
                 hidden: Sequence[int] = (400, 400), discriminator_hidden: Sequence[int] = (256, 256),
                 likelihood: str = "bernoulli", x_std: float = 1.0) -> None:
        super().__init__()
        if likelihood not in LIKELIHOODS:
            raise ValueError(f"likelihood must be one of {LIKELIHOODS}, got {likelihood!r}")
        if not x_std > 0:
            raise ValueError(f"x_std must be positive, got {x_std!r}")
        self.data_shape = tuple(int(s) for s in data_shape)
        self.latent_dim = int(latent_dim)
        self.noise_dim = int(noise_dim) if noise_dim is not None else self.latent_dim
        self.hidden = tuple(int(h) for h in hidden)
        self.discriminator_hidden = tuple(int(h) for h in discriminator_hidden)
        self.likelihood, self.x_std = likelihood, float(x_std)
        D, d = math.prod(self.data_shape), self.latent_dim
        self.encoder = ImplicitEncoder(D, d, self.noise_dim, self.hidden)
        self.decoder = mlp([d, *reversed(self.hidden), D])  # logits or means
        self.discriminator = JointDiscriminator(D, d, self.discriminator_hidden)

    @property
    def config(self) -> dict[str, Any]:
        """The keyword arguments that rebuild this model (JSON-friendly)."""
        return {"data_shape": list(self.data_shape), "latent_dim": self.latent_dim, "noise_dim": self.noise_dim,
                "hidden": list(self.hidden), "discriminator_hidden": list(self.discriminator_hidden),
                "likelihood": self.likelihood, "x_std": self.x_std}

    def _check(self, x: torch.Tensor) -> torch.Tensor:
        if tuple(x.shape[1:]) != self.data_shape:
            raise ValueError(f"data must have shape (B, {', '.join(map(str, self.data_shape))}), got {tuple(x.shape)}")
        return x.flatten(1)  # (B, D)

    def encode(self, x: torch.Tensor, eps: torch.Tensor | None = None) -> torch.Tensor:
        """Codes ``z = f_phi(x, eps) ~ q_phi(z | x)``: ``(B, latent_dim)``; ``eps`` is drawn unless given."""
        return self.encoder(self._check(x), eps)

    def log_likelihood(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """``log p_theta(x | z)`` per example: ``(B,)``."""
        out = self.decoder(z)
        xf = self._check(x)
        if self.likelihood == "bernoulli":
            return bernoulli_log_likelihood(out, xf)
        return gaussian_log_likelihood(out, xf, 2 * math.log(self.x_std))

    def discriminator_loss(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """``{"loss", "D_posterior", "D_prior"}``: logistic loss, ``(x, z ~ q(z|x))`` (1) against ``(x, z ~ p(z))`` (0).

        The encoder's codes are detached: it is fixed during the discriminator's step.
        """
        xf = self._check(x)
        z_q = self.encode(x).detach()
        z_p = torch.randn_like(z_q)  # z ~ p(z) = N(0, I), independent of x
        t_q, t_p = self.discriminator(xf, z_q), self.discriminator(xf, z_p)  # logits, (B,)
        loss = discriminator_loss(t_q, t_p)  # (eq:avb-discriminator)
        return {"loss": loss, "D_posterior": torch.sigmoid(t_q).mean().detach(),
                "D_prior": torch.sigmoid(t_p).mean().detach()}

    def generator_loss(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """``{"loss", "recon", "kl", "elbo"}``: minus the ELBO with ``T`` in place of ``log q - log p``, per example.

        ``kl`` is the mean of ``T`` (the estimate of ``KL(q(z|x) || p(z))``), ``recon`` minus the
        mean log-likelihood, ``elbo = -(recon + kl)``; nats per example.
        """
        z = self.encode(x)  # z_phi = f_phi(x, eps), differentiable in phi
        log_px_z = self.log_likelihood(x, z)  # (B,)
        t = self.discriminator(self._check(x), z)  # grad_phi reaches T only through z  (eq:avb-gradient-identity)
        elbo = avb_elbo(log_px_z, t)  # (B,)
        loss = -elbo.mean()  # (eq:avb-objective)
        return {"loss": loss, "recon": -log_px_z.mean().detach(), "kl": t.mean().detach(),
                "elbo": elbo.mean().detach()}

    def mean(self, z: torch.Tensor) -> torch.Tensor:
        """``E[x | z]`` of shape ``(B, *data_shape)``: the sigmoid of the logits, or the Gaussian means."""
        out = self.decoder(z)
        return (torch.sigmoid(out) if self.likelihood == "bernoulli" else out).view(-1, *self.data_shape)

    @torch.no_grad()
    def sample(self, n: int) -> torch.Tensor:
        """``n`` draws of ``E[x | z]`` with ``z ~ N(0, I)``: ``(n, *data_shape)`` (the decoder's mean, like the VAE)."""
        p = next(self.parameters())
        return self.mean(torch.randn(n, self.latent_dim, device=p.device, dtype=p.dtype))

    def extra_repr(self) -> str:
        return f"latent_dim={self.latent_dim}, noise_dim={self.noise_dim}, likelihood={self.likelihood!r}"
