# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [raw]
# # ASSIGNMENT CONFIG
# name: ch07

# %% [markdown]
# # Graded exercises 7: normalizing flows
#
# Five questions on the chapter *Normalizing flows*, 10 points in all.

# %% [raw]
# # BEGIN QUESTION
# name: q1
# points: 2

# %% [markdown]
# ## Question 1 (2 points): a one-dimensional change of variables
#
# Let $Z \sim \mathcal N(0, 1)$ and $X = e^{\mu + \sigma Z}$ with $\sigma > 0$. The map from data to
# noise is $f(x) = (\log x - \mu) / \sigma$ on $x > 0$, and the change of variables gives
#
# $$ \log p_X(x) = \log p_Z\big(f(x)\big) + \log \lvert f'(x) \rvert. $$
#
# Write `log_normal_log_prob(x, mu, sigma)` that returns $\log p_X(x)$ elementwise for a tensor `x`
# of positive values (any shape) and Python floats `mu` and `sigma`. Do not use
# `torch.distributions`.

# %% [raw]
# # BEGIN SOLUTION

# %%
def log_normal_log_prob(x, mu, sigma):
    """log p_X(x) of X = exp(mu + sigma Z), Z ~ N(0, 1), elementwise for x > 0."""
    # BEGIN SOLUTION
    z = (torch.log(x) - mu) / sigma
    log_pz = -0.5 * z.square() - 0.5 * math.log(2 * math.pi)
    return log_pz - math.log(sigma) - torch.log(x)
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 1
failure_message: "log p_X(x) = log N(f(x); 0, 1) + log |f'(x)| with f'(x) = 1 / (sigma x): both the sigma and the x count."
""" # END TEST CONFIG
def test_two_points(log_normal_log_prob):
    import math

    import torch

    from gencourse.exercises import checks

    x = torch.tensor([1.0, math.e], dtype=torch.float64)
    checks.close("log_normal_log_prob([1, e], mu=0, sigma=1)", log_normal_log_prob(x, 0.0, 1.0),
                 torch.tensor([-0.5 * math.log(2 * math.pi), -0.5 - 0.5 * math.log(2 * math.pi) - 1.0]),
                 hint="at x = e, f(x) = 1 and log |f'(x)| = -log e = -1.")
    checks.close("log_normal_log_prob(e, mu=1, sigma=2)", log_normal_log_prob(x[1:], 1.0, 2.0),
                 torch.tensor([-0.5 * math.log(2 * math.pi) - math.log(2.0) - 1.0]),
                 hint="f(e) = 0 here; the Jacobian term is -log sigma - log x.")

test_two_points(log_normal_log_prob)

# %%
""" # BEGIN TEST CONFIG
hidden: true
points: 1
""" # END TEST CONFIG
def test_against_torch_and_integral(log_normal_log_prob):
    import torch

    from gencourse.exercises import checks

    g = torch.Generator().manual_seed(7)
    x = torch.rand(3, 5, generator=g, dtype=torch.float64) * 6 + 1e-3
    reference = torch.distributions.LogNormal(torch.tensor(0.5, dtype=torch.float64), 0.7).log_prob(x)
    checks.close("log_normal_log_prob on a (3, 5) grid of points", log_normal_log_prob(x, 0.5, 0.7), reference,
                 hint="work elementwise and keep the shape of x.")
    grid = torch.linspace(1e-6, 60.0, 400_001, dtype=torch.float64)
    density = log_normal_log_prob(grid, 0.5, 0.7).exp()
    checks.close("the integral of exp(log_normal_log_prob) over (0, 60]", torch.trapezoid(density, grid),
                 torch.tensor(1.0), atol=1e-5, hint="a density must integrate to 1.")

test_against_torch_and_integral(log_normal_log_prob)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q2
# points: 2

# %% [markdown]
# ## Question 2 (2 points): an affine coupling layer and its log-determinant
#
# With a binary mask $b \in \{0, 1\}^D$ ($b_i = 1$: coordinate $i$ passes unchanged), RealNVP's
# affine coupling layer maps $x$ to
#
# $$ z = b \odot x + (1 - b) \odot \big(x \odot \exp(s(b \odot x)) + t(b \odot x)\big),
#    \qquad \log \lvert \det J \rvert = \sum_i (1 - b_i)\, s_i(b \odot x). $$
#
# Write `affine_coupling(x, b, s_net, t_net)` for a batch `x` of shape `(B, D)`, a mask `b` of shape
# `(D,)` and two functions `s_net`, `t_net` that map `(B, D)` to `(B, D)`. Return the pair
# `(z, log_det)` with `z` of shape `(B, D)` and `log_det` of shape `(B,)`. The networks must see only
# the kept coordinates, and their outputs at the kept positions must not count.

# %% [raw]
# # BEGIN SOLUTION

# %%
def affine_coupling(x, b, s_net, t_net):
    """RealNVP's affine coupling x -> z with mask b, and log |det dz/dx| per example."""
    # BEGIN SOLUTION
    x_kept = b * x
    s, t = s_net(x_kept), t_net(x_kept)
    z = x_kept + (1 - b) * (x * torch.exp(s) + t)
    log_det = ((1 - b) * s).sum(dim=1)
    return z, log_det
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 1
failure_message: "With b = (1, 0), z_1 = x_1 and z_2 = x_2 exp(s_2) + t_2; the log-determinant is s_2."
""" # END TEST CONFIG
def test_two_dimensions(affine_coupling):
    import math

    import torch

    from gencourse.exercises import checks

    x = torch.tensor([[1.0, 3.0]], dtype=torch.float64)
    b = torch.tensor([1.0, 0.0], dtype=torch.float64)

    def s_net(v):  # s(v) = (v_2, v_1): s_2 = x_1 on the free coordinate
        return v.flip(1)

    def t_net(v):
        return 2 * v.flip(1)

    answer = affine_coupling(x, b, s_net, t_net)
    checks.answered("affine_coupling(x, b, s_net, t_net)", answer)
    z, log_det = answer
    checks.close("z of the coupling at x = (1, 3)", z, torch.tensor([[1.0, 3 * math.e + 2.0]]),
                 hint="the kept coordinate passes unchanged; the free one is scaled by exp(s) and shifted by t.")
    checks.close("log_det of the coupling at x = (1, 3)", log_det, torch.tensor([1.0]),
                 hint="sum (1 - b) * s over the coordinates, one value per example.")

test_two_dimensions(affine_coupling)

# %%
""" # BEGIN TEST CONFIG
hidden: true
points: 1
""" # END TEST CONFIG
def test_against_autograd_jacobian(affine_coupling):
    import torch

    from gencourse.exercises import checks

    g = torch.Generator().manual_seed(3)
    D = 5
    w1, w2 = torch.randn(2, D, D, generator=g, dtype=torch.float64)
    c1, c2 = torch.randn(2, D, generator=g, dtype=torch.float64)

    def s_net(v):  # nonzero at every position, including the kept ones
        return torch.tanh(v @ w1 + c1)

    def t_net(v):
        return v @ w2 + c2

    b = torch.tensor([1.0, 0.0, 0.0, 1.0, 0.0], dtype=torch.float64)
    x = torch.randn(4, D, generator=g, dtype=torch.float64)
    answer = affine_coupling(x, b, s_net, t_net)
    checks.answered("affine_coupling on a batch of 4 in 5 dimensions", answer)
    z, log_det = answer
    s, t = s_net(b * x), t_net(b * x)
    checks.close("z on a batch of 4 in 5 dimensions", z, b * x + (1 - b) * (x * s.exp() + t),
                 hint="s_net and t_net take b * x, not x.")
    brute = []
    for n in range(x.shape[0]):
        jac = torch.autograd.functional.jacobian(lambda v: affine_coupling(v[None], b, s_net, t_net)[0][0], x[n])
        brute.append(torch.linalg.slogdet(jac).logabsdet)
    checks.close("log_det against log |det| of the autograd Jacobian", log_det, torch.stack(brute),
                 hint="only the free coordinates (b = 0) add their s to the log-determinant.")

test_against_autograd_jacobian(affine_coupling)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q3
# points: 2

# %% [markdown]
# ## Question 3 (2 points): the coupling layer's inverse
#
# The kept coordinates pass unchanged, $b \odot z = b \odot x$, so $s$ and $t$ can be recomputed from
# $z$ and the affine map of each free coordinate undone:
#
# $$ x = b \odot z + (1 - b) \odot \big(z - t(b \odot z)\big) \odot \exp\big(-s(b \odot z)\big). $$
#
# Write `affine_coupling_inverse(z, b, s_net, t_net)` that returns `x` (shape `(B, D)`), with the same
# arguments as in question 2.

# %% [raw]
# # BEGIN SOLUTION

# %%
def affine_coupling_inverse(z, b, s_net, t_net):
    """The inverse of the affine coupling with mask b: z -> x."""
    # BEGIN SOLUTION
    z_kept = b * z
    s, t = s_net(z_kept), t_net(z_kept)
    return z_kept + (1 - b) * (z - t) * torch.exp(-s)
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 1
failure_message: "Undo the shift first, then the scale: x_2 = (z_2 - t_2) exp(-s_2)."
""" # END TEST CONFIG
def test_two_dimensions(affine_coupling_inverse):
    import math

    import torch

    from gencourse.exercises import checks

    z = torch.tensor([[1.0, 3 * math.e + 2.0]], dtype=torch.float64)
    b = torch.tensor([1.0, 0.0], dtype=torch.float64)

    def s_net(v):
        return v.flip(1)

    def t_net(v):
        return 2 * v.flip(1)

    checks.close("affine_coupling_inverse at z = (1, 3e + 2)", affine_coupling_inverse(z, b, s_net, t_net),
                 torch.tensor([[1.0, 3.0]]), hint="the networks see b * z, which equals b * x.")

test_two_dimensions(affine_coupling_inverse)

# %%
""" # BEGIN TEST CONFIG
hidden: true
points: 1
""" # END TEST CONFIG
def test_round_trips(affine_coupling_inverse):
    import torch

    from gencourse.exercises import checks

    g = torch.Generator().manual_seed(11)
    D = 6
    w1, w2 = torch.randn(2, D, D, generator=g, dtype=torch.float64)

    def s_net(v):
        return torch.tanh(v @ w1)

    def t_net(v):
        return v @ w2 + 1.0

    for b in (torch.tensor([1.0, 1.0, 1.0, 0.0, 0.0, 0.0], dtype=torch.float64),
              torch.tensor([0.0, 1.0, 0.0, 1.0, 0.0, 1.0], dtype=torch.float64)):
        x = torch.randn(5, D, generator=g, dtype=torch.float64)
        z = b * x + (1 - b) * (x * s_net(b * x).exp() + t_net(b * x))
        checks.close(f"affine_coupling_inverse(affine_coupling(x)) with mask {b.tolist()}",
                     affine_coupling_inverse(z, b, s_net, t_net), x, rtol=1e-10,
                     hint="feed b * z to the networks, and divide by exp(s) after subtracting t.")

test_round_trips(affine_coupling_inverse)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q4
# points: 2

# %% [markdown]
# ## Question 4 (2 points): a planar layer that stays invertible
#
# A planar layer maps $z \in \mathbb R^D$ to $g(z) = z + \hat u \tanh(w^\top z + b)$, with
# log-determinant $\log \lvert 1 + (1 - \tanh^2(w^\top z + b))\, w^\top \hat u \rvert$ by the matrix
# determinant lemma. It is invertible if $w^\top \hat u \ge -1$, which the reparameterisation
#
# $$ \hat u = u + \big[m(w^\top u) - w^\top u\big] \frac{w}{\lVert w \rVert^2},
#    \qquad m(a) = -1 + \log(1 + e^{a}), $$
#
# guarantees for any $u$. Write `planar_flow(z, w, u, b)` for a batch `z` of shape `(B, D)`, vectors
# `w` and `u` of shape `(D,)` and a number `b`: compute $\hat u$ from `u`, then return the pair
# `(g(z), log_det)` of shapes `(B, D)` and `(B,)`. (`torch.nn.functional.softplus` computes
# $\log(1 + e^{a})$ without overflow.)

# %% [raw]
# # BEGIN SOLUTION

# %%
def planar_flow(z, w, u, b):
    """The planar layer g(z) = z + u_hat tanh(w.z + b) with the invertibility reparameterisation, and log |det|."""
    # BEGIN SOLUTION
    wu = w @ u
    u_hat = u + (-1 + torch.nn.functional.softplus(wu) - wu) * w / (w @ w)
    h = torch.tanh(z @ w + b)  # (B,)
    g = z + h[:, None] * u_hat
    log_det = torch.log(torch.abs(1 + (1 - h.square()) * (w @ u_hat)))
    return g, log_det
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 1
failure_message: "With w = (1, 0) and u = (0, 1), w.u = 0 and u_hat = (log 2 - 1, 1); at z = 0 the log-determinant is log(log 2)."
""" # END TEST CONFIG
def test_small_case(planar_flow):
    import math

    import torch

    from gencourse.exercises import checks

    w = torch.tensor([1.0, 0.0], dtype=torch.float64)
    u = torch.tensor([0.0, 1.0], dtype=torch.float64)
    z = torch.tensor([[0.0, 0.0], [1.0, 0.0]], dtype=torch.float64)
    answer = planar_flow(z, w, u, 0.0)
    checks.answered("planar_flow(z, w, u, 0)", answer)
    g, log_det = answer
    h = math.tanh(1.0)
    m = math.log(2.0) - 1
    checks.close("g(z) at z = (0, 0) and (1, 0)", g, torch.tensor([[0.0, 0.0], [1 + h * m, h]]),
                 hint="use u_hat, not u, in the layer.")
    checks.close("log_det at z = (0, 0) and (1, 0)", log_det,
                 torch.tensor([math.log(1 + m), math.log(1 + (1 - h * h) * m)]),
                 hint="the determinant is 1 + tanh'(w.z + b) w.u_hat, with tanh' = 1 - tanh^2.")

test_small_case(planar_flow)

# %%
""" # BEGIN TEST CONFIG
hidden: true
points: 1
""" # END TEST CONFIG
def test_against_autograd_jacobian(planar_flow):
    import torch

    from gencourse.exercises import checks

    g = torch.Generator().manual_seed(5)
    D = 3
    w = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64)
    u = -3 * w / (w @ w) + torch.tensor([1.0, 0.5, 0.0], dtype=torch.float64)  # w.u = -3.5: not invertible as given
    b = 0.3
    z = torch.randn(6, D, generator=g, dtype=torch.float64)
    answer = planar_flow(z, w, u, b)
    checks.answered("planar_flow on a batch of 6 in 3 dimensions", answer)
    out, log_det = answer
    wu = w @ u
    u_hat = u + (torch.nn.functional.softplus(wu) - 1 - wu) * w / (w @ w)
    checks.close("g(z) with w.u = -3.5", out, z + torch.tanh(z @ w + b)[:, None] * u_hat,
                 hint="the correction to u is along w / |w|^2 only.")
    brute = []
    for n in range(z.shape[0]):
        jac = torch.autograd.functional.jacobian(lambda v: planar_flow(v[None], w, u, b)[0][0], z[n])
        brute.append(torch.linalg.slogdet(jac).logabsdet)
    checks.close("log_det against log |det| of the autograd Jacobian", log_det, torch.stack(brute),
                 hint="det(I + u_hat psi^T) = 1 + psi^T u_hat with psi = tanh'(w.z + b) w.")

test_against_autograd_jacobian(planar_flow)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q5
# points: 2

# %% [markdown]
# ## Question 5 (2 points): bits per dimension of an 8-bit image
#
# A flow models dequantised images $y = (x + u) / 256 \in [0, 1]^D$ through the logit transform
# $v = \operatorname{logit}(s)$, $s = \alpha + (1 - 2\alpha)\, y$ (elementwise), and returns
# $\log p_V(v)$ in nats. The density of $y$ adds the logit's log-determinant,
#
# $$ \log p_Y(y) = \log p_V(v) + \sum_{i=1}^D \big[\log(1 - 2\alpha) - \log s_i - \log(1 - s_i)\big], $$
#
# and the 8-bit image costs at most
#
# $$ \mathrm{bpd} = \frac{-\log p_Y(y) + D \log 256}{D \log 2} $$
#
# bits per dimension. Write `bits_per_dim(log_pv, y, alpha)` for `log_pv` of shape `(B,)` and a batch
# of images `y` of shape `(B, ...)` (vectors `(B, D)` or images `(B, C, H, W)`; $D$ is the number of
# values in one image), returning the bits per dimension of each image, shape `(B,)`.

# %% [raw]
# # BEGIN SOLUTION

# %%
def bits_per_dim(log_pv, y, alpha):
    """Bits per dimension of 8-bit images from log p_V in logit space and the dequantised images y in [0, 1]."""
    # BEGIN SOLUTION
    s = alpha + (1 - 2 * alpha) * y
    log_det = (math.log(1 - 2 * alpha) - torch.log(s) - torch.log1p(-s)).flatten(1).sum(1)
    log_py = log_pv + log_det
    D = y[0].numel()
    return (-log_py + D * math.log(256)) / (D * math.log(2))
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 1
failure_message: "With alpha = 0 and y = 1/2 the logit's log-determinant is log 4 per dimension: 8 - 2 = 6 bits when log p_V = 0."
""" # END TEST CONFIG
def test_half_grey(bits_per_dim):
    import math

    import torch

    from gencourse.exercises import checks

    y = torch.full((2, 4), 0.5, dtype=torch.float64)
    log_pv = torch.tensor([0.0, -4 * math.log(2)], dtype=torch.float64)
    checks.close("bits_per_dim of two grey images with alpha = 0", bits_per_dim(log_pv, y, 0.0),
                 torch.tensor([6.0, 7.0]), hint="add the logit's log-determinant to log p_V, then add D log 256 to "
                 "-log p_Y and divide by D log 2.")

test_half_grey(bits_per_dim)

# %%
""" # BEGIN TEST CONFIG
hidden: true
points: 1
""" # END TEST CONFIG
def test_images_with_margin(bits_per_dim):
    import math

    import torch

    from gencourse.exercises import checks

    g = torch.Generator().manual_seed(9)
    alpha = 0.05
    y = torch.rand(3, 1, 4, 4, generator=g, dtype=torch.float64)
    log_pv = -10 * torch.rand(3, generator=g, dtype=torch.float64)
    # the logit transform's derivative, elementwise, by autograd
    y_var = y.clone().requires_grad_(True)
    v = torch.logit(alpha + (1 - 2 * alpha) * y_var)
    (dv_dy,) = torch.autograd.grad(v.sum(), y_var)
    log_py = log_pv + dv_dy.log().flatten(1).sum(1)
    expected = (-log_py + 16 * math.log(256)) / (16 * math.log(2))
    checks.close("bits_per_dim of (3, 1, 4, 4) images with alpha = 0.05", bits_per_dim(log_pv, y, alpha), expected,
                 hint="D counts every value of one image (here 16), and the log-determinant includes log(1 - 2 alpha).")

test_images_with_margin(bits_per_dim)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION
