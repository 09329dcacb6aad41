# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [raw]
# # ASSIGNMENT CONFIG
# name: ch05

# %% [markdown]
# # Graded exercises 5: Wasserstein GANs
#
# Four questions on the chapter *Wasserstein GANs*, 10 points in all.

# %% [raw]
# # BEGIN QUESTION
# name: q1
# points: 3

# %% [markdown]
# ## Question 1 (3 points): $W_1$ between two samples on the line
#
# In one dimension optimal transport matches order statistics: for samples
# $x_1, \dots, x_n$ and $y_1, \dots, y_n$ of the same size,
#
# $$ W_1 = \frac1n \sum_{i=1}^n |x_{(i)} - y_{(i)}|, $$
#
# where $x_{(i)}$ is the $i$-th smallest. Write `wasserstein_1d(x, y)` for two tensors of shape
# `(n,)` (a 0-dimensional tensor).

# %% [raw]
# # BEGIN SOLUTION

# %%
def wasserstein_1d(x, y):
    """W1 between the empirical distributions of two 1-D samples of the same size."""
    # BEGIN SOLUTION
    return (x.sort().values - y.sort().values).abs().mean()
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 1
failure_message: "Shifting every point by c costs exactly |c|; the order of the points does not matter."
""" # END TEST CONFIG
def test_shift(wasserstein_1d):
    import torch

    from gencourse.exercises import checks

    x = torch.tensor([3.0, -1.0, 0.5, 2.0], dtype=torch.float64)
    y = torch.tensor([2.5, 5.0, 1.0, 4.0], dtype=torch.float64)  # x + 2, shuffled
    checks.close("wasserstein_1d(x, shuffled x + 2)", wasserstein_1d(x, y), torch.tensor(2.0),
                 hint="sort both samples before pairing them.")

test_shift(wasserstein_1d)

# %%
""" # BEGIN TEST CONFIG
hidden: true
points: 2
""" # END TEST CONFIG
def test_against_scipy(wasserstein_1d):
    import torch
    from scipy.stats import wasserstein_distance

    from gencourse.exercises import checks

    g = torch.Generator().manual_seed(5)
    x = torch.randn(200, generator=g, dtype=torch.float64)
    y = 2 * torch.rand(200, generator=g, dtype=torch.float64)
    checks.close("wasserstein_1d of a Gaussian and a uniform sample", wasserstein_1d(x, y),
                 torch.tensor(wasserstein_distance(x.numpy(), y.numpy())), hint="the mean, not the sum, of |x_(i) - y_(i)|.")

test_against_scipy(wasserstein_1d)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q2
# points: 3

# %% [markdown]
# ## Question 2 (3 points): the gradient penalty
#
# WGAN-GP keeps the critic $f_\psi$ close to 1-Lipschitz by penalising
#
# $$ \mathbb E_{\hat x} \big(\lVert \nabla_{\hat x} f_\psi(\hat x) \rVert_2 - 1\big)^2 $$
#
# at points $\hat x$ between real and generated examples. Write
# `gradient_penalty(critic, x_hat)`: `critic` maps a batch `(B, ...)` to scores `(B,)`; take the
# gradient of the scores with respect to `x_hat` with `torch.autograd.grad(...,
# create_graph=True)` (so that the penalty can itself be minimised over the critic's
# parameters), its norm per example over all non-batch dimensions, and average.

# %% [raw]
# # BEGIN SOLUTION

# %%
def gradient_penalty(critic, x_hat):
    """E (||grad_x critic(x_hat)||_2 - 1)^2 over the batch x_hat (B, ...)."""
    # BEGIN SOLUTION
    x_hat = x_hat.detach().requires_grad_(True)
    scores = critic(x_hat)
    (grad,) = torch.autograd.grad(scores.sum(), x_hat, create_graph=True)
    return (grad.flatten(1).norm(dim=1) - 1).square().mean()
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 1
failure_message: "A linear critic f(x) = w . x has gradient w everywhere: the penalty is (|w| - 1)^2."
""" # END TEST CONFIG
def test_linear_critic(gradient_penalty):
    import torch

    from gencourse.exercises import checks

    w = torch.tensor([1.2, -1.6], dtype=torch.float64)  # |w| = 2

    def critic(x):
        return x @ w

    x_hat = torch.randn(5, 2, dtype=torch.float64)
    checks.close("gradient_penalty of f(x) = w . x with |w| = 2", gradient_penalty(critic, x_hat), torch.tensor(1.0),
                 hint="the gradient with respect to the input x_hat, not to any parameter.")

test_linear_critic(gradient_penalty)

# %%
""" # BEGIN TEST CONFIG
hidden: true
points: 2
""" # END TEST CONFIG
def test_quadratic_critic_on_images(gradient_penalty):
    import torch

    from gencourse.exercises import checks

    g = torch.Generator().manual_seed(6)
    a = torch.tensor(0.7, dtype=torch.float64, requires_grad=True)

    def critic(x):  # f(x) = a ||x||^2 per example: gradient 2 a x
        return a * x.flatten(1).pow(2).sum(1)

    x_hat = torch.randn(4, 1, 3, 3, generator=g, dtype=torch.float64)
    norms = 2 * 0.7 * x_hat.flatten(1).norm(dim=1)
    penalty = gradient_penalty(critic, x_hat)
    checks.close("gradient_penalty of a ||x||^2 on (4, 1, 3, 3) images", penalty, (norms - 1).square().mean(),
                 hint="take the norm over every dimension but the batch one (flatten(1)).")
    (d_a,) = torch.autograd.grad(penalty, a)
    expected = (2 * (norms - 1) * norms / 0.7).mean()
    checks.close("d penalty / d a (needs create_graph=True)", d_a, expected,
                 hint="without create_graph=True the penalty cannot be differentiated again.")

test_quadratic_critic_on_images(gradient_penalty)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q3
# points: 2

# %% [markdown]
# ## Question 3 (2 points): the interpolates of WGAN-GP
#
# The penalty is evaluated at $\hat x = \alpha x_\text{real} + (1 - \alpha) x_\text{fake}$ with
# one $\alpha \sim U[0, 1]$ per example. Write `interpolates(x_real, x_fake, alpha)` for batches
# of shape `(B, ...)` (vectors or images) and `alpha` of shape `(B,)`: reshape `alpha` so that it
# broadcasts over each example.

# %% [raw]
# # BEGIN SOLUTION

# %%
def interpolates(x_real, x_fake, alpha):
    """alpha x_real + (1 - alpha) x_fake with one alpha per example: alpha (B,), x (B, ...)."""
    # BEGIN SOLUTION
    alpha = alpha.view(-1, *([1] * (x_real.dim() - 1)))
    return alpha * x_real + (1 - alpha) * x_fake
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 1
failure_message: "alpha = 1 gives the real example, alpha = 0 the fake one."
""" # END TEST CONFIG
def test_vectors(interpolates):
    import torch

    from gencourse.exercises import checks

    x_real = torch.tensor([[1.0, 1.0], [2.0, 2.0]], dtype=torch.float64)
    x_fake = torch.tensor([[-1.0, 3.0], [0.0, 0.0]], dtype=torch.float64)
    alpha = torch.tensor([1.0, 0.25], dtype=torch.float64)
    checks.close("interpolates of two 2-D batches", interpolates(x_real, x_fake, alpha),
                 torch.tensor([[1.0, 1.0], [0.5, 0.5]]), hint="alpha weights the real example.")

test_vectors(interpolates)

# %%
""" # BEGIN TEST CONFIG
hidden: true
points: 1
""" # END TEST CONFIG
def test_images(interpolates):
    import torch

    from gencourse.exercises import checks
    from gencourse.wgan import interpolates as reference

    g = torch.Generator().manual_seed(7)
    x_real, x_fake = torch.rand(2, 3, 1, 4, 4, generator=g, dtype=torch.float64)
    alpha = torch.rand(3, generator=g, dtype=torch.float64)
    checks.close("interpolates of (3, 1, 4, 4) images", interpolates(x_real, x_fake, alpha),
                 reference(x_real, x_fake, alpha), hint="alpha.view(-1, 1, 1, 1) broadcasts over an image.")

test_images(interpolates)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q4
# points: 2

# %% [markdown]
# ## Question 4 (2 points): four distances between parallel lines
#
# Let $P_0$ be uniform on the segment $\{0\} \times [0, 1]$ of the plane and $P_\theta$ uniform on
# $\{\theta\} \times [0, 1]$. Work out $W_1(P_0, P_\theta)$, $\mathrm{JS}(P_0 \,\|\, P_\theta)$,
# $\mathrm{KL}(P_0 \,\|\, P_\theta)$ and the total variation $\mathrm{TV}(P_0, P_\theta)$, for
# $\theta = 0$ and for $\theta \ne 0$. Write `parallel_lines(theta)` returning the four numbers
# as a tuple of floats `(w1, js, kl, tv)` (use `math.inf` for an infinite divergence).

# %% [raw]
# # BEGIN SOLUTION

# %%
def parallel_lines(theta):
    """(W1, JS, KL, TV) between the uniform distributions on {0} x [0, 1] and {theta} x [0, 1]."""
    # BEGIN SOLUTION
    if theta == 0:
        return 0.0, 0.0, 0.0, 0.0
    return abs(theta), math.log(2), math.inf, 1.0
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 1
failure_message: "Identical distributions are at distance 0 in all four senses."
""" # END TEST CONFIG
def test_theta_zero(parallel_lines):
    from gencourse.exercises import checks

    checks.equal("parallel_lines(0.0)", tuple(float(v) for v in parallel_lines(0.0)), (0.0, 0.0, 0.0, 0.0),
                 hint="return a tuple (w1, js, kl, tv).")

test_theta_zero(parallel_lines)

# %%
""" # BEGIN TEST CONFIG
hidden: true
points: 1
""" # END TEST CONFIG
def test_theta_nonzero(parallel_lines):
    import math

    from gencourse.exercises import checks
    from gencourse.wgan import parallel_lines_divergences

    for theta in (0.5, -2.0):
        answer = parallel_lines(theta)
        checks.answered(f"parallel_lines({theta})", answer)
        expected = parallel_lines_divergences(theta)
        w1, js, kl, tv = (float(v) for v in answer)
        checks.close(f"w1 of parallel_lines({theta})", w1, expected["w1"], hint="every point moves |theta| sideways.")
        checks.close(f"js of parallel_lines({theta})", js, expected["js"], hint="disjoint supports: JS = log 2.")
        checks.equal(f"kl of parallel_lines({theta}) is infinite", math.isinf(kl) and kl > 0, True,
                     hint="P_0 has mass where P_theta has none.")
        checks.close(f"tv of parallel_lines({theta})", tv, expected["tv"], hint="take A = the segment of P_0.")

test_theta_nonzero(parallel_lines)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION
