# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [raw]
# # ASSIGNMENT CONFIG
# name: ch04

# %% [markdown]
# # Graded exercises 4: GANs in theory and practice
#
# Four questions on the chapter *GANs: theory and practice*, 10 points in all.

# %% [raw]
# # BEGIN QUESTION
# name: q1
# points: 3

# %% [markdown]
# ## Question 1 (3 points): the discriminator's loss, on logits
#
# The discriminator outputs a logit $\ell = d_\psi(x)$ and $D_\psi(x) = \sigma(\ell)$. It
# maximises the value $\mathbb E_{p_\text{data}} \log D_\psi(x) + \mathbb E_{z} \log(1 - D_\psi(G_\theta(z)))$,
# so it minimises
#
# $$ -\frac1B \sum_b \log \sigma(\ell^\text{real}_b) - \frac1B \sum_b \log\big(1 - \sigma(\ell^\text{fake}_b)\big). $$
#
# Write `discriminator_loss(d_real, d_fake)` from the logits of a batch of real and a batch of
# generated examples (shape `(B,)` each). Use $\log \sigma(\ell) = -\operatorname{softplus}(-\ell)$
# and $\log(1 - \sigma(\ell)) = -\operatorname{softplus}(\ell)$, so that a confident discriminator
# (logits of $\pm 200$) still gives a finite loss.

# %% [raw]
# # BEGIN SOLUTION

# %%
def discriminator_loss(d_real, d_fake):
    """-E log D(x) - E log(1 - D(G(z))) from the logits d_real (B,) and d_fake (B,)."""
    # BEGIN SOLUTION
    return torch.nn.functional.softplus(-d_real).mean() + torch.nn.functional.softplus(d_fake).mean()
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 1
failure_message: "A discriminator that says 1/2 everywhere (logit 0) has loss 2 log 2."
""" # END TEST CONFIG
def test_undecided_discriminator(discriminator_loss):
    import math

    import torch

    from gencourse.exercises import checks

    zeros = torch.zeros(4, dtype=torch.float64)
    checks.close("discriminator_loss with every logit 0", discriminator_loss(zeros, zeros), torch.tensor(2 * math.log(2)),
                 hint="-log(1/2) for the real batch plus -log(1/2) for the fake one, each averaged over the batch.")

test_undecided_discriminator(discriminator_loss)

# %%
""" # BEGIN TEST CONFIG
hidden: true
points: 2
""" # END TEST CONFIG
def test_against_the_package(discriminator_loss):
    import torch

    from gencourse.exercises import checks
    from gencourse.gan import discriminator_loss as reference

    d_real = torch.tensor([3.0, -1.0, 200.0, -200.0, 0.5], dtype=torch.float64)
    d_fake = torch.tensor([-2.0, 0.0, -200.0, 200.0, 1.5], dtype=torch.float64)
    checks.close("discriminator_loss with logits up to +-200", discriminator_loss(d_real, d_fake),
                 reference(d_real, d_fake), hint="real examples should get D = 1 (label 1), fakes D = 0; use softplus.")

test_against_the_package(discriminator_loss)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q2
# points: 2

# %% [markdown]
# ## Question 2 (2 points): the non-saturating generator loss
#
# Early in training the discriminator rejects every sample: $D_\psi(G_\theta(z)) \approx 0$. The
# minimax generator loss $\mathbb E \log(1 - D)$ is then flat, while the *non-saturating* loss
# $-\mathbb E \log D_\psi(G_\theta(z))$ keeps a gradient of about $-1$ per logit. Write
# `generator_loss_non_saturating(d_fake)` from the logits `d_fake` (shape `(B,)`), averaged over
# the batch.

# %% [raw]
# # BEGIN SOLUTION

# %%
def generator_loss_non_saturating(d_fake):
    """-E log D(G(z)) from the logits d_fake (B,)."""
    # BEGIN SOLUTION
    return torch.nn.functional.softplus(-d_fake).mean()
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 1
failure_message: "At logit 0, D = 1/2 and -log D = log 2."
""" # END TEST CONFIG
def test_value_at_zero(generator_loss_non_saturating):
    import math

    import torch

    from gencourse.exercises import checks

    checks.close("generator_loss_non_saturating(zeros)", generator_loss_non_saturating(torch.zeros(3, dtype=torch.float64)),
                 torch.tensor(math.log(2)), hint="-log sigmoid(l) = softplus(-l), averaged over the batch.")

test_value_at_zero(generator_loss_non_saturating)

# %%
""" # BEGIN TEST CONFIG
hidden: true
points: 1
""" # END TEST CONFIG
def test_gradient_when_rejected(generator_loss_non_saturating):
    import torch

    from gencourse.exercises import checks

    d_fake = torch.full((4,), -30.0, dtype=torch.float64, requires_grad=True)
    loss = generator_loss_non_saturating(d_fake)
    checks.answered("generator_loss_non_saturating(d_fake)", loss)
    (grad,) = torch.autograd.grad(loss, d_fake)
    checks.close("gradient of the loss at logits -30 (D about 1e-13)", grad, torch.full((4,), -0.25), rtol=1e-9,
                 hint="d/dl softplus(-l) = -sigmoid(-l), about -1 for very negative l; divide by the batch size.")

test_gradient_when_rejected(generator_loss_non_saturating)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q3
# points: 3

# %% [markdown]
# ## Question 3 (3 points): the Jensen-Shannon divergence
#
# For two distributions $p$, $q$ on $n$ bins (tensors of shape `(n,)` summing to 1) and
# $m = (p + q)/2$,
#
# $$ \mathrm{JS}(p \,\|\, q) = \tfrac12 \mathrm{KL}(p \,\|\, m) + \tfrac12 \mathrm{KL}(q \,\|\, m). $$
#
# Write `js_divergence(p, q)` (a 0-dimensional tensor). Empty bins are allowed: $0 \log 0 = 0$
# (`torch.xlogy` does this for you). It lies between 0 and $\log 2$.

# %% [raw]
# # BEGIN SOLUTION

# %%
def js_divergence(p, q):
    """JS(p || q) between two distributions on the same bins, shapes (n,), (n,) -> ()."""
    # BEGIN SOLUTION
    m = (p + q) / 2
    kl_pm = (torch.xlogy(p, p) - torch.xlogy(p, m)).sum()
    kl_qm = (torch.xlogy(q, q) - torch.xlogy(q, m)).sum()
    return (kl_pm + kl_qm) / 2
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 1
failure_message: "JS(p || p) = 0, and JS is log 2 for distributions on disjoint bins."
""" # END TEST CONFIG
def test_extremes(js_divergence):
    import math

    import torch

    from gencourse.exercises import checks

    p = torch.tensor([0.5, 0.5, 0.0, 0.0], dtype=torch.float64)
    q = torch.tensor([0.0, 0.0, 0.25, 0.75], dtype=torch.float64)
    checks.close("js_divergence(p, p)", js_divergence(p, p), torch.tensor(0.0),
                 hint="empty bins contribute 0: use torch.xlogy(p, p) for p log p.")
    checks.close("js_divergence on disjoint supports", js_divergence(p, q), torch.tensor(math.log(2)),
                 hint="on disjoint supports m = p/2 where p lives, so KL(p || m) = log 2.")

test_extremes(js_divergence)

# %%
""" # BEGIN TEST CONFIG
hidden: true
points: 2
""" # END TEST CONFIG
def test_value_of_the_game_at_the_optimal_discriminator(js_divergence):
    import math

    import torch

    from gencourse.exercises import checks
    from gencourse.gan import gan_value, optimal_discriminator

    g = torch.Generator().manual_seed(8)
    p = torch.rand(12, generator=g, dtype=torch.float64)
    q = torch.rand(12, generator=g, dtype=torch.float64)
    p, q = p / p.sum(), q / q.sum()
    # C(G) = max_D V(D, G) = -log 4 + 2 JS(p_data || p_model)
    value = gan_value(p, q, optimal_discriminator(p, q))
    checks.close("-log 4 + 2 * js_divergence(p, q) against the value of the game at D*",
                 -math.log(4) + 2 * js_divergence(p, q), value, hint="use m = (p + q) / 2 in both KL terms.")

test_value_of_the_game_at_the_optimal_discriminator(js_divergence)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q4
# points: 2

# %% [markdown]
# ## Question 4 (2 points): the optimal discriminator
#
# For a fixed generator with density $p_\text{model}$, the discriminator that maximises the value
# of the game is, at every $x$,
#
# $$ D^*(x) = \frac{p_\text{data}(x)}{p_\text{data}(x) + p_\text{model}(x)}. $$
#
# Write `optimal_discriminator(p_data, p_model)` from the two densities evaluated at the same
# points (tensors of the same shape).

# %% [raw]
# # BEGIN SOLUTION

# %%
def optimal_discriminator(p_data, p_model):
    """D*(x) = p_data(x) / (p_data(x) + p_model(x)), elementwise."""
    # BEGIN SOLUTION
    return p_data / (p_data + p_model)
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 1
failure_message: "Where the two densities agree, D* = 1/2; where only the data has mass, D* = 1."
""" # END TEST CONFIG
def test_simple_points(optimal_discriminator):
    import torch

    from gencourse.exercises import checks

    p_data = torch.tensor([0.2, 0.3, 0.0], dtype=torch.float64)
    p_model = torch.tensor([0.2, 0.0, 0.4], dtype=torch.float64)
    checks.close("optimal_discriminator at three points", optimal_discriminator(p_data, p_model),
                 torch.tensor([0.5, 1.0, 0.0]), hint="the probability that x came from the data rather than the model.")

test_simple_points(optimal_discriminator)

# %%
""" # BEGIN TEST CONFIG
hidden: true
points: 1
""" # END TEST CONFIG
def test_maximises_the_value(optimal_discriminator):
    import torch

    from gencourse.exercises import checks
    from gencourse.gan import gan_value

    g = torch.Generator().manual_seed(9)
    p = torch.rand(10, generator=g, dtype=torch.float64)
    q = torch.rand(10, generator=g, dtype=torch.float64)
    p, q = p / p.sum(), q / q.sum()
    d_star = optimal_discriminator(p, q)
    checks.answered("optimal_discriminator(p, q)", d_star)
    best = gan_value(p, q, d_star)
    for scale in (0.9, 1.05):
        other = gan_value(p, q, (d_star * scale).clamp(1e-9, 1 - 1e-9))
        checks.close(f"V(D*, G) >= V(D* x {scale}, G)", float(best >= other), 1.0,
                     hint="D* maximises p log D + q log(1 - D) pointwise.")

test_maximises_the_value(optimal_discriminator)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION
