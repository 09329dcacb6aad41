"""The AAE's step: a reconstruction phase, then a regularisation phase (Makhzani et al., 2016, section 2).

Chapter 6's notebook writes the step out once; afterwards it comes from here::

    step = aae_step(aae, opt_ae, opt_d, opt_g)
    history = train(step, Batches(x, batch_size=100), steps)

On each mini-batch: encoder and decoder take one step on the reconstruction loss
(eq:aae-reconstruction); the discriminator takes one step on prior samples against the codes
(eq:aae-discriminator); the encoder takes one step to fool it (eq:aae-generator). The logged
``"loss"`` is the reconstruction loss; the two adversarial losses are ``"d_loss"`` and ``"g_loss"``.

The AVB needs no step of its own: its two players are the discriminator ``T`` and the pair
(encoder, decoder), so :func:`gencourse.gan.adversarial_step` alternates them.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from gencourse.aae.aae import AAE


def aae_step(model: AAE, opt_ae: torch.optim.Optimizer, opt_d: torch.optim.Optimizer,
             opt_g: torch.optim.Optimizer) -> Callable[[torch.Tensor], dict[str, torch.Tensor]]:
    """A ``step(x)`` for :func:`gencourse.train.train`: reconstruction, discriminator and encoder updates.

    ``opt_ae`` holds the encoder's and decoder's parameters, ``opt_d`` the discriminator's and
    ``opt_g`` the encoder's.
    """

    def step(x: torch.Tensor) -> dict[str, torch.Tensor]:
        r = model.reconstruction_loss(x)  # 1. reconstruction phase  (eq:aae-reconstruction)
        opt_ae.zero_grad()
        r["loss"].backward()
        opt_ae.step()
        d = model.discriminator_loss(x)  # 2a. the discriminator: prior samples against codes  (eq:aae-discriminator)
        opt_d.zero_grad()
        d["loss"].backward()
        opt_d.step()
        g = model.generator_loss(x)  # 2b. the encoder fools it  (eq:aae-generator)
        opt_g.zero_grad()
        g["loss"].backward()
        opt_g.step()
        return {"loss": r["loss"].detach(), "d_loss": d["loss"].detach(), "g_loss": g["loss"].detach(),
                "D_prior": d["D_prior"], "D_codes": d["D_codes"]}

    return step
