"""Plotting helpers: grids tile exactly, plots draw what they are given."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest
import torch
from matplotlib.animation import FuncAnimation

from gencourse.plotting import (
    animation_html,
    density2d,
    gaussian_ellipses,
    grid_points,
    image_grid,
    make_grid,
    plot_history,
    scatter2d,
)
from gencourse.train import History


def test_make_grid_places_each_image():
    images = torch.stack([torch.full((1, 2, 3), float(i)) for i in range(5)])  # (5, 1, 2, 3)
    grid = make_grid(images, nrow=3, padding=1, pad_value=-1)
    assert grid.shape == (1 + 2 * (2 + 1), 1 + 3 * (3 + 1))
    assert (grid[1:3, 1:4] == 0).all() and (grid[1:3, 5:8] == 1).all() and (grid[4:6, 5:8] == 4).all()
    assert (grid[4:6, 9:12] == -1).all()  # the sixth place stays empty
    assert make_grid(torch.rand(4, 3, 5, 5), nrow=2).shape == (2 + 2 * 7, 2 + 2 * 7, 3)
    # an integer pad value must not turn the grid into integers
    fractional = make_grid(torch.full((1, 1, 2, 2), 0.25), pad_value=1)
    assert fractional.dtype.kind == "f" and fractional[2, 2] == 0.25


def test_make_grid_rejects_other_shapes():
    with pytest.raises(ValueError, match="N, C, H, W"):
        make_grid(torch.rand(5))


def test_density_on_a_grid_integrates_to_one():
    xx, yy, points = grid_points((-6, 6), 301, dtype=torch.float64)
    assert points.shape == (301 * 301, 2) and torch.equal(points[:, 0].reshape(301, 301), xx)
    standard = torch.distributions.MultivariateNormal(torch.zeros(2, dtype=torch.float64), torch.eye(2).double())
    cell = (12 / 300) ** 2
    assert abs(standard.log_prob(points).exp().sum().item() * cell - 1) < 1e-6


def test_plots_draw():
    history = History()
    for k in range(1, 4):
        history.log(k, {"loss": 1 / k, "kl": 0.1 * k})
    fig, axes = plt.subplots(1, 4)
    image_grid(torch.rand(6, 1, 28, 28), ax=axes[0], title="x")
    scatter2d(torch.randn(50, 2), ax=axes[1], labels=torch.arange(50) % 3)
    density2d(lambda x: -0.5 * (x**2).sum(1), ax=axes[2])
    plot_history(history, ax=axes[3])
    assert len(axes[3].lines) == 2 and axes[3].lines[0].get_ydata().tolist() == [1, 0.5, 1 / 3]
    assert len(axes[1].collections[0].get_offsets()) == 50
    assert axes[0].images[0].get_interpolation() == "nearest"  # pixels shown as pixels, not blurred
    plt.close(fig)
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        scatter2d(torch.randn(5, 3))


def test_gaussian_ellipses_have_the_covariance_axes():
    fig, ax = plt.subplots()
    rotation = torch.tensor([[0.0, -1.0], [1.0, 0.0]], dtype=torch.float64)  # 90 degrees
    cov = torch.diag(torch.tensor([4.0, 1.0], dtype=torch.float64))
    gaussian_ellipses(ax, torch.zeros(2, 2), torch.stack([cov, rotation @ cov @ rotation.T]), n_std=(1, 2))
    first, second = ax.patches[0], ax.patches[1]
    assert (first.width, first.height) == pytest.approx((4.0, 2.0)) and second.width == pytest.approx(8.0)
    assert first.angle % 180 == pytest.approx(0.0, abs=1e-9)
    assert ax.patches[2].angle % 180 == pytest.approx(90.0) and ax.patches[2].width == pytest.approx(4.0)
    plt.close(fig)


def test_animation_html_plays_offline():
    fig, ax = plt.subplots(figsize=(2, 2))
    (line,) = ax.plot([0, 1], [0, 1])
    animation = FuncAnimation(fig, lambda i: (line.set_ydata([0, i]),), frames=3)
    html = animation_html(animation)
    plt.close(fig)
    assert "http://" not in html and "https://" not in html and 'class="fa' not in html
    assert "\u25b6" in html and "<img" in html  # the play button, and the frames themselves
