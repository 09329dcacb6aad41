# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [raw]
# # ASSIGNMENT CONFIG
# name: ch02

# %% [markdown]
# # Graded exercises 2: divergences, variational inference and the ELBO
#
# Four questions on the chapter *Divergences, variational inference and the ELBO*, 10 points in
# all.

# %% [raw]
# # BEGIN QUESTION
# name: q1
# points: 3

# %% [markdown]
# ## Question 1 (3 points): the KL divergence between diagonal Gaussians
#
# For $q = \mathcal N(\mu_q, \operatorname{diag}\sigma_q^2)$ and
# $p = \mathcal N(\mu_p, \operatorname{diag}\sigma_p^2)$ in $d$ dimensions,
#
# $$ \mathrm{KL}(q \,\|\, p) = \frac12 \sum_{i=1}^d \Big[ \log\frac{\sigma_{p,i}^2}{\sigma_{q,i}^2}
#    + \frac{\sigma_{q,i}^2 + (\mu_{q,i} - \mu_{p,i})^2}{\sigma_{p,i}^2} - 1 \Big]. $$
#
# Write `gaussian_kl(mu_q, log_var_q, mu_p, log_var_p)`: the arguments are tensors of shape
# `(..., d)` holding means and **log-variances**; return the KL summed over the last dimension,
# shape `(...)`.

# %% [raw]
# # BEGIN SOLUTION

# %%
def gaussian_kl(mu_q, log_var_q, mu_p, log_var_p):
    """KL(N(mu_q, diag exp(log_var_q)) || N(mu_p, diag exp(log_var_p))), summed over the last dimension."""
    # BEGIN SOLUTION
    ratio = torch.exp(log_var_q - log_var_p)
    mahalanobis = (mu_q - mu_p).pow(2) * torch.exp(-log_var_p)
    return 0.5 * (log_var_p - log_var_q + ratio + mahalanobis - 1).sum(-1)
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 1
failure_message: "KL(q || q) = 0, and KL(N(1, 1) || N(0, 1)) = 1/2."
""" # END TEST CONFIG
def test_known_values(gaussian_kl):
    import torch

    from gencourse.exercises import checks

    zero = torch.zeros(1, 2, dtype=torch.float64)
    mu = torch.tensor([[0.3, -1.0]], dtype=torch.float64)
    log_var = torch.tensor([[0.5, -2.0]], dtype=torch.float64)
    checks.close("gaussian_kl(q, q)", gaussian_kl(mu, log_var, mu, log_var), torch.zeros(1),
                 hint="a distribution is at KL divergence 0 from itself.")
    checks.close("gaussian_kl(N((1, 0), I), N(0, I))", gaussian_kl(torch.tensor([[1.0, 0.0]], dtype=torch.float64),
                 zero, zero, zero), torch.tensor([0.5]),
                 hint="only the mean term (mu_q - mu_p)^2 / sigma_p^2 is non-zero here; sum over the last dimension.")

test_known_values(gaussian_kl)

# %%
""" # BEGIN TEST CONFIG
hidden: true
points: 2
""" # END TEST CONFIG
def test_against_torch_distributions(gaussian_kl):
    import torch
    from torch.distributions import Normal, kl_divergence

    from gencourse.exercises import checks

    g = torch.Generator().manual_seed(3)
    mu_q, mu_p = torch.randn(2, 5, 3, generator=g, dtype=torch.float64)
    log_var_q, log_var_p = torch.randn(2, 5, 3, generator=g, dtype=torch.float64)
    expected = kl_divergence(Normal(mu_q, (0.5 * log_var_q).exp()), Normal(mu_p, (0.5 * log_var_p).exp())).sum(-1)
    checks.close("gaussian_kl on a batch of 5 three-dimensional Gaussians", gaussian_kl(mu_q, log_var_q, mu_p, log_var_p),
                 expected, hint="the variances are exp(log_var); check the ratio sigma_q^2 / sigma_p^2.")

test_against_torch_distributions(gaussian_kl)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q2
# points: 3

# %% [markdown]
# ## Question 2 (3 points): the two mean-field fits of a correlated Gaussian
#
# Fit a factorised Gaussian $q(z) = \prod_i \mathcal N(z_i; m_i, s_i^2)$ to
# $p = \mathcal N(\mu, \Sigma)$. Minimising the *reverse* divergence $\mathrm{KL}(q \,\|\, p)$
# gives $s_i^2 = 1 / \Lambda_{ii}$ with $\Lambda = \Sigma^{-1}$ the precision; minimising the
# *forward* divergence $\mathrm{KL}(p \,\|\, q)$ gives the marginal variances $s_i^2 = \Sigma_{ii}$.
# Both put $m = \mu$.
#
# Write `mean_field_variances(Sigma, direction)` that returns the optimal variances $s^2$
# (shape `(d,)`) for `direction` `"reverse"` or `"forward"`.

# %% [raw]
# # BEGIN SOLUTION

# %%
def mean_field_variances(Sigma, direction):
    """The variances (d,) of the mean-field Gaussian minimising KL(q || p) ("reverse") or KL(p || q) ("forward")."""
    # BEGIN SOLUTION
    if direction == "reverse":
        return 1 / torch.linalg.inv(Sigma).diagonal()
    return Sigma.diagonal().clone()
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 1
failure_message: "For Sigma = [[1, .9], [.9, 1]] the reverse fit has variances 1 - 0.9^2 = 0.19, the forward fit 1."
""" # END TEST CONFIG
def test_correlated_pair(mean_field_variances):
    import torch

    from gencourse.exercises import checks

    Sigma = torch.tensor([[1.0, 0.9], [0.9, 1.0]], dtype=torch.float64)
    checks.close('mean_field_variances(Sigma, "reverse")', mean_field_variances(Sigma, "reverse"),
                 torch.tensor([0.19, 0.19]), hint="invert Sigma first, then take 1 / its diagonal.")
    checks.close('mean_field_variances(Sigma, "forward")', mean_field_variances(Sigma, "forward"),
                 torch.tensor([1.0, 1.0]), hint="the forward fit matches the marginals of p.")

test_correlated_pair(mean_field_variances)

# %%
""" # BEGIN TEST CONFIG
hidden: true
points: 2
""" # END TEST CONFIG
def test_four_dimensions(mean_field_variances):
    import torch

    from gencourse.exercises import checks
    from gencourse.vi import mean_field_forward_kl, mean_field_reverse_kl

    g = torch.Generator().manual_seed(7)
    A = torch.randn(4, 4, generator=g, dtype=torch.float64)
    Sigma = A @ A.T + 0.3 * torch.eye(4, dtype=torch.float64)
    mu = torch.zeros(4, dtype=torch.float64)
    checks.close('mean_field_variances(Sigma, "reverse") in 4-D', mean_field_variances(Sigma, "reverse"),
                 mean_field_reverse_kl(mu, Sigma)[1], hint="1 / diag(Sigma^-1), not diag(Sigma)^-1.")
    checks.close('mean_field_variances(Sigma, "forward") in 4-D', mean_field_variances(Sigma, "forward"),
                 mean_field_forward_kl(mu, Sigma)[1])

test_four_dimensions(mean_field_variances)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q3
# points: 2

# %% [markdown]
# ## Question 3 (2 points): the ELBO of a conjugate model, exactly
#
# Take $p(z) = \mathcal N(0, 1)$ and $p(x \mid z) = \mathcal N(x; z, 1)$, so that
# $p(x) = \mathcal N(x; 0, 2)$ and $p(z \mid x) = \mathcal N(x/2, 1/2)$. For
# $q(z) = \mathcal N(m, s^2)$ the ELBO
# $\mathbb E_q[\log p(x \mid z) + \log p(z) - \log q(z)]$ has a closed form. Derive it and write
# `conjugate_elbo(x, m, log_var)` (with $\log s^2$ = `log_var`; all three arguments are tensors
# of the same shape, and so is the result). At $q = p(z \mid x)$ it equals $\log p(x)$, and in
# general $\log p(x) - \mathrm{ELBO} = \mathrm{KL}(q \,\|\, p(z \mid x))$.

# %% [raw]
# # BEGIN SOLUTION

# %%
def conjugate_elbo(x, m, log_var):
    """The exact ELBO of q = N(m, exp(log_var)) for the model z ~ N(0, 1), x | z ~ N(z, 1)."""
    # BEGIN SOLUTION
    s2 = log_var.exp()
    expected_log_lik = -0.5 * math.log(2 * math.pi) - 0.5 * ((x - m) ** 2 + s2)
    expected_log_prior = -0.5 * math.log(2 * math.pi) - 0.5 * (m**2 + s2)
    entropy = 0.5 * (math.log(2 * math.pi) + 1 + log_var)
    return expected_log_lik + expected_log_prior + entropy
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 1
failure_message: "At the true posterior N(x/2, 1/2) the ELBO is log p(x) = log N(x; 0, 2)."
""" # END TEST CONFIG
def test_tight_at_the_posterior(conjugate_elbo):
    import math

    import torch

    from gencourse.exercises import checks

    x = torch.tensor([2.0, -0.5], dtype=torch.float64)
    log_evidence = -0.5 * math.log(2 * math.pi * 2) - x**2 / 4
    checks.close("conjugate_elbo(x, x/2, log(1/2))", conjugate_elbo(x, x / 2, torch.full_like(x, math.log(0.5))),
                 log_evidence, hint="E_q[(x - z)^2] = (x - m)^2 + s^2, E_q[z^2] = m^2 + s^2, and the entropy of "
                 "N(m, s^2) is 1/2 log(2 pi e s^2).")

test_tight_at_the_posterior(conjugate_elbo)

# %%
""" # BEGIN TEST CONFIG
hidden: true
points: 1
""" # END TEST CONFIG
def test_gap_is_the_kl_to_the_posterior(conjugate_elbo):
    import math

    import torch

    from gencourse.exercises import checks
    from gencourse.vi import gaussian_kl

    x = torch.tensor([1.5, 0.0, -3.0], dtype=torch.float64)
    m = torch.tensor([0.1, 2.0, -1.0], dtype=torch.float64)
    log_var = torch.tensor([-1.0, 0.7, 0.0], dtype=torch.float64)
    log_evidence = -0.5 * math.log(2 * math.pi * 2) - x**2 / 4
    gap = gaussian_kl(m[:, None], log_var[:, None], (x / 2)[:, None], torch.full((3, 1), math.log(0.5),
                                                                                  dtype=torch.float64))
    checks.close("log p(x) - conjugate_elbo(x, m, log_var) against KL(q || p(z | x))",
                 log_evidence - conjugate_elbo(x, m, log_var), gap,
                 hint="the ELBO is exact for every q, not only at the posterior: recheck each expectation.")

test_gap_is_the_kl_to_the_posterior(conjugate_elbo)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q4
# points: 2

# %% [markdown]
# ## Question 4 (2 points): the score of a Gaussian
#
# The score-function gradient estimator needs
# $\nabla_\lambda \log q_\lambda(z)$ for $q_\lambda = \mathcal N(\mu, \operatorname{diag}\sigma^2)$
# with parameters $\lambda = (\mu, \log\sigma^2)$. Show that
# $\partial_{\mu_i} \log q = (z_i - \mu_i)/\sigma_i^2$ and
# $\partial_{\log\sigma_i^2} \log q = \frac12\big((z_i - \mu_i)^2/\sigma_i^2 - 1\big)$, then write
# `gaussian_score(z, mu, log_var)` that returns the pair `(d_mu, d_log_var)`, each with the shape
# of `z`.

# %% [raw]
# # BEGIN SOLUTION

# %%
def gaussian_score(z, mu, log_var):
    """(d log q / d mu, d log q / d log_var) for q = N(mu, diag exp(log_var)), each shaped like z."""
    # BEGIN SOLUTION
    scaled = (z - mu) * torch.exp(-log_var)
    return scaled, 0.5 * ((z - mu) * scaled - 1)
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 1
failure_message: "At z = mu both derivatives are simple: 0 for mu and -1/2 for log_var."
""" # END TEST CONFIG
def test_at_the_mean(gaussian_score):
    import torch

    from gencourse.exercises import checks

    mu = torch.tensor([1.0, -2.0], dtype=torch.float64)
    log_var = torch.tensor([0.0, 1.0], dtype=torch.float64)
    answer = gaussian_score(mu.clone(), mu, log_var)
    checks.answered("gaussian_score(mu, mu, log_var)", answer)
    d_mu, d_log_var = answer
    checks.close("d_mu at z = mu", d_mu, torch.zeros(2), hint="(z - mu) / sigma^2 vanishes at z = mu.")
    checks.close("d_log_var at z = mu", d_log_var, torch.full((2,), -0.5),
                 hint="differentiate -1/2 log sigma^2 - (z - mu)^2 / (2 sigma^2) with respect to log sigma^2.")

test_at_the_mean(gaussian_score)

# %%
""" # BEGIN TEST CONFIG
hidden: true
points: 1
""" # END TEST CONFIG
def test_against_autograd(gaussian_score):
    import torch

    from gencourse.exercises import checks
    from gencourse.vi import log_normal_diag

    g = torch.Generator().manual_seed(2)
    z, mu, log_var = torch.randn(3, 6, 3, generator=g, dtype=torch.float64)
    mu.requires_grad_(True)
    log_var.requires_grad_(True)
    d_mu, d_log_var = torch.autograd.grad(log_normal_diag(z, mu, log_var).sum(), (mu, log_var))
    answer = gaussian_score(z, mu.detach(), log_var.detach())
    checks.answered("gaussian_score(z, mu, log_var)", answer)
    checks.close("d_mu against autograd", answer[0], d_mu)
    checks.close("d_log_var against autograd", answer[1], d_log_var)

test_against_autograd(gaussian_score)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION
