"""Plotting helpers: image grids, 2-D scatter and density plots, training curves.

Each takes an optional ``ax`` and returns it, so a notebook can compose figures.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.animation import FuncAnimation
from matplotlib.axes import Axes
from matplotlib.patches import Ellipse

from gencourse.train import History


def _axes(ax: Axes | None, figsize: tuple[float, float] = (4, 4)) -> Axes:
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def make_grid(images: torch.Tensor, nrow: int = 8, padding: int = 2, pad_value: float = 1.0) -> np.ndarray:
    """Tile ``images`` of shape ``(N, C, H, W)`` (or ``(N, H, W)``) into one ``(H', W')`` or ``(H', W', C)`` array."""
    x = images.detach().float().cpu()
    if x.dim() == 3:
        x = x.unsqueeze(1)
    if x.dim() != 4:
        raise ValueError(f"images must have shape (N, C, H, W) or (N, H, W), got {tuple(images.shape)}")
    n, c, h, w = x.shape
    ncol = min(nrow, n)
    nrows = -(-n // ncol)
    grid = torch.full((c, nrows * (h + padding) + padding, ncol * (w + padding) + padding), float(pad_value))
    for i in range(n):
        r, q = divmod(i, ncol)
        top, left = padding + r * (h + padding), padding + q * (w + padding)
        grid[:, top : top + h, left : left + w] = x[i]
    grid = grid.permute(1, 2, 0).numpy()  # (H', W', C)
    return grid[..., 0] if c == 1 else grid


def image_grid(images: torch.Tensor, nrow: int = 8, ax: Axes | None = None, title: str | None = None,
               cmap: str = "gray", vmin: float = 0.0, vmax: float = 1.0) -> Axes:
    """Show a batch of images (values in [vmin, vmax]) as one grid, each pixel a square of one grey.

    Nearest-neighbour interpolation shows the model's pixels as they are; matplotlib's default
    blurs images enlarged less than three times, and a blurred grid of noisy images (a diffusion
    model's intermediate steps) stores four to five times larger in a notebook than a sharp one.
    """
    ax = _axes(ax)
    ax.imshow(make_grid(images, nrow, pad_value=vmax), cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax


def scatter2d(points: torch.Tensor, ax: Axes | None = None, labels: torch.Tensor | None = None,
              title: str | None = None, s: float = 4, alpha: float = 0.6, **kwargs: object) -> Axes:
    """Scatter ``(N, 2)`` points, coloured by integer ``labels`` if given."""
    ax = _axes(ax)
    p = points.detach().cpu().numpy()
    if p.ndim != 2 or p.shape[1] != 2:
        raise ValueError(f"points must have shape (N, 2), got {p.shape}")
    c = None if labels is None else labels.detach().cpu().numpy()
    ax.scatter(p[:, 0], p[:, 1], s=s, alpha=alpha, c=c, cmap="tab10" if c is not None else None, **kwargs)
    ax.set_aspect("equal")
    if title:
        ax.set_title(title)
    return ax


def gaussian_ellipses(ax: Axes, means: torch.Tensor, covariances: torch.Tensor, weights: torch.Tensor | None = None,
                      n_std: Sequence[float] = (1, 2), color: str = "C3", **kwargs: object) -> Axes:
    """Draw the ``n_std``-standard-deviation ellipses of 2-D Gaussians ``(K, 2), (K, 2, 2)``.

    With ``weights`` (mixture weights, ``(K,)``), fainter lines mark lighter components.
    """
    means, covariances = means.detach().cpu().double(), covariances.detach().cpu().double()
    if means.dim() == 1:
        means, covariances = means.unsqueeze(0), covariances.unsqueeze(0)
    strength = torch.ones(len(means)) if weights is None else weights.detach().cpu() / weights.max()
    for mean, cov, w in zip(means, covariances, strength, strict=True):
        lam, U = torch.linalg.eigh(cov)  # ascending eigenvalues, orthonormal eigenvectors (columns)
        angle = float(torch.rad2deg(torch.atan2(U[1, 1], U[0, 1])))  # direction of the larger axis
        for s in n_std:
            width, height = (2 * s * lam.flip(0).sqrt()).tolist()  # full axes: 2 s sqrt(lambda)
            ax.add_patch(Ellipse(mean.tolist(), width, height, angle=angle, fill=False, color=color,
                                 alpha=0.25 + 0.75 * float(w), **kwargs))
    return ax


def grid_points(lim: tuple[float, float] = (-3.0, 3.0), n: int = 200,
                dtype: torch.dtype = torch.float32) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """A square ``n x n`` grid on ``lim^2``: the coordinate arrays ``(n, n)`` and the points ``(n*n, 2)``."""
    axis = torch.linspace(lim[0], lim[1], n, dtype=dtype)
    xx, yy = torch.meshgrid(axis, axis, indexing="xy")
    return xx, yy, torch.stack([xx.reshape(-1), yy.reshape(-1)], dim=1)


def density2d(log_prob: Callable[[torch.Tensor], torch.Tensor], lim: tuple[float, float] = (-3.0, 3.0),
              n: int = 200, ax: Axes | None = None, title: str | None = None, cmap: str = "viridis") -> Axes:
    """Show the density ``exp(log_prob(x))`` on a square grid."""
    ax = _axes(ax)
    xx, yy, points = grid_points(lim, n)
    with torch.no_grad():
        density = log_prob(points).exp().reshape(n, n).cpu()
    ax.pcolormesh(xx.numpy(), yy.numpy(), density.numpy(), cmap=cmap, shading="auto")
    ax.set_aspect("equal")
    if title:
        ax.set_title(title)
    return ax


def plot_history(history: History, keys: Sequence[str] | None = None, ax: Axes | None = None,
                 title: str | None = None, logy: bool = False) -> Axes:
    """Training curves of the logged metrics ``keys`` (all of them by default) against the step."""
    ax = _axes(ax, figsize=(6, 3.5))
    for key in keys or history.keys():
        ax.plot(history["step"], history[key], label=key)
    ax.set_xlabel("step")
    if logy:
        ax.set_yscale("log")
    ax.legend()
    if title:
        ax.set_title(title)
    return ax


# Matplotlib's animation controls use Font Awesome 4 icons and load its stylesheet from a CDN; the
# course's website must work offline, so the icons become plain Unicode symbols.
_ANIMATION_ICONS = {
    "fa fa-minus": "\u2212", "fa fa-plus": "+", "fa fa-fast-backward": "\u23ee", "fa fa-step-backward": "\u23ea",
    "fa fa-play fa-flip-horizontal": "\u25c0", "fa fa-pause": "\u23f8", "fa fa-play": "\u25b6",
    "fa fa-step-forward": "\u23e9", "fa fa-fast-forward": "\u23ed",
}


def animation_html(animation: FuncAnimation, **kwargs: object) -> str:
    """``animation.to_jshtml(**kwargs)`` without requests to other hosts: it plays on an offline website too.

    The controls' Font Awesome icons (and the CDN stylesheet they need) are replaced by Unicode symbols.
    """
    html = animation.to_jshtml(**kwargs)
    html = re.sub(r"<link[^>]*font-awesome[^>]*>", "", html)
    for icon, symbol in _ANIMATION_ICONS.items():
        html = html.replace(f'<i class="{icon}"></i>', symbol)
    return html
