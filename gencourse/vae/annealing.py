r"""Weights on the KL term: KL annealing (warm-up) and the :math:`\beta`-VAE.

The objective :math:`\mathbb{E}_q[\log p_\theta(x \mid z)] - \beta\, \mathrm{KL}(q_\phi(z \mid x) \,\Vert\, p(z))`
(eq:beta-elbo) is the ELBO at :math:`\beta = 1`. With :math:`\beta > 1` it favours codes
close to the prior (Higgins et al., 2017), at the price of blurrier reconstructions and a
looser bound; with :math:`\beta < 1` the reverse.

*Annealing* (Bowman et al., 2016; Sønderby et al., 2016) raises :math:`\beta` from 0 to 1
over the first steps of training: early on the decoder learns to use the code before the KL
term pulls every posterior onto the prior, which otherwise switches latent units off for good
("posterior collapse"). After the warm-up the objective is the ELBO again.
"""

from __future__ import annotations


def kl_warmup(step: int, warmup_steps: int, beta: float = 1.0) -> float:
    """The KL weight at ``step``: rises linearly from 0 to ``beta`` over ``warmup_steps``, then stays at ``beta``."""
    if warmup_steps <= 0:
        return beta
    return beta * min(1.0, step / warmup_steps)
