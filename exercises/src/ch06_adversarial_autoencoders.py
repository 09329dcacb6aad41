# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [raw]
# # ASSIGNMENT CONFIG
# name: ch06

# %% [markdown]
# # Graded exercises 6: adversarial auto-encoders and adversarial variational Bayes
#
# Four questions on the chapter *Adversarial auto-encoders and adversarial variational Bayes*,
# 10 points in all.

# %% [raw]
# # BEGIN QUESTION
# name: q1
# points: 3

# %% [markdown]
# ## Question 1 (3 points): the AAE's regularisation phase
#
# An adversarial auto-encoder's discriminator $D_\psi(z) = \sigma(d_\psi(z))$ looks at codes. Samples
# of the **prior** $z' \sim p(z)$ are its positive class (label 1) and the encoder's **codes**
# $z \sim q_\phi(z \mid x)$ its negative class (label 0), so it minimises
#
# $$ \mathcal{L}_D = -\frac1B \sum_b \log \sigma\big(d_\psi(z'_b)\big) - \frac1B \sum_b \log\big(1 - \sigma(d_\psi(z_b))\big). $$
#
# The encoder then plays the generator, with the non-saturating loss
#
# $$ \mathcal{L}_G = -\frac1B \sum_b \log \sigma\big(d_\psi(z_b)\big). $$
#
# Write `aae_discriminator_loss(d_prior, d_codes)` and `aae_encoder_loss(d_codes)` from the logits
# $d_\psi$ on a batch of prior samples and on a batch of codes (shape `(B,)` each), each returning a
# 0-dimensional tensor. Compute them from the logits with
# $-\log \sigma(\ell) = \operatorname{softplus}(-\ell)$ and $-\log(1 - \sigma(\ell)) = \operatorname{softplus}(\ell)$,
# so that logits of $\pm 200$ still give finite losses.

# %% [raw]
# # BEGIN SOLUTION

# %%
def aae_discriminator_loss(d_prior, d_codes):
    """-E log D(z') - E log(1 - D(z)) from the logits on prior samples z' (B,) and on codes z (B,)."""
    # BEGIN SOLUTION
    return torch.nn.functional.softplus(-d_prior).mean() + torch.nn.functional.softplus(d_codes).mean()
    # END SOLUTION


def aae_encoder_loss(d_codes):
    """-E log D(z) for the encoder's codes z, from their logits (B,)."""
    # BEGIN SOLUTION
    return torch.nn.functional.softplus(-d_codes).mean()
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 1
failure_message: "A discriminator that says 1/2 everywhere (logit 0): the discriminator's loss is 2 log 2, the encoder's log 2."
""" # END TEST CONFIG
def test_undecided_discriminator(aae_discriminator_loss, aae_encoder_loss):
    import math

    import torch

    from gencourse.exercises import checks

    zeros = torch.zeros(4, dtype=torch.float64)
    checks.close("aae_discriminator_loss with every logit 0", aae_discriminator_loss(zeros, zeros),
                 torch.tensor(2 * math.log(2)), hint="-log(1/2) for the prior batch plus -log(1/2) for the codes, each averaged.")
    checks.close("aae_encoder_loss with every logit 0", aae_encoder_loss(zeros), torch.tensor(math.log(2)),
                 hint="-log sigmoid(l) = softplus(-l), averaged over the batch.")

test_undecided_discriminator(aae_discriminator_loss, aae_encoder_loss)

# %%
""" # BEGIN TEST CONFIG
hidden: true
points: 2
""" # END TEST CONFIG
def test_roles_and_extreme_logits(aae_discriminator_loss, aae_encoder_loss):
    import torch

    from gencourse.exercises import checks

    softplus = torch.nn.functional.softplus
    d_prior = torch.tensor([3.0, -1.0, 200.0, -200.0, 0.5], dtype=torch.float64)
    d_codes = torch.tensor([-2.0, 0.25, -200.0, 200.0, 1.5], dtype=torch.float64)
    checks.close("aae_discriminator_loss with logits up to +-200", aae_discriminator_loss(d_prior, d_codes),
                 softplus(-d_prior).mean() + softplus(d_codes).mean(),
                 hint="prior samples are the discriminator's 'real' class (label 1), the codes its 'fake' one (label 0).")
    checks.close("aae_encoder_loss with logits up to +-200", aae_encoder_loss(d_codes), softplus(-d_codes).mean(),
                 hint="the encoder wants its codes called 'prior': -log D(z), not log(1 - D(z)).")
    d_rejected = torch.full((4,), -30.0, dtype=torch.float64, requires_grad=True)
    loss = aae_encoder_loss(d_rejected)
    checks.answered("aae_encoder_loss(d_codes)", loss)
    (grad,) = torch.autograd.grad(loss, d_rejected)
    checks.close("gradient of aae_encoder_loss at logits -30", grad, torch.full((4,), -0.25), rtol=1e-9,
                 hint="the non-saturating loss keeps a gradient of about -1/B per logit when the codes are rejected.")

test_roles_and_extreme_logits(aae_discriminator_loss, aae_encoder_loss)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q2
# points: 2

# %% [markdown]
# ## Question 2 (2 points): the AVB discriminator's loss
#
# AVB's discriminator $T_\psi(x, z)$ (a logit) tells **encoder pairs** $(x, z)$ with
# $z \sim q_\phi(z \mid x)$, label 1, from **prior pairs** $(x, z')$ with $z' \sim p(z)$, label 0. It
# maximises
#
# $$ \mathbb E_{p_\text{data}(x)} \mathbb E_{q_\phi(z \mid x)} \log \sigma\big(T(x, z)\big)
#    + \mathbb E_{p_\text{data}(x)} \mathbb E_{p(z)} \log\big(1 - \sigma(T(x, z))\big), $$
#
# whose optimum is $T^*(x, z) = \log q_\phi(z \mid x) - \log p(z)$. Note that the labels are the other way
# round from question 1. Write `avb_discriminator_loss(t_q, t_p)`, the loss to *minimise* (minus the
# batch estimate of the objective), from the values `t_q` of $T$ on a batch of encoder pairs and `t_p`
# on a batch of prior pairs (shape `(B,)` each), again through softplus.

# %% [raw]
# # BEGIN SOLUTION

# %%
def avb_discriminator_loss(t_q, t_p):
    """-E_q log sigma(T) - E_p log(1 - sigma(T)) from T on encoder pairs t_q (B,) and prior pairs t_p (B,)."""
    # BEGIN SOLUTION
    return torch.nn.functional.softplus(-t_q).mean() + torch.nn.functional.softplus(t_p).mean()
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 1
failure_message: "With T = 0 everywhere the discriminator says 1/2 to every pair: the loss is 2 log 2."
""" # END TEST CONFIG
def test_undecided(avb_discriminator_loss):
    import math

    import torch

    from gencourse.exercises import checks

    zeros = torch.zeros(5, dtype=torch.float64)
    checks.close("avb_discriminator_loss with T = 0", avb_discriminator_loss(zeros, zeros), torch.tensor(2 * math.log(2)),
                 hint="softplus(-t) for the encoder pairs plus softplus(t) for the prior pairs, each averaged.")

test_undecided(avb_discriminator_loss)

# %%
""" # BEGIN TEST CONFIG
hidden: true
points: 1
""" # END TEST CONFIG
def test_labels_and_extreme_values(avb_discriminator_loss):
    import torch

    from gencourse.exercises import checks

    softplus = torch.nn.functional.softplus
    t_q = torch.tensor([2.0, -0.5, 150.0, -150.0], dtype=torch.float64)
    t_p = torch.tensor([-3.0, 1.0, -150.0, 4.0], dtype=torch.float64)
    checks.close("avb_discriminator_loss with asymmetric values up to +-150", avb_discriminator_loss(t_q, t_p),
                 softplus(-t_q).mean() + softplus(t_p).mean(),
                 hint="encoder pairs have label 1 and prior pairs label 0, the opposite of the AAE's codes and prior.")

test_labels_and_extreme_values(avb_discriminator_loss)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q3
# points: 3

# %% [markdown]
# ## Question 3 (3 points): the optimal discriminator of a Gaussian encoder
#
# For a Gaussian encoder $q_\phi(z \mid x) = \mathcal N(z; \mu, \operatorname{diag} \sigma^2)$ and the
# prior $p(z) = \mathcal N(0, I)$ in $d$ dimensions, the optimal AVB discriminator
# $T^*(x, z) = \log q_\phi(z \mid x) - \log p(z)$ has a closed form (the $\log 2\pi$ terms cancel).
# Write `avb_optimal_t(z, mu, log_var)` for codes `z`, means `mu` and log-variances
# `log_var = log sigma^2`, all of shape `(B, d)`, returning $T^*$ for each row, shape `(B,)`.
#
# Its mean under $q$ is $\mathrm{KL}(q_\phi(z \mid x) \,\|\, p(z))$, and the mean of its gradient with
# respect to $\mu$ and $\log \sigma^2$ under $q$ is zero (the chapter's gradient identity); the hidden
# tests check both.

# %% [raw]
# # BEGIN SOLUTION

# %%
def avb_optimal_t(z, mu, log_var):
    """T*(x, z) = log N(z; mu, diag exp(log_var)) - log N(z; 0, I), summed over the d coordinates: (B, d) -> (B,)."""
    # BEGIN SOLUTION
    log_q = -0.5 * (log_var + (z - mu).square() / log_var.exp())
    log_p = -0.5 * z.square()
    return (log_q - log_p).sum(-1)
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 1
failure_message: "When the encoder is the prior, T* = 0 everywhere; with mean 1 and variance 1 in one dimension, T* = z - 1/2."
""" # END TEST CONFIG
def test_simple_encoders(avb_optimal_t):
    import torch

    from gencourse.exercises import checks

    z = torch.tensor([[0.0, 1.0], [-2.0, 0.5], [3.0, -1.0]], dtype=torch.float64)
    zeros = torch.zeros_like(z)
    checks.close("avb_optimal_t when q(z|x) = N(0, I)", avb_optimal_t(z, zeros, zeros), torch.zeros(3),
                 hint="log q - log p is zero when q = p; return one value per row, shape (B,).")
    z1 = torch.tensor([[0.0], [1.0], [2.5]], dtype=torch.float64)
    checks.close("avb_optimal_t with mu = 1, log_var = 0 in one dimension", avb_optimal_t(z1, torch.ones_like(z1),
                 torch.zeros_like(z1)), z1[:, 0] - 0.5, hint="-(z - 1)^2 / 2 + z^2 / 2 = z - 1/2.")

test_simple_encoders(avb_optimal_t)

# %%
""" # BEGIN TEST CONFIG
hidden: true
points: 1
""" # END TEST CONFIG
def test_against_torch_distributions(avb_optimal_t):
    import torch

    from gencourse.exercises import checks

    g = torch.Generator().manual_seed(6)
    z = torch.randn(5, 3, generator=g, dtype=torch.float64) * 2
    mu = torch.randn(5, 3, generator=g, dtype=torch.float64)
    log_var = torch.randn(5, 3, generator=g, dtype=torch.float64)
    q = torch.distributions.Normal(mu, (0.5 * log_var).exp())
    p = torch.distributions.Normal(torch.zeros_like(mu), torch.ones_like(mu))
    checks.close("avb_optimal_t against torch.distributions", avb_optimal_t(z, mu, log_var),
                 (q.log_prob(z) - p.log_prob(z)).sum(-1),
                 hint="log N(z; mu, sigma^2) has the term -1/2 log sigma^2 (the log-determinant); do not drop it.")

test_against_torch_distributions(avb_optimal_t)

# %%
""" # BEGIN TEST CONFIG
hidden: true
points: 1
""" # END TEST CONFIG
def test_gradient_identity(avb_optimal_t):
    import torch

    from gencourse.exercises import checks

    g = torch.Generator().manual_seed(7)
    n = 200_000
    mu = torch.tensor([0.7, -1.5], dtype=torch.float64, requires_grad=True)
    log_var = torch.tensor([-0.5, 0.4], dtype=torch.float64, requires_grad=True)
    # z ~ q(z | x), held fixed: only the dependence of T* itself on (mu, log_var) is differentiated.
    z = (mu + (0.5 * log_var).exp() * torch.randn(n, 2, generator=g, dtype=torch.float64)).detach()
    t = avb_optimal_t(z, mu.expand(n, 2), log_var.expand(n, 2))
    checks.answered("avb_optimal_t(z, mu, log_var)", t)
    grad_mu, grad_log_var = torch.autograd.grad(t.mean(), (mu, log_var))
    hint = "E_q[grad T*] = E_q[grad log q] = 0 only if T* contains the whole log-density of q, log-variance included."
    checks.close("E_q[d T* / d mu] over 200,000 samples of q", grad_mu, torch.zeros(2), atol=0.02, hint=hint)
    checks.close("E_q[d T* / d log_var] over 200,000 samples of q", grad_log_var, torch.zeros(2), atol=0.02, hint=hint)
    kl = 0.5 * (mu.square() + log_var.exp() - 1 - log_var).sum()
    checks.close("E_q[T*] against KL(q || p)", t.mean(), kl.detach(), atol=0.02,
                 hint="the mean of log q - log p under q is the KL divergence.")

test_gradient_identity(avb_optimal_t)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q4
# points: 2

# %% [markdown]
# ## Question 4 (2 points): the density of the aggregated posterior
#
# On a training set of $N$ images, a Gaussian encoder's aggregated posterior is a mixture of $N$
# Gaussians, one per image:
#
# $$ q_\phi(z) = \frac1N \sum_{n=1}^N \mathcal N\big(z; \mu_n, \operatorname{diag} \sigma_n^2\big). $$
#
# Write `aggregated_posterior_log_prob(z, mu, log_var)`: the log-density $\log q_\phi(z)$ at `M` codes
# `z` of shape `(M, d)`, for the encoder's outputs `mu` and `log_var` of shape `(N, d)`, returning
# shape `(M,)`. Codes far from every $\mu_n$ have log-densities in the thousands below zero, where
# `exp` underflows to 0: combine the components with `torch.logsumexp`.

# %% [raw]
# # BEGIN SOLUTION

# %%
def aggregated_posterior_log_prob(z, mu, log_var):
    """log (1/N) sum_n N(z_m; mu_n, diag exp(log_var_n)) for codes z (M, d) and encoder outputs (N, d) -> (M,)."""
    # BEGIN SOLUTION
    diff = z[:, None, :] - mu[None, :, :]  # (M, N, d)
    log_q = -0.5 * (math.log(2 * math.pi) + log_var[None] + diff.square() / log_var.exp()[None]).sum(-1)  # (M, N)
    return torch.logsumexp(log_q, dim=1) - math.log(mu.shape[0])
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 1
failure_message: "With one image the aggregated posterior is that image's Gaussian."
""" # END TEST CONFIG
def test_one_image(aggregated_posterior_log_prob):
    import torch

    from gencourse.exercises import checks

    mu = torch.tensor([[1.0, -2.0]], dtype=torch.float64)
    log_var = torch.tensor([[0.0, 0.5]], dtype=torch.float64)
    z = torch.tensor([[0.0, 0.0], [1.0, -2.0], [2.0, -1.0]], dtype=torch.float64)
    expected = torch.distributions.Normal(mu, (0.5 * log_var).exp()).log_prob(z).sum(-1)
    checks.close("aggregated_posterior_log_prob with N = 1", aggregated_posterior_log_prob(z, mu, log_var), expected,
                 hint="log N(z; mu, sigma^2) summed over the d coordinates, one value per code: shape (M,).")

test_one_image(aggregated_posterior_log_prob)

# %%
""" # BEGIN TEST CONFIG
hidden: true
points: 1
""" # END TEST CONFIG
def test_mixture_and_far_codes(aggregated_posterior_log_prob):
    import torch

    from gencourse.exercises import checks

    g = torch.Generator().manual_seed(4)
    mu = torch.randn(3, 2, generator=g, dtype=torch.float64)
    log_var = 0.3 * torch.randn(3, 2, generator=g, dtype=torch.float64)
    z = torch.cat([torch.randn(4, 2, generator=g, dtype=torch.float64), torch.tensor([[60.0, -80.0]], dtype=torch.float64)])
    mixture = torch.distributions.MixtureSameFamily(
        torch.distributions.Categorical(probs=torch.full((3,), 1 / 3, dtype=torch.float64)),
        torch.distributions.Independent(torch.distributions.Normal(mu, (0.5 * log_var).exp()), 1))
    checks.close("aggregated_posterior_log_prob of three images, one code very far away",
                 aggregated_posterior_log_prob(z, mu, log_var), mixture.log_prob(z),
                 hint="average the N densities with torch.logsumexp(log_q, dim) - log N, never exp then log.")

test_mixture_and_far_codes(aggregated_posterior_log_prob)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION
