"""Data: MNIST in memory, slicing batches, dynamic binarisation, the 2-D toy distributions."""

from __future__ import annotations

import pytest
import torch

from gencourse.data import DATA_ENV, Batches, binarize, data_root, dequantize, load_mnist, sample_toy
from gencourse.data.toy import TOY_DATASETS, grid_centers, ring_centers, sample_checkerboard, sample_ring


def test_mnist_shapes_and_range():
    x, y = load_mnist("test", download=False)
    assert x.shape == (10_000, 1, 28, 28) and x.dtype == torch.float32
    assert y.shape == (10_000,) and y.dtype == torch.int64
    assert x.min() == 0 and x.max() == 1
    assert set(y.unique().tolist()) == set(range(10))
    train, _ = load_mnist("train", download=False, limit=100)
    assert train.shape == (100, 1, 28, 28)


def test_missing_data_names_the_variable(tmp_path, monkeypatch):
    monkeypatch.setenv(DATA_ENV, str(tmp_path))
    assert data_root() == tmp_path
    with pytest.raises(FileNotFoundError, match=DATA_ENV):
        load_mnist("test", download=False)


def test_bad_split():
    with pytest.raises(ValueError, match="'train' or 'test'"):
        load_mnist("valid")


def test_binarize_is_bernoulli_of_the_intensity():
    x = torch.full((200_000,), 0.3)
    b = binarize(x, generator=torch.Generator().manual_seed(0))
    assert set(b.unique().tolist()) <= {0.0, 1.0}
    assert abs(b.mean().item() - 0.3) < 0.005
    # black and white pixels are kept exactly; each grey level is 1 with its own probability
    levels = torch.tensor([0.0, 0.1, 0.5, 0.9, 1.0])
    draws = binarize(levels.repeat(100_000, 1), generator=torch.Generator().manual_seed(1))
    assert draws[:, 0].sum() == 0 and draws[:, 4].min() == 1
    torch.testing.assert_close(draws.mean(0), levels, atol=0.005, rtol=0)
    # dynamic: a new draw every call
    assert not torch.equal(binarize(x), binarize(x))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        binarize(2 * x - 1)


def test_batches_cover_each_epoch_once():
    x = torch.arange(10)
    batches = Batches(x, batch_size=3, drop_last=False, seed=0)
    epoch = torch.cat([next(batches) for _ in range(batches.batches_per_epoch())])
    assert sorted(epoch.tolist()) == list(range(10))
    dropped = Batches(x, batch_size=3, seed=0)
    assert dropped.batches_per_epoch() == 3 and all(len(next(dropped)) == 3 for _ in range(7))


def test_batches_keep_pairs_together():
    x = torch.arange(20)
    xb, yb = next(Batches(x, 10 * x, batch_size=5))
    assert torch.equal(yb, 10 * xb)


def test_batches_resume_from_state():
    a = Batches(torch.arange(50), batch_size=7, seed=3)
    for _ in range(9):  # into the second epoch
        next(a)
    state = a.state_dict()
    expected = [next(a) for _ in range(10)]
    b = Batches(torch.arange(50), batch_size=7, seed=99)
    b.load_state_dict(state)
    assert all(torch.equal(e, next(b)) for e in expected)


def test_batches_reject_bad_input():
    with pytest.raises(ValueError, match="same first dimension"):
        Batches(torch.zeros(5), torch.zeros(6), batch_size=2)
    with pytest.raises(ValueError, match="batch_size"):
        Batches(torch.zeros(5), batch_size=6)


@pytest.mark.parametrize("name", sorted(TOY_DATASETS))
def test_toy_data_shape_and_reproducibility(name):
    a = sample_toy(name, 500, generator=torch.Generator().manual_seed(1))
    b = sample_toy(name, 500, generator=torch.Generator().manual_seed(1))
    assert a.shape == (500, 2) and torch.isfinite(a).all()
    assert torch.equal(a, b)


def test_ring_points_sit_near_their_centres():
    x = sample_ring(2000, modes=8, radius=2.0, std=0.01, generator=torch.Generator().manual_seed(0))
    distance = torch.cdist(x.double(), ring_centers(8, 2.0)).min(dim=1).values
    assert distance.max() < 0.1
    square = torch.tensor([[1.0, 0], [0, 1], [-1, 0], [0, -1]], dtype=torch.float64)
    assert torch.allclose(ring_centers(4, 1.0), square, atol=1e-12)
    assert grid_centers(3).shape == (9, 2)
    assert torch.allclose(grid_centers(3).mean(0), torch.zeros(2, dtype=torch.float64))


def test_checkerboard_only_dark_squares():
    x = sample_checkerboard(5000, squares=4, generator=torch.Generator().manual_seed(0))
    cell = torch.floor((x + 2) / 1.0).long()
    assert ((cell[:, 0] + cell[:, 1]) % 2 == 0).all()
    assert (x.abs() <= 2).all()


def test_unknown_toy_name():
    with pytest.raises(ValueError, match="choose one of"):
        sample_toy("spiral", 10)


def test_dequantize_stays_inside_the_grey_level_bin():
    k = torch.arange(256, dtype=torch.float64).repeat(100)
    y = dequantize(k / 255, generator=torch.Generator().manual_seed(0))
    assert torch.equal(torch.floor(256 * y), k)  # k/255 -> [k/256, (k+1)/256)
    assert abs((256 * y - k).mean().item() - 0.5) < 0.01  # uniform within the bin
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        dequantize(2 * k / 255 - 1)
