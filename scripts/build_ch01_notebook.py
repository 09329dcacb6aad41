'''Write notebooks/01_latent_variable_models.ipynb from the cells below (without outputs).

    python scripts/build_ch01_notebook.py
    GENCOURSE_PROFILE=cpu python scripts/execute_notebooks.py notebooks/01_latent_variable_models.ipynb

The notebook is generated so that its text can be reviewed as ordinary Python; the second
command executes it and stamps it, and only that executed file is committed.
'''

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parent.parent
PATH = ROOT / "notebooks" / "01_latent_variable_models.ipynb"


def md(text: str) -> nbformat.NotebookNode:
    return new_markdown_cell(text.strip("\n"))


def code(text: str, *tags: str) -> nbformat.NotebookNode:
    cell = new_code_cell(text.strip("\n"))
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


CELLS = [
    md(r"""
# Latent variable models in practice: EM, probabilistic PCA and an auto-encoder

This notebook makes the chapter
[Latent variable models](../book/01_latent_variable_models.md) visible. It fits

1. a **Gaussian mixture** to 2-D data by **expectation-maximisation**, and watches the
   log-likelihood rise at every step;
2. **probabilistic PCA** to MNIST in closed form, and looks at its principal directions,
   samples, reconstructions and likelihood;
3. a **deterministic auto-encoder** with 2-D codes, first for a few hundred steps here, then
   from a checkpoint trained for minutes, and asks why it cannot generate digits.

The chapter page carries the derivations and proofs; here each section recalls the few
equations it needs, prints the package lines that compute them, checks one mathematical fact
with an `assert`, and draws a picture. Equation tags such as `(eq:gmm-e-step)` are the ones
of the chapter page, and the same tags mark the lines of code in `gencourse.lvm`.
"""),
    code(r'''
# Setup: on Colab, install the course package; elsewhere this cell does nothing.
import sys
if "google.colab" in sys.modules:
    %pip install -q "gencourse @ git+https://github.com/gencourse/gencourse@main"
''', "setup"),
    code(r'''
PROFILE = None  # "smoke", "cpu" or "gpu"; None reads $GENCOURSE_PROFILE
SEED = 0
''', "parameters"),
    code(r'''
import copy
import inspect

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.patches import Ellipse
from torch.distributions import MultivariateNormal

import gencourse
from gencourse import plotting
from gencourse.data import Batches, binarize, load_mnist, sample_toy
from gencourse.lvm import PPCA, Autoencoder, GaussianMixture
from gencourse.pretrained import load_pretrained, read_sidecar
from gencourse.train import train

run = gencourse.setup(PROFILE, seed=SEED)
'''),
    md(r"""
All the settings of the notebook live in one place. The budgets depend on the compute
profile: `smoke` runs in seconds (for automated checks), `cpu` in a few minutes, `gpu` with
the full data.
"""),
    code(r'''
from dataclasses import dataclass


@dataclass(frozen=True)
class Config:
    # Gaussian mixture on a ring of 8 Gaussians (cheap: the same in every profile)
    toy_points: int = 2_000
    components: int = 8
    em_iterations: int = 100
    # Probabilistic PCA on MNIST (float64; the D x D covariance costs N D^2)
    ppca_train: int = run.budget(smoke=2_000, cpu=20_000, gpu=60_000)
    ppca_dim: int = 20
    ppca_dims: tuple[int, ...] = (1, 2, 5, 10, 20, 50, 100, 200)
    # Auto-encoder with 2-D codes (the same sizes as the pretrained checkpoint)
    mnist_train: int | None = run.budget(smoke=5_000, cpu=None, gpu=None)  # None: all 60,000
    ae_steps: int = run.budget(smoke=200, cpu=3_000, gpu=10_000)
    batch_size: int = 128
    lr: float = 1e-3
    hidden: tuple[int, ...] = (256, 128)
    code_dim: int = 2


cfg = Config()
cfg
'''),
    code(r'''
x_train, y_train = load_mnist("train", device=run.device, limit=cfg.mnist_train)
x_test, y_test = load_mnist("test", device=run.device)  # all 10,000: the checkpoint's metric is on all of them
print(f"train {tuple(x_train.shape)}, test {tuple(x_test.shape)}, values in [{x_train.min():.0f}, {x_train.max():.0f}]")
'''),
    # ------------------------------------------------------------------------------------------------
    md(r"""
## 1. A Gaussian mixture, fitted by EM

A Gaussian mixture draws a component $z \in \{1, \dots, K\}$ with probabilities
$\pi_k$, then $x \sim \mathcal{N}(\mu_z, \Sigma_z)$, so

$$
p_\theta(x) = \sum_{k=1}^{K} \pi_k \, \mathcal{N}(x; \mu_k, \Sigma_k). \qquad \text{(eq:gmm-marginal)}
$$

The log of a sum has no closed-form maximiser, but EM gets one step at a time. With the
current parameters, the **E-step** computes the *responsibilities*, the posterior
probabilities of the components,

$$
r_{nk} = p_\theta(z_n = k \mid x_n)
= \frac{\pi_k \, \mathcal{N}(x_n; \mu_k, \Sigma_k)}{\sum_j \pi_j \, \mathcal{N}(x_n; \mu_j, \Sigma_j)},
\qquad \text{(eq:gmm-e-step)}
$$

and the **M-step** refits every component to the points, weighted by responsibility:
with $N_k = \sum_n r_{nk}$,

$$
\pi_k = \frac{N_k}{N}, \qquad \mu_k = \frac{1}{N_k} \sum_n r_{nk} x_n, \qquad
\Sigma_k = \frac{1}{N_k} \sum_n r_{nk} (x_n - \mu_k)(x_n - \mu_k)^\top. \qquad \text{(eq:gmm-m-step)}
$$

The chapter proves that this never lowers the log-likelihood. Here are the package lines:
the E-step normalises in log space (`logsumexp`), so a point far from every component still
gets responsibilities that sum to 1.
"""),
    code(r'''
print(inspect.getsource(GaussianMixture.e_step))
print(inspect.getsource(GaussianMixture.m_step))
'''),
    md(r"""
The data: 2,000 points from a ring of eight Gaussians. EM starts from eight data points
chosen at random as means, equal weights, and the covariance of the whole data set for
every component. The loop below *is* EM, written out; `GaussianMixture.fit` runs the same
loop.
"""),
    code(r'''
x_toy = sample_toy("ring", cfg.toy_points, generator=torch.Generator().manual_seed(SEED), modes=8, std=0.25)
x_toy = x_toy.double()  # EM in float64: the monotonicity check below is then exact to ~1e-12

gmm = GaussianMixture.from_data(x_toy, cfg.components, init="random", generator=torch.Generator().manual_seed(SEED))
snapshots = {0: copy.deepcopy(gmm)}
log_likelihood = [float(gmm.log_likelihood(x_toy))]  # mean log p(x_n) per point, in nats
for t in range(1, cfg.em_iterations + 1):
    resp = gmm.e_step(x_toy)  # (N, K)  (eq:gmm-e-step)
    gmm.m_step(x_toy, resp)  # (eq:gmm-m-step)
    log_likelihood.append(float(gmm.log_likelihood(x_toy)))
    if t in (1, 5, 20, cfg.em_iterations):
        snapshots[t] = copy.deepcopy(gmm)

print(f"mean log-likelihood: {log_likelihood[0]:.4f} at the start, {log_likelihood[-1]:.4f} at the end")
'''),
    md(r"""
**Check.** The log-likelihood never decreases (up to floating-point round-off, which at
convergence is of order $10^{-14}$ in float64).
"""),
    code(r'''
increments = np.diff(log_likelihood)
assert increments.min() > -1e-10, f"EM lowered the log-likelihood by {-increments.min():.3g}"
print(f"smallest change over {len(increments)} EM steps: {increments.min():.1e}; largest: {increments.max():.3f}")
'''),
    md(r"""
Two more facts, exact in float64 and independent of the compute profile: responsibilities
are probabilities, and a mixture with one component is just a Gaussian.
"""),
    code(r'''
resp = gmm.e_step(x_toy)
one = GaussianMixture(torch.ones(1, dtype=torch.float64), gmm.means[:1], gmm.covariances[:1])
reference = MultivariateNormal(gmm.means[0], covariance_matrix=gmm.covariances[0])
print(torch.allclose(resp.sum(1), torch.ones(len(x_toy), dtype=torch.float64), rtol=0, atol=1e-12))
print(torch.allclose(one.log_prob(x_toy), reference.log_prob(x_toy), rtol=0, atol=1e-12))
''', "nbval-check-output"),
    code(r'''
def draw_gaussians(ax, gmm, color="C3"):
    """One- and two-standard-deviation ellipses of every component; line strength follows its weight."""
    for weight, mean, cov in zip(gmm.weights, gmm.means, gmm.covariances, strict=True):
        lam, U = torch.linalg.eigh(cov)  # ascending eigenvalues, orthonormal eigenvectors
        angle = float(torch.rad2deg(torch.atan2(U[1, 1], U[0, 1])))  # direction of the larger axis
        alpha = 0.25 + 0.75 * float(weight / gmm.weights.max())
        for s in (1, 2):
            width, height = (2 * s * lam.flip(0).sqrt()).tolist()
            ax.add_patch(Ellipse(mean.tolist(), width, height, angle=angle, fill=False, color=color, alpha=alpha))


fig, axes = plt.subplots(1, len(snapshots) + 1, figsize=(3.2 * (len(snapshots) + 1), 3.2))
axes[0].plot(log_likelihood)
axes[0].set(xlabel="EM step", ylabel="mean log-likelihood (nats)", title="never decreases")
for ax, (t, snapshot) in zip(axes[1:], snapshots.items(), strict=True):
    plotting.scatter2d(x_toy, ax=ax, s=1, alpha=0.3)
    draw_gaussians(ax, snapshot)
    ax.set(xlim=(-3.5, 3.5), ylim=(-3.5, 3.5), title=f"after {t} EM steps")
fig.tight_layout()
plt.show()
'''),
    md(r"""
The same start in scikit-learn's `GaussianMixture` (a reference implementation written
independently) ends at the same parameters; `tests/test_ch01_lvm.py` checks this on several
data sets.
"""),
    code(r'''
import warnings

from sklearn.mixture import GaussianMixture as SklearnGaussianMixture

start = snapshots[0]
reference = SklearnGaussianMixture(
    cfg.components, covariance_type="full", tol=0, max_iter=cfg.em_iterations, reg_covar=start.reg_covar,
    weights_init=start.weights.numpy(), means_init=start.means.numpy(),
    precisions_init=torch.linalg.inv(start.covariances).numpy(),
)
with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # with tol=0 scikit-learn never declares convergence, and warns
    reference.fit(x_toy.numpy())
difference = np.abs(reference.means_ - gmm.means.numpy()).max()
assert difference < 1e-8
print(f"largest difference between the two sets of means: {difference:.1e}")
'''),
    md(r"""
**Discussion.** The first steps gain most; then the curve flattens, and can sit on a
plateau for a while before two components that shared a cluster separate (a saddle region
of the likelihood) and it climbs again. EM only guarantees a monotone path to a *stationary
point*: another random start can end in a worse local optimum, for instance with two
components on one cluster and one component spread over two. In practice one runs several
starts (k-means++ helps) and keeps the best likelihood. The likelihood is also unbounded:
a component that shrinks onto a single point has infinite density there. The small
`reg_covar` added to every covariance (as in scikit-learn) rules that out.
"""),
    # ------------------------------------------------------------------------------------------------
    md(r"""
## 2. Probabilistic PCA on MNIST

Probabilistic PCA {cite:p}`tipping1999ppca` is a linear-Gaussian latent variable model:
$z \sim \mathcal{N}(0, I_d)$ and $x \mid z \sim \mathcal{N}(W z + \mu, \sigma^2 I_D)$, so that
$x \sim \mathcal{N}(\mu, W W^\top + \sigma^2 I)$ (eq:ppca-marginal). Its maximum-likelihood
parameters are closed-form: with the eigenvalues $\lambda_1 \ge \dots \ge \lambda_D$ and
eigenvectors $U$ of the data covariance,

$$
\sigma^2_{\mathrm{ML}} = \frac{1}{D - d} \sum_{j > d} \lambda_j, \qquad
W_{\mathrm{ML}} = U_d \, (\Lambda_d - \sigma^2_{\mathrm{ML}} I)^{1/2}. \qquad \text{(eq:ppca-ml)}
$$

The model keeps the top $d$ principal directions and explains the variance of all the
others by isotropic noise.

A density on $\mathbb{R}^{784}$ needs continuous data: MNIST pixels take 256 values, and
the border pixels are 0 in every image, so a Gaussian could put unbounded density on them.
We *dequantise* (add uniform noise within each grey level, as in chapter 7), which makes the
log-likelihood a fair measure.
"""),
    code(r'''
print(inspect.getsource(PPCA.fit))
'''),
    code(r'''
def dequantize(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Grey levels k/255 -> uniform on [k/256, (k+1)/256): a continuous version of the same image."""
    return (255 * x + torch.rand(x.shape, generator=generator, dtype=x.dtype, device=x.device)) / 256


g = torch.Generator(device=run.device).manual_seed(SEED)
x_ppca = dequantize(x_train[: cfg.ppca_train].double(), g).flatten(1)  # (N, 784) float64
x_ppca_test = dequantize(x_test.double(), g).flatten(1)

ppca = PPCA(cfg.ppca_dim).fit(x_ppca)
print(ppca)
'''),
    md(r"""
**Check.** The PPCA solution spans the same subspace as the top $d$ principal components
computed by scikit-learn's `PCA`, and its $\sigma^2$ is the mean discarded eigenvalue, which
scikit-learn reports as `noise_variance_` (scikit-learn divides by $N - 1$ where maximum
likelihood divides by $N$).
"""),
    code(r'''
from sklearn.decomposition import PCA

pca = PCA(n_components=cfg.ppca_dim, svd_solver="full").fit(x_ppca.cpu().numpy())
V = torch.from_numpy(pca.components_.T)  # (D, d), orthonormal columns
P_pca = V @ V.T
P_ppca = ppca.W @ torch.linalg.solve(ppca.W.T @ ppca.W, ppca.W.T).cpu()  # projection onto span(W)
N = len(x_ppca)
print(f"largest entry of the difference of the projections: {(P_pca - P_ppca).abs().max():.1e}")
print(f"sigma2: PPCA {float(ppca.sigma2):.6f}, scikit-learn {pca.noise_variance_ * (N - 1) / N:.6f}")
assert torch.allclose(P_pca, P_ppca, atol=1e-6)
assert np.isclose(float(ppca.sigma2), pca.noise_variance_ * (N - 1) / N, rtol=1e-8)
'''),
    md(r"""
The mean image, the first 16 principal directions (red positive, blue negative), samples
from the model with $d = 20$, and reconstructions of test digits from their posterior mean
code $\mathbb{E}[z \mid x]$ for several $d$.
"""),
    code(r'''
directions = ppca.W / ppca.W.norm(dim=0)  # (D, d) unit principal directions
directions = directions / directions.abs().amax(dim=0)  # each scaled to [-1, 1] for display
fig, axes = plt.subplots(1, 3, figsize=(13, 4.2), gridspec_kw={"width_ratios": [1, 2, 2]})
plotting.image_grid(ppca.mu.view(1, 1, 28, 28), ax=axes[0], title="mean image")
plotting.image_grid(directions.T[:16].reshape(-1, 1, 28, 28), nrow=4, ax=axes[1], cmap="RdBu_r", vmin=-1.0, vmax=1.0,
                    title="principal directions 1-16")
samples = ppca.sample(16, generator=torch.Generator(device=run.device).manual_seed(SEED))
plotting.image_grid(samples.clamp(0, 1).view(-1, 1, 28, 28), nrow=4, ax=axes[2], title=f"samples, d = {cfg.ppca_dim}")
plt.show()
'''),
    code(r'''
examples = x_ppca_test[:8]
rows = [examples]
for d in (2, 10, 50, 200):
    rows.append(PPCA(d).fit(x_ppca).reconstruct(examples))
fig, ax = plt.subplots(figsize=(8, 5.5))
plotting.image_grid(torch.cat(rows).clamp(0, 1).view(-1, 1, 28, 28), nrow=8, ax=ax,
                    title="test digits, then reconstructions with d = 2, 10, 50, 200")
plt.show()
'''),
    md(r"""
How many latent dimensions? The mean log-likelihood per image on the training and the test
set, for several $d$ (nats; higher is better).
"""),
    code(r'''
train_ll, test_ll = [], []
for d in cfg.ppca_dims:
    ppca_d = PPCA(d).fit(x_ppca)
    train_ll.append(float(ppca_d.log_likelihood(x_ppca)))
    test_ll.append(float(ppca_d.log_likelihood(x_ppca_test)))

fig, axes = plt.subplots(1, 2, figsize=(12, 3.5))
axes[0].plot(cfg.ppca_dims, train_ll, "o-", label=f"train ({len(x_ppca):,} images)")
axes[0].plot(cfg.ppca_dims, test_ll, "s-", label=f"test ({len(x_ppca_test):,} images)")
axes[0].set(xscale="log", xlabel="latent dimension d", ylabel="mean log-likelihood (nats per image)")
axes[0].legend()
axes[1].plot(cfg.ppca_dims, np.subtract(train_ll, test_ll), "o-", color="C3")
axes[1].axhline(0, color="k", lw=0.5)
axes[1].set(xscale="log", xlabel="latent dimension d", ylabel="train minus test (nats per image)",
            title="the generalisation gap")
plt.show()
for d, a, b in zip(cfg.ppca_dims, train_ll, test_ll, strict=True):
    print(f"d = {d:3d}: train {a:8.1f}, test {b:8.1f}")
'''),
    md(r"""
**Check.** The models are nested (a PPCA with $d + 1$ columns can set one column to zero),
so the *maximum* training likelihood cannot go down as $d$ grows.
"""),
    code(r'''
assert all(b >= a - 1e-6 for a, b in zip(train_ll, train_ll[1:], strict=False)), train_ll
print("training log-likelihood is non-decreasing in d")
'''),
    md(r"""
**Discussion.** The principal directions are smooth stroke patterns: the first is a ring
(how much a digit looks like a "0"), the next ones contrast strokes in different places
and slants. Samples are poor: a Gaussian captures only the mean and covariance of the
pixels, not the sharp, curved strokes of digits, so its samples are noisy, blobby
superpositions of digit-like shapes. Reconstructions sharpen as $d$ grows.

The training log-likelihood rises with $d$, as it must for nested models. Over this range
the test log-likelihood rises too: each new direction still captures structure that
generalises. The gap between the curves is the sign of overfitting to watch: with 20,000
training images (the `cpu` profile) the curves stay within a few nats, and the training
curve only pulls ahead at the largest $d$; with 2,000 (the `smoke` profile) the gap opens
much earlier. (A gap below zero means the test images score *higher* than the training
images: MNIST's test digits are a little more regular than its training digits.)
PPCA remains a useful baseline: it is the linear case of everything that follows, with an
exact likelihood and an exact posterior.
"""),
    # ------------------------------------------------------------------------------------------------
    md(r"""
## 3. A deterministic auto-encoder with 2-D codes

An auto-encoder replaces PPCA's linear maps by networks: an encoder $z = f_\phi(x)$ and a
decoder that outputs logits $g_\theta(z)$ of Bernoulli pixels. It is trained to reconstruct
(binarised) images, minimising the per-image cross-entropy

$$
\mathcal{L} = -\frac{1}{B} \sum_{n} \sum_{i=1}^{D} \big[ x_{ni} \log \sigma(g_\theta(f_\phi(x_n)))_i
+ (1 - x_{ni}) \log (1 - \sigma(g_\theta(f_\phi(x_n)))_i) \big], \qquad \text{(eq:ae-loss)}
$$

which is the negative log-likelihood of a Bernoulli decoder, in nats per image, the same
unit as chapter 3's VAE. With $d = 2$ the code can be drawn as a point in the plane.
"""),
    code(r'''
print(inspect.getsource(Autoencoder.loss))
'''),
    md(r"""
The training loop, written out once: the step draws a fresh binarisation of the batch
(each pixel is 1 with probability its grey level), computes the loss, and takes one Adam
step. `gencourse.train.train` only calls it, logs, and stops if the loss is not finite.
"""),
    code(r'''
torch.manual_seed(SEED)
model = Autoencoder(hidden=cfg.hidden, code_dim=cfg.code_dim).to(run.device)
optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
batches = Batches(x_train, batch_size=cfg.batch_size, seed=SEED)


def step(x: torch.Tensor) -> dict[str, torch.Tensor]:
    out = model.loss(binarize(x))  # (eq:ae-loss), on a fresh binary version of the batch
    optimizer.zero_grad()
    out["loss"].backward()
    optimizer.step()
    return {key: value.detach() for key, value in out.items()}


history = train(step, batches, cfg.ae_steps, log_every=10)
plotting.plot_history(history, keys=["loss"], title="auto-encoder, 2-D codes: training loss (nats per image)")
plt.show()
'''),
    md(r"""
A few thousand steps are not enough for a good 2-D code. The package ships the same
model trained far longer (`scripts/train_ch01_autoencoder.py`); its sidecar records the
budget and the test metric.
"""),
    code(r'''
record = read_sidecar("ch01_autoencoder")
pretrained = Autoencoder(**record["config"]).to(run.device)
load_pretrained("ch01_autoencoder", pretrained, map_location=run.device)
pretrained.eval()
print("config: ", record["config"])
print("budget: ", record["budget"])
print("metrics:", record["metrics"])
'''),
    md(r"""
**Check.** The checkpoint loads into the model it was saved from: on the test set,
binarised with the recorded seed, it reproduces the recorded reconstruction loss.
"""),
    code(r'''
@torch.no_grad()
def test_recon(model: Autoencoder, seed: int) -> float:
    """Mean per-image cross-entropy on the test set, binarised with a fixed seed (as the training script does)."""
    x = binarize(x_test.cpu(), generator=torch.Generator().manual_seed(seed)).to(run.device)
    batches = x.split(1000)
    return sum(float(model.loss(b)["recon"]) * len(b) for b in batches) / len(x)


recon_pretrained = test_recon(pretrained, record["metrics"]["test_binarization_seed"])
recon_here = test_recon(model, record["metrics"]["test_binarization_seed"])
recorded = record["metrics"]["test_recon_nats"]
print(f"test reconstruction (nats per image): pretrained {recon_pretrained:.2f} (the sidecar says {recorded:.2f}); "
      f"trained here for {cfg.ae_steps} steps {recon_here:.2f}")
assert abs(recon_pretrained - recorded) < 1e-3 * recorded
'''),
    code(r'''
with torch.no_grad():
    codes = pretrained.encode(x_test)  # (10000, 2)
    codes_here = model.encode(x_test)

fig, axes = plt.subplots(1, 2, figsize=(12, 5.5))
for ax, z, title in [(axes[0], codes_here, f"trained here ({cfg.ae_steps} steps)"),
                     (axes[1], codes, f"pretrained ({record['budget']['steps']:,} steps)")]:
    plotting.scatter2d(z, labels=y_test, ax=ax, s=2, alpha=0.5, title=f"test codes, {title}")
handles = [plt.Line2D([], [], marker="o", ls="", color=plt.cm.tab10(k / 9)) for k in range(10)]
axes[1].legend(handles, range(10), title="digit", loc="center left", bbox_to_anchor=(1, 0.5))
plt.show()
'''),
    code(r'''
with torch.no_grad():
    x = binarize(x_test[:10], generator=torch.Generator(device=run.device).manual_seed(SEED))
    grid = torch.cat([x, model.reconstruct(x), pretrained.reconstruct(x)])
fig, ax = plt.subplots(figsize=(8, 2.8))
plotting.image_grid(grid, nrow=10, ax=ax, title="binarised test digits; reconstructions: trained here, pretrained")
plt.show()
'''),
    md(r"""
**Discussion.** Digits cluster in the code plane without ever seeing a label: the encoder
has found the main factors of variation. Two dimensions are few, so some digits overlap
(4, 9 and 7 often share a region) and reconstructions of those are blurry mixtures.
"""),
    # ------------------------------------------------------------------------------------------------
    md(r"""
## 4. Why an auto-encoder is not a generative model

To generate, we would draw a code and decode it. But from *which distribution*? The
auto-encoder defines none: there is no prior $p(z)$, only the set of codes the encoder
happens to produce, with an arbitrary scale, offset and shape. Let us try two natural
guesses: codes from a standard Gaussian $\mathcal{N}(0, I)$, and codes uniform on the box
that holds the test codes.
"""),
    code(r'''
gen = torch.Generator(device=run.device).manual_seed(SEED)
low, high = codes.min(0).values, codes.max(0).values
guesses = {
    "N(0, I)": torch.randn(16, 2, generator=gen, device=run.device),
    "uniform on the box": low + (high - low) * torch.rand(16, 2, generator=gen, device=run.device),
}
fig, axes = plt.subplots(1, 3, figsize=(15, 5))
plotting.scatter2d(codes, labels=y_test, ax=axes[0], s=1, alpha=0.2, title="test codes and random codes")
for (name, z), marker, ax in zip(guesses.items(), ["x", "^"], axes[1:], strict=True):
    axes[0].scatter(*z.cpu().T, marker=marker, c="k", s=40, label=name)
    with torch.no_grad():
        images = torch.sigmoid(pretrained.decode(z)).view(-1, 1, 28, 28)
    plotting.image_grid(images, nrow=4, ax=ax, title=f"decoded codes from {name}")
axes[0].legend()
plt.show()
print(f"spread of the test codes: std {codes.std(0).tolist()}, mean {codes.mean(0).tolist()}")
'''),
    md(r"""
The codes spread over tens of units, so codes from $\mathcal{N}(0, I)$ all fall into the
crowded centre of the plane, where the classes meet, and decode to blurry blends of a few
shapes. Codes uniform on the box mostly land where there is no training code at all (the
arms of the star are thin). There the decoder extrapolates. The results are often still
digit-like, because the arms continue outwards, but nothing in training constrained them,
and the digits come out in proportion to the area of the box near each arm rather than to
their frequency in the data (in the run stored here, many 2s, from the long arm on the
left). Each choice of code distribution defines a
*different* generative model, and the auto-encoder gives no reason to prefer any of them.

The remedy is to *give* the codes a distribution that matches where they are. An ad-hoc
version uses this chapter's own tool: fit a Gaussian mixture to the training codes by EM,
sample codes from it, and decode them.
"""),
    code(r'''
with torch.no_grad():
    train_codes = pretrained.encode(x_train[:10_000]).double()
code_gmm = GaussianMixture.from_data(train_codes, 10, generator=torch.Generator().manual_seed(SEED))
code_history = code_gmm.fit(train_codes, n_iter=200, tol=1e-6)
z, _ = code_gmm.sample(32, generator=torch.Generator().manual_seed(SEED))
with torch.no_grad():
    images = torch.sigmoid(pretrained.decode(z.float().to(run.device))).view(-1, 1, 28, 28)

fig, axes = plt.subplots(1, 2, figsize=(12, 5))
title = f"training codes and a 10-component GMM ({len(code_history) - 1} EM steps)"
plotting.scatter2d(train_codes, ax=axes[0], s=1, alpha=0.2, title=title)
draw_gaussians(axes[0], code_gmm.cpu())
plotting.image_grid(images, nrow=8, ax=axes[1], title="decoded samples from the GMM on codes")
plt.show()
'''),
    md(r"""
**Discussion.** With a density on the codes, decoded samples look like digits: the pair
(GMM on $z$, decoder) is a latent variable model in the sense of this chapter, with a
learned prior $p(z)$ and a deterministic decoder. It is built in two separate stages,
though: the code space was shaped only for reconstruction, nobody asked it to be easy to
model, and the decoder never learned that it will be fed samples from $p(z)$. The
likelihood of an image is not even defined, because the decoder is deterministic.

The **variational auto-encoder** of chapter 3 fixes all three at once: it fixes the prior
$p(z) = \mathcal{N}(0, I)$ in advance, makes the decoder a distribution $p_\theta(x \mid z)$,
and trains an encoder $q_\phi(z \mid x)$ as an approximate posterior, jointly, by maximising
a lower bound on $\log p_\theta(x)$: the same bound from which this chapter derived EM.

The exercises at the end of the [chapter](../book/01_latent_variable_models.md) ask you to
implement the E-step, derive the M-step, and count the parameters of PPCA.
"""),
]


def build() -> nbformat.NotebookNode:
    nb = new_notebook(cells=CELLS)
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def main() -> None:
    nb = build()
    nbformat.validate(nb)
    PATH.write_text(nbformat.writes(nb) + "\n")
    print(f"wrote {PATH.relative_to(ROOT)} ({len(nb.cells)} cells, no outputs)")


if __name__ == "__main__":
    main()
