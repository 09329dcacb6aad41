# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [raw]
# # ASSIGNMENT CONFIG
# name: ch01

# %% [markdown]
# # Graded exercises 1: latent variable models
#
# Four questions on the chapter *Latent variable models*, 10 points in all.

# %% [raw]
# # BEGIN QUESTION
# name: q1
# points: 3

# %% [markdown]
# ## Question 1 (3 points): the log-likelihood of a Gaussian mixture
#
# A mixture of $K$ Gaussians in $D$ dimensions has weights $\pi_k$, means $\mu_k$ and
# covariances $\Sigma_k$, and
#
# $$ \log p(x_n) = \log \sum_{k=1}^K \pi_k\, \mathcal N(x_n; \mu_k, \Sigma_k). $$
#
# Write `gmm_log_likelihood(x, weights, means, covariances)` that returns the **mean** of
# $\log p(x_n)$ over the $N$ rows of `x`, a 0-dimensional tensor. Shapes: `x` is `(N, D)`,
# `weights` `(K,)`, `means` `(K, D)`, `covariances` `(K, D, D)`. It must stay finite for points
# far from every component, where each $\mathcal N(x_n; \mu_k, \Sigma_k)$ underflows to 0:
# work with logarithms throughout (`torch.logsumexp`).

# %% [raw]
# # BEGIN SOLUTION

# %%
def gmm_log_likelihood(x, weights, means, covariances):
    """(1/N) sum_n log sum_k pi_k N(x_n; mu_k, Sigma_k) for x (N, D): a 0-dim tensor."""
    # BEGIN SOLUTION
    D = x.shape[1]
    L = torch.linalg.cholesky(covariances)  # (K, D, D)
    diff = (x.unsqueeze(0) - means.unsqueeze(1)).transpose(1, 2)  # (K, D, N)
    y = torch.linalg.solve_triangular(L, diff, upper=False)  # (K, D, N)
    log_det_half = L.diagonal(dim1=-2, dim2=-1).log().sum(-1)  # (K,)
    log_normal = -0.5 * y.pow(2).sum(1) - log_det_half.unsqueeze(1) - 0.5 * D * math.log(2 * math.pi)  # (K, N)
    return torch.logsumexp(weights.log().unsqueeze(1) + log_normal, dim=0).mean()
    # END SOLUTION


# %% [raw]
# # END SOLUTION


# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 1
failure_message: "For one component with weight 1 the answer is the mean log-density of one Gaussian."
""" # END TEST CONFIG
def test_one_component(gmm_log_likelihood):
    import torch

    from gencourse.exercises import checks

    x = torch.tensor([[0.0, 0.0], [1.0, 2.0]], dtype=torch.float64)
    means = torch.tensor([[0.0, 1.0]], dtype=torch.float64)
    covariances = torch.tensor([[[2.0, 0.5], [0.5, 1.0]]], dtype=torch.float64)
    expected = torch.distributions.MultivariateNormal(means[0], covariances[0]).log_prob(x).mean()
    got = gmm_log_likelihood(x, torch.ones(1, dtype=torch.float64), means, covariances)
    checks.close("gmm_log_likelihood with one Gaussian", got, expected,
                 hint="log N(x; mu, Sigma) = -1/2 (x-mu)^T Sigma^-1 (x-mu) - 1/2 log det(2 pi Sigma).")

test_one_component(gmm_log_likelihood)

# %%
""" # BEGIN TEST CONFIG
hidden: true
points: 1
""" # END TEST CONFIG
def test_mixture(gmm_log_likelihood):
    import torch

    from gencourse.exercises import checks
    from gencourse.lvm import GaussianMixture

    g = torch.Generator().manual_seed(11)
    K, D = 3, 4
    A = torch.randn(K, D, D, generator=g, dtype=torch.float64)
    model = GaussianMixture(torch.tensor([0.2, 0.5, 0.3], dtype=torch.float64),
                            torch.randn(K, D, generator=g, dtype=torch.float64),
                            A @ A.transpose(1, 2) + 0.5 * torch.eye(D, dtype=torch.float64))
    x = torch.randn(50, D, generator=g, dtype=torch.float64) * 2
    got = gmm_log_likelihood(x, model.weights, model.means, model.covariances)
    checks.close("gmm_log_likelihood of a 3-component mixture in 4-D", got, model.log_likelihood(x),
                 hint="weight each component's density by pi_k before summing over k.")

test_mixture(gmm_log_likelihood)

# %%
""" # BEGIN TEST CONFIG
hidden: true
points: 1
""" # END TEST CONFIG
def test_far_away_points(gmm_log_likelihood):
    import torch

    from gencourse.exercises import checks
    from gencourse.lvm import GaussianMixture

    weights = torch.tensor([0.5, 0.5], dtype=torch.float64)
    means = torch.tensor([[0.0], [10.0]], dtype=torch.float64)
    covariances = torch.full((2, 1, 1), 0.01, dtype=torch.float64)
    x = torch.tensor([[-200.0], [300.0]], dtype=torch.float64)
    got = gmm_log_likelihood(x, weights, means, covariances)
    expected = GaussianMixture(weights, means, covariances).log_likelihood(x)
    checks.close("gmm_log_likelihood at points 200 standard deviations away", got, expected, rtol=1e-9,
                 hint="exp(-1/2 * 2000^2) is 0 in float64: add log pi_k to the log-densities and use torch.logsumexp.")

test_far_away_points(gmm_log_likelihood)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q2
# points: 3

# %% [markdown]
# ## Question 2 (3 points): probabilistic PCA by maximum likelihood
#
# For data $x_1, \dots, x_N \in \mathbb R^D$ with sample covariance
# $S = \frac1N \sum_n (x_n - \bar x)(x_n - \bar x)^\top$ (divided by $N$) and eigenvalues
# $\lambda_1 \ge \dots \ge \lambda_D$ with eigenvectors $u_1, \dots, u_D$, the maximum-likelihood
# PPCA with a $d$-dimensional code has
#
# $$ \sigma^2 = \frac{1}{D-d} \sum_{i=d+1}^D \lambda_i, \qquad
#    W = U_d (\Lambda_d - \sigma^2 I)^{1/2}, $$
#
# up to a rotation of $W$ from the right. Write `ppca_fit(x, d)` that returns the pair
# `(W, sigma2)`: `W` of shape `(D, d)` and `sigma2` a 0-dimensional tensor.
# (`torch.linalg.eigh` returns eigenvalues in *ascending* order.)

# %% [raw]
# # BEGIN SOLUTION

# %%
def ppca_fit(x, d):
    """Maximum-likelihood PPCA of x (N, D) with a d-dimensional code: returns (W (D, d), sigma2)."""
    # BEGIN SOLUTION
    centred = x - x.mean(0)
    S = centred.T @ centred / x.shape[0]
    lam, U = torch.linalg.eigh(S)
    lam, U = lam.flip(0), U.flip(1)  # decreasing order
    sigma2 = lam[d:].mean()
    W = U[:, :d] * (lam[:d] - sigma2).sqrt()
    return W, sigma2
    # END SOLUTION


# %% [raw]
# # END SOLUTION


# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 1
failure_message: "sigma2 is the mean of the D - d smallest eigenvalues of S, with S divided by N."
""" # END TEST CONFIG
def test_sigma2_axis_aligned(ppca_fit):
    import torch

    from gencourse.exercises import checks

    # Six points, +-s_i e_i, whose sample covariance (divided by N = 6) is diag(4, 1, 0.25).
    s = (3 * torch.tensor([4.0, 1.0, 0.25], dtype=torch.float64)).sqrt()
    x = torch.cat([torch.diag(s), -torch.diag(s)]) + torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)
    lam = torch.tensor([0.25, 1.0, 4.0], dtype=torch.float64)  # eigenvalues of S, ascending
    answer = ppca_fit(x, 1)
    checks.answered("ppca_fit(x, 1)", answer)
    W, sigma2 = answer
    checks.close("sigma2 of ppca_fit(x, d=1)", sigma2, lam[:2].mean(),
                 hint="discard the d largest eigenvalues and average the others.")

test_sigma2_axis_aligned(ppca_fit)

# %%
""" # BEGIN TEST CONFIG
hidden: true
points: 2
""" # END TEST CONFIG
def test_model_covariance(ppca_fit):
    import torch

    from gencourse.exercises import checks
    from gencourse.lvm import PPCA

    g = torch.Generator().manual_seed(5)
    x = torch.randn(200, 3, generator=g, dtype=torch.float64) @ torch.randn(3, 6, generator=g, dtype=torch.float64)
    x = x + 0.3 * torch.randn(200, 6, generator=g, dtype=torch.float64) + 5.0  # not centred
    reference = PPCA(2).fit(x)
    answer = ppca_fit(x, 2)
    checks.answered("ppca_fit(x, 2)", answer)
    W, sigma2 = answer
    checks.close("sigma2 of ppca_fit(x, d=2) on 6-D data", sigma2, reference.sigma2,
                 hint="sigma2 averages the D - d discarded eigenvalues.")
    # W is unique only up to a rotation R, so compare W W^T, which R leaves unchanged.
    checks.close("W @ W.T of ppca_fit(x, d=2)", W @ W.T, reference.W @ reference.W.T, rtol=1e-6, atol=1e-9,
                 hint="scale the top-d eigenvectors (columns) by sqrt(lambda_i - sigma2).")

test_model_covariance(ppca_fit)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q3
# points: 2

# %% [markdown]
# ## Question 3 (2 points): the Bernoulli reconstruction loss, on logits
#
# A decoder outputs logits $\ell_i$; pixel $i$ is Bernoulli with $p_i = \sigma(\ell_i)$. Show
# that $-\log p(x_i \mid \ell_i) = \log(1 + e^{\ell_i}) - x_i \ell_i$, then write
# `bernoulli_nll(x_logits, x)` that returns this summed over the pixels of each row: shapes
# `(B, P), (B, P) -> (B,)`. It must be finite for logits as large as $\pm 500$, where
# $\sigma(\ell)$ rounds to exactly 0 or 1 (use `torch.nn.functional.softplus`).

# %% [raw]
# # BEGIN SOLUTION

# %%
def bernoulli_nll(x_logits, x):
    """-log p(x | logits) of independent Bernoulli pixels, summed over pixels: (B, P), (B, P) -> (B,)."""
    # BEGIN SOLUTION
    return (torch.nn.functional.softplus(x_logits) - x * x_logits).sum(1)
    # END SOLUTION


# %% [raw]
# # END SOLUTION


# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 1
failure_message: "-log p(x | l) is -log sigmoid(l) for x = 1 and -log(1 - sigmoid(l)) for x = 0, summed over pixels."
""" # END TEST CONFIG
def test_moderate_logits(bernoulli_nll):
    import torch

    from gencourse.exercises import checks

    logits = torch.tensor([[0.0, 2.0, -1.0], [3.0, -3.0, 0.5]], dtype=torch.float64)
    x = torch.tensor([[1.0, 0.0, 1.0], [1.0, 0.0, 0.0]], dtype=torch.float64)
    p = torch.sigmoid(logits)
    expected = -(x * p.log() + (1 - x) * (1 - p).log()).sum(1)
    checks.close("bernoulli_nll on two rows of three pixels", bernoulli_nll(logits, x), expected,
                 hint="sum over the pixel dimension (dim=1) only, giving one value per row.")

test_moderate_logits(bernoulli_nll)

# %%
""" # BEGIN TEST CONFIG
hidden: true
points: 1
""" # END TEST CONFIG
def test_extreme_logits(bernoulli_nll):
    import torch

    from gencourse.exercises import checks
    from gencourse.lvm import bernoulli_nll as reference

    logits = torch.tensor([[500.0, -500.0, 500.0, -500.0]], dtype=torch.float64)
    x = torch.tensor([[1.0, 0.0, 0.0, 1.0]], dtype=torch.float64)
    checks.close("bernoulli_nll at logits of +-500", bernoulli_nll(logits, x), reference(logits, x),
                 hint="log(1 + e^l) overflows for large l: softplus computes it stably.")

test_extreme_logits(bernoulli_nll)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q4
# points: 2

# %% [markdown]
# ## Question 4 (2 points): counting the parameters of a Gaussian mixture
#
# How many free real numbers does a mixture of $K$ Gaussians in $D$ dimensions with full
# covariance matrices have? Remember that the weights sum to one and that a covariance matrix is
# symmetric. Write `gmm_num_parameters(K, D)` that returns the count as an `int`.

# %% [raw]
# # BEGIN SOLUTION

# %%
def gmm_num_parameters(K, D):
    """The number of free parameters of a K-component, D-dimensional, full-covariance Gaussian mixture."""
    # BEGIN SOLUTION
    return (K - 1) + K * D + K * D * (D + 1) // 2
    # END SOLUTION


# %% [raw]
# # END SOLUTION


# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 1
failure_message: "One Gaussian on the line has a mean and a variance."
""" # END TEST CONFIG
def test_one_gaussian_on_the_line(gmm_num_parameters):
    from gencourse.exercises import checks

    checks.equal("gmm_num_parameters(K=1, D=1)", gmm_num_parameters(1, 1), 2,
                 hint="with one component the weight is fixed at 1.")

test_one_gaussian_on_the_line(gmm_num_parameters)

# %%
""" # BEGIN TEST CONFIG
hidden: true
points: 1
""" # END TEST CONFIG
def test_mnist_sized_mixture(gmm_num_parameters):
    from gencourse.exercises import checks

    checks.equal("gmm_num_parameters(K=10, D=784)", gmm_num_parameters(10, 784), 9 + 7840 + 10 * 784 * 785 // 2,
                 hint="K - 1 free weights, K D means, and K D (D + 1) / 2 covariance entries.")

test_mnist_sized_mixture(gmm_num_parameters)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION
