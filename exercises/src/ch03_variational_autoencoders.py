# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [raw]
# # ASSIGNMENT CONFIG
# name: ch03

# %% [markdown]
# # Graded exercises 3: variational auto-encoders
#
# Four questions on the chapter *Variational auto-encoders*, 10 points in all.

# %% [raw]
# # BEGIN QUESTION
# name: q1
# points: 2

# %% [markdown]
# ## Question 1 (2 points): the reparameterised sample
#
# To sample $z \sim q_\phi(z \mid x) = \mathcal N(\mu, \operatorname{diag}\sigma^2)$ so that
# gradients reach $\mu$ and $\log\sigma^2$, draw $\varepsilon \sim \mathcal N(0, I)$ and set
# $z = \mu + \sigma \odot \varepsilon$ with $\sigma = \exp(\tfrac12 \log\sigma^2)$.
# Write `reparameterize(mu, log_var, eps)` that returns $z$. `eps` may have extra leading
# dimensions (shape `(k, B, d)` against `mu` of shape `(B, d)`, for $k$ samples per input):
# let broadcasting handle them.

# %% [raw]
# # BEGIN SOLUTION

# %%
def reparameterize(mu, log_var, eps):
    """z = mu + exp(log_var / 2) * eps, differentiable in mu and log_var."""
    # BEGIN SOLUTION
    return mu + torch.exp(0.5 * log_var) * eps
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 1
failure_message: "z = mu + sigma * eps, where sigma is the standard deviation exp(log_var / 2), not the variance."
""" # END TEST CONFIG
def test_values(reparameterize):
    import math

    import torch

    from gencourse.exercises import checks

    mu = torch.tensor([[1.0, -1.0]], dtype=torch.float64)
    log_var = torch.tensor([[math.log(4.0), 0.0]], dtype=torch.float64)
    eps = torch.tensor([[0.5, 2.0]], dtype=torch.float64)
    checks.close("reparameterize(mu, log_var, eps)", reparameterize(mu, log_var, eps), torch.tensor([[2.0, 1.0]]),
                 hint="with log_var = log 4 the standard deviation is 2.")

test_values(reparameterize)

# %%
""" # BEGIN TEST CONFIG
hidden: true
points: 1
""" # END TEST CONFIG
def test_gradients_and_broadcasting(reparameterize):
    import torch

    from gencourse.exercises import checks

    g = torch.Generator().manual_seed(0)
    mu = torch.randn(4, 3, generator=g, dtype=torch.float64, requires_grad=True)
    log_var = torch.randn(4, 3, generator=g, dtype=torch.float64, requires_grad=True)
    eps = torch.randn(5, 4, 3, generator=g, dtype=torch.float64)
    z = reparameterize(mu, log_var, eps)
    checks.answered("reparameterize(mu, log_var, eps)", z)
    checks.close("reparameterize with eps of shape (5, 4, 3)", z.detach(),
                 mu.detach() + (0.5 * log_var.detach()).exp() * eps)
    d_mu, d_log_var = torch.autograd.grad(z.sum(), (mu, log_var))
    checks.close("d sum(z) / d mu", d_mu, torch.full((4, 3), 5.0), hint="keep z a differentiable function of mu.")
    checks.close("d sum(z) / d log_var", d_log_var, (0.5 * (0.5 * log_var.detach()).exp() * eps).sum(0))

test_gradients_and_broadcasting(reparameterize)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q2
# points: 3

# %% [markdown]
# ## Question 2 (3 points): the VAE's loss, the negative ELBO
#
# For a batch of binarised images $x$ (shape `(B, D)`), decoder logits `x_logits` (shape
# `(B, D)`, decoded from one reparameterised sample each) and the encoder's `mu`, `log_var`
# (shape `(B, d)`), the one-sample estimate of the negative ELBO of each image is
#
# $$ -\log p_\theta(x \mid z) + \mathrm{KL}\big(q_\phi(z \mid x) \,\|\, \mathcal N(0, I)\big)
#    = \sum_j \big[\operatorname{softplus}(\ell_j) - x_j \ell_j\big]
#    + \frac12 \sum_i \big(\mu_i^2 + \sigma_i^2 - \log\sigma_i^2 - 1\big). $$
#
# Write `negative_elbo(x, x_logits, mu, log_var)` that returns its **mean over the batch** (a
# 0-dimensional tensor).

# %% [raw]
# # BEGIN SOLUTION

# %%
def negative_elbo(x, x_logits, mu, log_var):
    """Batch mean of -log p(x | z) + KL(q(z | x) || N(0, I)), Bernoulli pixels on logits."""
    # BEGIN SOLUTION
    recon = (torch.nn.functional.softplus(x_logits) - x * x_logits).sum(1)
    kl = 0.5 * (mu.pow(2) + log_var.exp() - log_var - 1).sum(1)
    return (recon + kl).mean()
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 1
failure_message: "With zero logits every pixel costs log 2, and with mu = 0, log_var = 0 the KL is 0."
""" # END TEST CONFIG
def test_simple_batch(negative_elbo):
    import math

    import torch

    from gencourse.exercises import checks

    x = torch.tensor([[1.0, 0.0, 1.0], [0.0, 0.0, 1.0]], dtype=torch.float64)
    zeros = torch.zeros(2, 2, dtype=torch.float64)
    checks.close("negative_elbo with zero logits and q = N(0, I)", negative_elbo(x, torch.zeros_like(x), zeros, zeros),
                 torch.tensor(3 * math.log(2)), hint="sum over pixels and latent dimensions, then average over "
                 "the batch.")
    mu = torch.tensor([[1.0, 0.0], [0.0, 0.0]], dtype=torch.float64)
    checks.close("negative_elbo with mu = (1, 0) for the first image", negative_elbo(x, torch.zeros_like(x), mu, zeros),
                 torch.tensor(3 * math.log(2) + 0.25), hint="the KL of the first image is 1/2; the batch mean halves it.")

test_simple_batch(negative_elbo)

# %%
""" # BEGIN TEST CONFIG
hidden: true
points: 2
""" # END TEST CONFIG
def test_against_the_package(negative_elbo):
    import torch

    from gencourse.exercises import checks
    from gencourse.vae import bernoulli_log_likelihood
    from gencourse.vi import gaussian_kl

    g = torch.Generator().manual_seed(4)
    x = (torch.rand(8, 20, generator=g, dtype=torch.float64) < 0.3).to(torch.float64)
    x_logits = 30 * torch.randn(8, 20, generator=g, dtype=torch.float64)  # some far beyond sigmoid's range
    mu, log_var = torch.randn(2, 8, 5, generator=g, dtype=torch.float64)
    expected = (-bernoulli_log_likelihood(x_logits, x) + gaussian_kl(mu, log_var)).mean()
    checks.close("negative_elbo on a random batch with large logits", negative_elbo(x, x_logits, mu, log_var), expected,
                 hint="use softplus on the logits; sigmoid then log loses everything past |logit| of about 37.")

test_against_the_package(negative_elbo)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q3
# points: 3

# %% [markdown]
# ## Question 3 (3 points): the importance-weighted bound
#
# With $K$ samples $z_k \sim q_\phi(z \mid x)$ and log-weights
# $\log w_k = \log p_\theta(x, z_k) - \log q_\phi(z_k \mid x)$, the IWAE bound is
#
# $$ \mathcal L_K = \log \frac1K \sum_{k=1}^K w_k \le \log p_\theta(x). $$
#
# Write `iwae_bound(log_w)` for log-weights of shape `(K, B)` that returns $\mathcal L_K$ for each
# of the $B$ inputs (shape `(B,)`). Log-weights of images are around $-100$, where $e^{\log w}$
# is $10^{-44}$: never exponentiate them directly (`torch.logsumexp`).

# %% [raw]
# # BEGIN SOLUTION

# %%
def iwae_bound(log_w):
    """log (1/K) sum_k exp(log_w[k]) over the first dimension: (K, B) -> (B,)."""
    # BEGIN SOLUTION
    return torch.logsumexp(log_w, dim=0) - math.log(log_w.shape[0])
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 1
failure_message: "With K = 1 the bound is the one log-weight; with K equal log-weights it is that value again."
""" # END TEST CONFIG
def test_small_cases(iwae_bound):
    import torch

    from gencourse.exercises import checks

    log_w = torch.tensor([[-1.0, 2.0]], dtype=torch.float64)
    checks.close("iwae_bound with K = 1", iwae_bound(log_w), torch.tensor([-1.0, 2.0]),
                 hint="reduce over the first dimension (the K samples), keeping one value per input.")
    checks.close("iwae_bound of 4 equal log-weights", iwae_bound(torch.full((4, 2), -3.0, dtype=torch.float64)),
                 torch.tensor([-3.0, -3.0]), hint="the average of K equal weights is that weight: subtract log K.")

test_small_cases(iwae_bound)

# %%
""" # BEGIN TEST CONFIG
hidden: true
points: 2
""" # END TEST CONFIG
def test_image_sized_log_weights(iwae_bound):
    import torch

    from gencourse.exercises import checks
    from gencourse.vae import iwae_bound as reference

    g = torch.Generator().manual_seed(1)
    log_w = -1000 + 5 * torch.randn(50, 3, generator=g, dtype=torch.float64)
    checks.close("iwae_bound of log-weights around -1000", iwae_bound(log_w), reference(log_w), rtol=1e-12,
                 hint="exp(-1000) is 0 in float64: use torch.logsumexp.")

test_image_sized_log_weights(iwae_bound)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q4
# points: 2

# %% [markdown]
# ## Question 4 (2 points): KL warm-up
#
# Early in training the KL term can pull $q_\phi(z \mid x)$ onto the prior before the decoder
# has learnt to use $z$. *KL warm-up* (annealing) multiplies the KL by a weight that rises
# linearly from 0 at step 0 to $\beta$ at step `warmup_steps` and stays at $\beta$ afterwards
# ($\beta = 1$ gives the ELBO, other values the $\beta$-VAE). Write
# `kl_weight(step, warmup_steps, beta)` returning that weight as a float; with
# `warmup_steps = 0` there is no warm-up.

# %% [raw]
# # BEGIN SOLUTION

# %%
def kl_weight(step, warmup_steps, beta):
    """The KL weight at `step`: linear from 0 to beta over warmup_steps, then beta."""
    # BEGIN SOLUTION
    if warmup_steps <= 0:
        return beta
    return beta * min(1.0, step / warmup_steps)
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 1
failure_message: "The weight is 0 at step 0, beta / 2 half-way, and beta from warmup_steps on."
""" # END TEST CONFIG
def test_schedule(kl_weight):
    from gencourse.exercises import checks

    checks.close("kl_weight(0, 100, 1.0)", kl_weight(0, 100, 1.0), 0.0)
    checks.close("kl_weight(50, 100, 1.0)", kl_weight(50, 100, 1.0), 0.5, hint="linear in step.")
    checks.close("kl_weight(500, 100, 1.0)", kl_weight(500, 100, 1.0), 1.0, hint="stay at beta after the warm-up.")

test_schedule(kl_weight)

# %%
""" # BEGIN TEST CONFIG
hidden: true
points: 1
""" # END TEST CONFIG
def test_beta_and_no_warmup(kl_weight):
    from gencourse.exercises import checks
    from gencourse.vae import kl_warmup

    for step, warmup, beta in [(30, 120, 4.0), (1000, 120, 0.5), (0, 0, 2.0), (7, 0, 0.25)]:
        checks.close(f"kl_weight({step}, {warmup}, {beta})", kl_weight(step, warmup, beta),
                     kl_warmup(step, warmup, beta), hint="scale by beta; with warmup_steps = 0 return beta at once.")

test_beta_and_no_warmup(kl_weight)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION
