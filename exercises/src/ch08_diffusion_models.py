# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [raw]
# # ASSIGNMENT CONFIG
# name: ch08

# %% [markdown]
# # Graded exercises 8: diffusion models
#
# Four questions on the chapter *Diffusion models*, 10 points in all.
#
# Every question uses the same conventions as the chapter. Time steps are integers $t = 1, \dots, T$.
# The schedule is a tensor `beta` of shape `(T,)` holding $\beta_1, \dots, \beta_T$, so that
# $\beta_t$ is `beta[t - 1]`; $\alpha_t = 1 - \beta_t$ and $\bar\alpha_t = \prod_{s \le t} \alpha_s$,
# with $\bar\alpha_0 = 1$. A batch `x0` has shape `(B, ...)`: points `(B, D)` or images
# `(B, C, H, W)`. The time steps of a batch are an integer tensor `t` of shape `(B,)`, one step per
# example, so each example may be at a different step.

# %% [raw]
# # BEGIN QUESTION
# name: q1
# points: 2

# %% [markdown]
# ## Question 1 (2 points): the forward process in one draw
#
# The forward process $q(x_t \mid x_{t-1}) = \mathcal N(\sqrt{\alpha_t}\, x_{t-1}, \beta_t I)$ collapses
# into one step from the data,
#
# $$ x_t = \sqrt{\bar\alpha_t}\, x_0 + \sqrt{1 - \bar\alpha_t}\, \varepsilon, \qquad \varepsilon \sim \mathcal N(0, I). $$
#
# Write `q_sample(x0, t, eps, beta)` that returns $x_t$ (same shape as `x0`) for a batch `x0`, its time
# steps `t` (shape `(B,)`), the noise `eps` (same shape as `x0`) and the schedule `beta` (shape `(T,)`).
# Each example uses the $\bar\alpha_t$ of its own step.

# %% [raw]
# # BEGIN SOLUTION

# %%
def q_sample(x0, t, eps, beta):
    """x_t = sqrt(alpha_bar_t) x0 + sqrt(1 - alpha_bar_t) eps, each example at its own step t."""
    # BEGIN SOLUTION
    alpha_bar = torch.cumprod(1 - beta, dim=0)[t - 1]  # (B,)
    alpha_bar = alpha_bar.view(-1, *[1] * (x0.dim() - 1))  # (B, 1, ..., 1)
    return alpha_bar.sqrt() * x0 + (1 - alpha_bar).sqrt() * eps
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 1
failure_message: "With beta = (0.2, 0.5), alpha_bar = (0.8, 0.4): x_1 = sqrt(0.8) x0 + sqrt(0.2) eps and x_2 = sqrt(0.4) x0 + sqrt(0.6) eps."
""" # END TEST CONFIG
def test_two_steps(q_sample):
    import math

    import torch

    from gencourse.exercises import checks

    beta = torch.tensor([0.2, 0.5], dtype=torch.float64)
    x0 = torch.tensor([[1.0, -1.0], [2.0, 0.5]], dtype=torch.float64)
    eps = torch.tensor([[0.5, 0.0], [-1.0, 1.0]], dtype=torch.float64)
    t = torch.tensor([1, 2])
    expected = torch.stack([math.sqrt(0.8) * x0[0] + math.sqrt(0.2) * eps[0],
                            math.sqrt(0.4) * x0[1] + math.sqrt(0.6) * eps[1]])
    checks.close("q_sample of two points at t = 1 and t = 2", q_sample(x0, t, eps, beta), expected,
                 hint="alpha_bar_t is the product of (1 - beta_s) for s = 1..t, and beta_t is beta[t - 1].")

test_two_steps(q_sample)

# %%
""" # BEGIN TEST CONFIG
hidden: true
points: 1
""" # END TEST CONFIG
def test_images_at_their_own_steps(q_sample):
    import torch

    from gencourse.exercises import checks

    g = torch.Generator().manual_seed(8)
    T = 40
    beta = torch.linspace(1e-3, 0.2, T, dtype=torch.float64)
    x0 = torch.rand(5, 1, 3, 3, generator=g, dtype=torch.float64) * 2 - 1
    eps = torch.randn(5, 1, 3, 3, generator=g, dtype=torch.float64)
    t = torch.tensor([1, 7, 40, 13, 7])
    expected = []
    for n in range(5):  # alpha_bar_t by a plain loop over the steps
        alpha_bar = 1.0
        for s in range(1, int(t[n]) + 1):
            alpha_bar *= 1 - float(beta[s - 1])
        expected.append(alpha_bar**0.5 * x0[n] + (1 - alpha_bar) ** 0.5 * eps[n])
    checks.close("q_sample of (5, 1, 3, 3) images at steps (1, 7, 40, 13, 7)", q_sample(x0, t, eps, beta),
                 torch.stack(expected), hint="reshape the (B,) coefficients to (B, 1, ..., 1), whatever the "
                 "number of dimensions of x0, so that they broadcast over each example.")

test_images_at_their_own_steps(q_sample)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q2
# points: 3

# %% [markdown]
# ## Question 2 (3 points): one step back, given the data
#
# Given the data point, the step back of the forward process is Gaussian,
# $q(x_{t-1} \mid x_t, x_0) = \mathcal N(\tilde\mu_t, \tilde\beta_t I)$, with
#
# $$ \tilde\mu_t = \frac{\sqrt{\bar\alpha_{t-1}}\, \beta_t}{1 - \bar\alpha_t}\, x_0
#    + \frac{\sqrt{\alpha_t}\, (1 - \bar\alpha_{t-1})}{1 - \bar\alpha_t}\, x_t,
#    \qquad \tilde\beta_t = \frac{1 - \bar\alpha_{t-1}}{1 - \bar\alpha_t}\, \beta_t. $$
#
# Write `q_posterior(x0, x_t, t, beta)` that returns the pair `(mean, variance)`: the mean
# $\tilde\mu_t$ with the shape of `x0`, and the variance $\tilde\beta_t$ of each example, shape `(B,)`.
# It must be right at every step $t = 1, \dots, T$, including $t = 1$, where $\bar\alpha_0 = 1$.

# %% [raw]
# # BEGIN SOLUTION

# %%
def q_posterior(x0, x_t, t, beta):
    """Mean (shape of x0) and variance (B,) of q(x_{t-1} | x_t, x0)."""
    # BEGIN SOLUTION
    alpha = 1 - beta
    alpha_bar = torch.cumprod(alpha, dim=0)
    alpha_bar_prev = torch.cat([beta.new_ones(1), alpha_bar])[t - 1]  # alpha_bar_{t-1}, with alpha_bar_0 = 1
    alpha_bar_t, alpha_t, beta_t = alpha_bar[t - 1], alpha[t - 1], beta[t - 1]
    variance = (1 - alpha_bar_prev) / (1 - alpha_bar_t) * beta_t
    shape = (-1, *[1] * (x0.dim() - 1))
    coef_x0 = (alpha_bar_prev.sqrt() * beta_t / (1 - alpha_bar_t)).view(shape)
    coef_xt = (alpha_t.sqrt() * (1 - alpha_bar_prev) / (1 - alpha_bar_t)).view(shape)
    return coef_x0 * x0 + coef_xt * x_t, variance
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 1
failure_message: "With beta = (0.2, 0.5) and t = 2: alpha_bar_1 = 0.8, alpha_bar_2 = 0.4, so beta_tilde_2 = 0.2 / 0.6 * 0.5 = 1/6."
""" # END TEST CONFIG
def test_second_of_two_steps(q_posterior):
    import math

    import torch

    from gencourse.exercises import checks

    beta = torch.tensor([0.2, 0.5], dtype=torch.float64)
    x0 = torch.tensor([[1.0, -1.0]], dtype=torch.float64)
    x_t = torch.tensor([[0.5, 2.0]], dtype=torch.float64)
    answer = q_posterior(x0, x_t, torch.tensor([2]), beta)
    checks.answered("q_posterior(x0, x_t, t=2, beta)", answer)
    mean, variance = answer
    coef_x0, coef_xt = math.sqrt(0.8) * 0.5 / 0.6, math.sqrt(0.5) * 0.2 / 0.6
    checks.close("the mean of q(x_1 | x_2, x0)", mean, coef_x0 * x0 + coef_xt * x_t,
                 hint="the coefficient of x0 uses alpha_bar_{t-1} = alpha_bar_1, that of x_t uses alpha_t = alpha_2.")
    checks.close("the variance of q(x_1 | x_2, x0)", variance, torch.tensor([1 / 6]),
                 hint="one variance per example: a tensor of shape (B,).")

test_second_of_two_steps(q_posterior)

# %%
""" # BEGIN TEST CONFIG
hidden: true
points: 1
""" # END TEST CONFIG
def test_first_step_returns_the_data(q_posterior):
    import torch

    from gencourse.exercises import checks

    g = torch.Generator().manual_seed(4)
    beta = torch.linspace(0.01, 0.3, 10, dtype=torch.float64)
    x0 = torch.randn(3, 4, generator=g, dtype=torch.float64)
    x_t = torch.randn(3, 4, generator=g, dtype=torch.float64)
    answer = q_posterior(x0, x_t, torch.tensor([1, 1, 1]), beta)
    checks.answered("q_posterior at t = 1", answer)
    mean, variance = answer
    checks.close("the mean of q(x_0 | x_1, x0) at t = 1", mean, x0,
                 hint="at t = 1, alpha_bar_{t-1} = alpha_bar_0 = 1 (not alpha_bar of the last step).")
    checks.close("the variance of q(x_0 | x_1, x0) at t = 1", variance, torch.zeros(3),
                 hint="at t = 1, 1 - alpha_bar_0 = 0.")

test_first_step_returns_the_data(q_posterior)

# %%
""" # BEGIN TEST CONFIG
hidden: true
points: 1
""" # END TEST CONFIG
def test_against_conditioning_the_joint_gaussian(q_posterior):
    import torch

    from gencourse.exercises import checks

    g = torch.Generator().manual_seed(6)
    T = 30
    beta = torch.linspace(1e-3, 0.1, T, dtype=torch.float64)
    alpha_bar = torch.cumprod(1 - beta, dim=0)
    x0 = torch.randn(4, 2, 2, 2, generator=g, dtype=torch.float64)
    x_t = torch.randn(4, 2, 2, 2, generator=g, dtype=torch.float64)
    t = torch.tensor([2, 30, 17, 5])
    means, variances = [], []
    for n in range(4):
        # given x0: x_{t-1} = sqrt(ab_prev) x0 + noise of variance 1 - ab_prev, x_t = sqrt(alpha_t) x_{t-1} + ...
        k = int(t[n])
        ab_prev, ab, alpha_t = float(alpha_bar[k - 2]), float(alpha_bar[k - 1]), 1 - float(beta[k - 1])
        cov, var_t = alpha_t**0.5 * (1 - ab_prev), 1 - ab  # Cov(x_{t-1}, x_t | x0), Var(x_t | x0)
        means.append(ab_prev**0.5 * x0[n] + cov / var_t * (x_t[n] - ab**0.5 * x0[n]))
        variances.append((1 - ab_prev) - cov**2 / var_t)
    answer = q_posterior(x0, x_t, t, beta)
    checks.answered("q_posterior of (4, 2, 2, 2) images", answer)
    mean, variance = answer
    checks.close("the mean of q(x_{t-1} | x_t, x0) against conditioning the joint Gaussian", mean,
                 torch.stack(means), hint="reshape the (B,) coefficients to (B, 1, 1, 1) for images.")
    checks.close("the variance of q(x_{t-1} | x_t, x0) against conditioning the joint Gaussian", variance,
                 torch.tensor(variances), hint="beta_tilde_t = (1 - alpha_bar_{t-1}) / (1 - alpha_bar_t) beta_t.")

test_against_conditioning_the_joint_gaussian(q_posterior)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q3
# points: 3

# %% [markdown]
# ## Question 3 (3 points): one ancestral step
#
# A denoiser's guess $\varepsilon_\theta(x_t, t)$ of the noise in $x_t$ gives the reverse model's
# step
#
# $$ x_{t-1} = \frac{1}{\sqrt{\alpha_t}} \Big(x_t - \frac{\beta_t}{\sqrt{1 - \bar\alpha_t}}\,
#    \varepsilon_\theta(x_t, t)\Big) + \sigma_t z, \qquad \sigma_t^2 = \beta_t, $$
#
# with $z \sim \mathcal N(0, I)$ at every step except the last: at $t = 1$ the step returns its mean
# ($z = 0$). Write `ancestral_step(x_t, t, eps_theta, z, beta)` that returns $x_{t-1}$ (shape of `x_t`),
# given the denoiser's output `eps_theta` and a standard normal draw `z`, both of the shape of `x_t`.
# Each example is at its own step `t` (shape `(B,)`); ignore `z` for the examples at $t = 1$.

# %% [raw]
# # BEGIN SOLUTION

# %%
def ancestral_step(x_t, t, eps_theta, z, beta):
    """x_{t-1} = (x_t - beta_t / sqrt(1 - alpha_bar_t) eps_theta) / sqrt(alpha_t) + sqrt(beta_t) z, z = 0 at t = 1."""
    # BEGIN SOLUTION
    shape = (-1, *[1] * (x_t.dim() - 1))
    alpha_bar = torch.cumprod(1 - beta, dim=0)[t - 1].view(shape)
    beta_t = beta[t - 1].view(shape)
    mean = (x_t - beta_t / (1 - alpha_bar).sqrt() * eps_theta) / (1 - beta_t).sqrt()
    noise = (t > 1).to(x_t.dtype).view(shape) * beta_t.sqrt() * z
    return mean + noise
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 1
failure_message: "With beta = (0.2, 0.5) at t = 2: alpha_2 = 0.5, 1 - alpha_bar_2 = 0.6, sigma_2 = sqrt(0.5)."
""" # END TEST CONFIG
def test_one_step_by_hand(ancestral_step):
    import math

    import torch

    from gencourse.exercises import checks

    beta = torch.tensor([0.2, 0.5], dtype=torch.float64)
    x_t = torch.tensor([[1.0, 0.0]], dtype=torch.float64)
    eps_theta = torch.tensor([[0.5, -1.0]], dtype=torch.float64)
    z = torch.tensor([[1.0, 1.0]], dtype=torch.float64)
    expected = (x_t - 0.5 / math.sqrt(0.6) * eps_theta) / math.sqrt(0.5) + math.sqrt(0.5) * z
    checks.close("ancestral_step at t = 2", ancestral_step(x_t, torch.tensor([2]), eps_theta, z, beta), expected,
                 hint="the mean divides by sqrt(alpha_t); the noise is sigma_t z with sigma_t = sqrt(beta_t).")

test_one_step_by_hand(ancestral_step)

# %%
""" # BEGIN TEST CONFIG
hidden: true
points: 1
""" # END TEST CONFIG
def test_images_with_a_last_step(ancestral_step):
    import torch

    from gencourse.exercises import checks

    g = torch.Generator().manual_seed(12)
    T = 25
    beta = torch.linspace(1e-3, 0.15, T, dtype=torch.float64)
    x_t = torch.randn(4, 1, 3, 3, generator=g, dtype=torch.float64)
    eps_theta = torch.randn(4, 1, 3, 3, generator=g, dtype=torch.float64)
    z = torch.randn(4, 1, 3, 3, generator=g, dtype=torch.float64)
    t = torch.tensor([1, 25, 9, 1])
    expected = []
    for n in range(4):
        k = int(t[n])
        alpha_bar = float(torch.prod(1 - beta[:k]))
        b = float(beta[k - 1])
        mean = (x_t[n] - b / (1 - alpha_bar) ** 0.5 * eps_theta[n]) / (1 - b) ** 0.5
        expected.append(mean + (b**0.5 * z[n] if k > 1 else 0.0))
    checks.close("ancestral_step of (4, 1, 3, 3) images at steps (1, 25, 9, 1)",
                 ancestral_step(x_t, t, eps_theta, z, beta), torch.stack(expected),
                 hint="no noise for the examples at t = 1: the last step returns the mean.")

test_images_with_a_last_step(ancestral_step)

# %%
""" # BEGIN TEST CONFIG
hidden: true
points: 1
""" # END TEST CONFIG
def test_true_noise_gives_the_posterior_mean(ancestral_step):
    import torch

    from gencourse.exercises import checks

    g = torch.Generator().manual_seed(13)
    T = 20
    beta = torch.linspace(1e-2, 0.2, T, dtype=torch.float64)
    alpha_bar = torch.cumprod(1 - beta, dim=0)
    alpha_bar_prev = torch.cat([torch.ones(1, dtype=torch.float64), alpha_bar[:-1]])
    t = torch.tensor([1, 2, 11, 20, 6])
    x0 = torch.randn(5, 3, generator=g, dtype=torch.float64)
    eps = torch.randn(5, 3, generator=g, dtype=torch.float64)
    ab, ab_prev, b = alpha_bar[t - 1, None], alpha_bar_prev[t - 1, None], beta[t - 1, None]
    x_t = ab.sqrt() * x0 + (1 - ab).sqrt() * eps
    # with the true noise and z = 0, the step is the posterior mean tilde mu_t(x_t, x0), x0 itself at t = 1
    posterior_mean = ab_prev.sqrt() * b / (1 - ab) * x0 + (1 - b).sqrt() * (1 - ab_prev) / (1 - ab) * x_t
    checks.close("ancestral_step with the true noise and z = 0 against the posterior mean",
                 ancestral_step(x_t, t, eps, torch.zeros_like(x_t), beta), posterior_mean,
                 hint="the mean is tilde mu_t with x0 predicted from eps_theta: check the 1 / sqrt(alpha_t) and "
                 "the beta_t / sqrt(1 - alpha_bar_t).")

test_true_noise_gives_the_posterior_mean(ancestral_step)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q4
# points: 2

# %% [markdown]
# ## Question 4 (2 points): the weights of the bound
#
# With a reverse model $p_\theta(x_{t-1} \mid x_t) = \mathcal N(\mu_\theta(x_t, t), \sigma_t^2 I)$ in the
# noise parametrisation, the bound's term at step $t$ is $\lambda_t\, \mathbb E \lVert \varepsilon -
# \varepsilon_\theta(x_t, t) \rVert^2$ plus a constant, with
#
# $$ \lambda_t = \frac{\beta_t^2}{2 \sigma_t^2 \alpha_t (1 - \bar\alpha_t)}. $$
#
# Write `elbo_weights(beta, variance)` that returns $(\lambda_1, \dots, \lambda_T)$, shape `(T,)`, for
# `variance="beta"` ($\sigma_t^2 = \beta_t$) or `variance="beta_tilde"`
# ($\sigma_t^2 = \tilde\beta_t = \frac{1 - \bar\alpha_{t-1}}{1 - \bar\alpha_t} \beta_t$). In both cases
# $\sigma_1^2 = \beta_1$: $\tilde\beta_1 = 0$ would make the decoder $p_\theta(x_0 \mid x_1)$ a point mass.

# %% [raw]
# # BEGIN SOLUTION

# %%
def elbo_weights(beta, variance):
    """lambda_t = beta_t^2 / (2 sigma_t^2 alpha_t (1 - alpha_bar_t)) for t = 1..T, sigma_1^2 = beta_1."""
    # BEGIN SOLUTION
    alpha = 1 - beta
    alpha_bar = torch.cumprod(alpha, dim=0)
    alpha_bar_prev = torch.cat([beta.new_ones(1), alpha_bar[:-1]])
    if variance == "beta":
        sigma2 = beta.clone()
    else:
        sigma2 = (1 - alpha_bar_prev) / (1 - alpha_bar) * beta
        sigma2[0] = beta[0]
    return beta**2 / (2 * sigma2 * alpha * (1 - alpha_bar))
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 1
failure_message: "With sigma_t^2 = beta_t, lambda_t = beta_t / (2 alpha_t (1 - alpha_bar_t)): for beta = (0.2, 0.5), (0.625, 5/6)."
""" # END TEST CONFIG
def test_two_steps(elbo_weights):
    import torch

    from gencourse.exercises import checks

    beta = torch.tensor([0.2, 0.5], dtype=torch.float64)
    checks.close('elbo_weights(beta=(0.2, 0.5), "beta")', elbo_weights(beta, "beta"), torch.tensor([0.625, 5 / 6]),
                 hint="alpha_bar = (0.8, 0.4); one weight per step, a tensor of shape (T,).")

test_two_steps(elbo_weights)

# %%
""" # BEGIN TEST CONFIG
hidden: true
points: 1
""" # END TEST CONFIG
def test_weights_give_the_kl_terms(elbo_weights):
    import torch

    from gencourse.exercises import checks

    g = torch.Generator().manual_seed(21)
    T = 12
    beta = torch.linspace(0.02, 0.3, T, dtype=torch.float64)
    alpha = 1 - beta
    alpha_bar = torch.cumprod(alpha, dim=0)
    alpha_bar_prev = torch.cat([torch.ones(1, dtype=torch.float64), alpha_bar[:-1]])
    beta_tilde = (1 - alpha_bar_prev) / (1 - alpha_bar) * beta
    for variance, sigma2 in (("beta", beta), ("beta_tilde", torch.cat([beta[:1], beta_tilde[1:]]))):
        lam = elbo_weights(beta, variance)
        checks.answered(f'elbo_weights(beta, "{variance}")', lam)
        x0 = torch.randn(T, 3, generator=g, dtype=torch.float64)
        eps = torch.randn(T, 3, generator=g, dtype=torch.float64)
        eps_theta = eps + 0.3 * torch.randn(T, 3, generator=g, dtype=torch.float64)
        x_t = alpha_bar.sqrt()[:, None] * x0 + (1 - alpha_bar).sqrt()[:, None] * eps  # row t - 1 is at step t
        mu_theta = (x_t - (beta / (1 - alpha_bar).sqrt())[:, None] * eps_theta) / alpha.sqrt()[:, None]
        mu_tilde = ((alpha_bar_prev.sqrt() * beta / (1 - alpha_bar))[:, None] * x0
                    + (alpha.sqrt() * (1 - alpha_bar_prev) / (1 - alpha_bar))[:, None] * x_t)
        # the part of each term that depends on the network: |mu_tilde - mu_theta|^2 / (2 sigma_t^2)
        # (at t = 1, mu_tilde = x0 and this is the decoder's squared error)
        expected = (mu_tilde - mu_theta).square().sum(1) / (2 * sigma2)
        checks.close(f'elbo_weights(beta, "{variance}") times |eps - eps_theta|^2 against the KL terms',
                     lam * (eps - eps_theta).square().sum(1), expected,
                     hint="with beta_tilde, sigma_1^2 is beta_1 (beta_tilde_1 = 0); elsewhere sigma_t^2 = beta_tilde_t.")

test_weights_give_the_kl_terms(elbo_weights)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION
