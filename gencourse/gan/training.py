"""The alternating step of every adversarial model: ``n_critic`` discriminator (critic) steps, one generator step.

Chapter 4's notebook writes this loop out once; afterwards it comes from here::

    step = adversarial_step(model, opt_d, opt_g, n_critic=5)
    history = train(step, Batches(x, batch_size=5 * 64), steps)

Each call receives one batch of ``n_critic * B`` examples, cut into ``n_critic`` chunks of
``B``: one fresh chunk per discriminator step (Algorithm 1 of Goodfellow et al., 2014, with
``k = n_critic``); the generator's step reuses the last chunk only for its size and labels.
The logged ``"loss"`` is the discriminator's, the quantity whose divergence would mean a broken
run; the generator's loss is logged as ``"g_loss"``.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from gencourse.data import Batches
from gencourse.gan.gan import AdversarialModel
from gencourse.train import History, train

Batch = torch.Tensor | tuple[torch.Tensor, ...]


def _chunks(batch: Batch, n: int) -> list[tuple[torch.Tensor, ...]]:
    """``n`` chunks of ``x`` or of ``(x, y)``, each a tuple of the loss functions' arguments."""
    if isinstance(batch, (tuple, list)):
        return list(zip(*(t.chunk(n) for t in batch), strict=True))
    return [(chunk,) for chunk in batch.chunk(n)]


def adversarial_step(model: AdversarialModel, opt_d: torch.optim.Optimizer, opt_g: torch.optim.Optimizer,
                     n_critic: int = 1) -> Callable[[Batch], dict[str, torch.Tensor]]:
    """A ``step(batch)`` for :func:`gencourse.train.train`: ``n_critic`` discriminator updates, one generator update.

    Models with a ``clip`` method (the weight-clipped WGAN) are clipped after each critic update.
    """

    def step(batch: Batch) -> dict[str, torch.Tensor]:
        chunks = _chunks(batch, n_critic)
        for chunk in chunks:
            d = model.discriminator_loss(*chunk)
            opt_d.zero_grad()
            d["loss"].backward()
            opt_d.step()
            if hasattr(model, "clip"):
                model.clip()
        g = model.generator_loss(*chunks[-1])
        opt_g.zero_grad()
        g["loss"].backward()
        opt_g.step()
        return {"loss": d["loss"].detach(), "g_loss": g["loss"].detach(),
                **{key: value for key, value in d.items() if key != "loss"}}

    return step


def fit_adversarial(model: AdversarialModel, x: torch.Tensor, steps: int, batch_size: int = 256, n_critic: int = 1,
                    lr: float = 1e-3, betas: tuple[float, float] = (0.5, 0.9), seed: int = 0,
                    callback: Callable[[int], None] | None = None, every: int = 100, progress: bool = False) -> History:
    """Train ``model`` on the rows of ``x`` for ``steps`` generator steps with Adam; return the history.

    ``callback(k)`` is called every ``every`` steps (``k`` steps done), e.g. to store snapshots
    of the samples for an animation.
    """
    opt_d = torch.optim.Adam(model.discriminator.parameters(), lr=lr, betas=betas)
    opt_g = torch.optim.Adam(model.generator.parameters(), lr=lr, betas=betas)
    step = adversarial_step(model, opt_d, opt_g, n_critic)
    batches = Batches(x, batch_size=n_critic * batch_size, seed=seed)
    history = History()
    done = 0
    while done < steps:  # in rounds of ``every`` steps, so the callback sees the model between rounds
        rounds = min(every, steps - done)
        round_history = train(step, batches, rounds, log_every=10, progress=progress)
        for i, k in enumerate(round_history["step"]):
            history.log(done + int(k), {key: round_history[key][i] for key in round_history.keys()})
        done += rounds
        if callback is not None:
            callback(done)
    return history
