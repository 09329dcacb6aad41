"""The training loop: history, a clear stop on NaN, and checkpoints that resume exactly."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from gencourse.data import Batches, sample_toy
from gencourse.nets import mlp
from gencourse.train import History, TrainingDiverged, train


class Interrupted(KeyboardInterrupt):
    pass


def make_run(seed: int = 0):
    """A small regression whose step draws random numbers (dropout, noise), as real steps do."""
    torch.manual_seed(seed)
    model = nn.Sequential(mlp([2, 16, 16]), nn.Dropout(0.2), nn.Linear(16, 1))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    x = sample_toy("moons", 256, generator=torch.Generator().manual_seed(0))
    batches = Batches(x, batch_size=32, seed=1)

    def step(xb: torch.Tensor) -> dict[str, torch.Tensor]:
        noisy = xb + 0.1 * torch.randn_like(xb)
        loss = (model(noisy).squeeze(1) - xb.prod(dim=1)).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return {"loss": loss.detach()}

    return model, optimizer, batches, step


def test_interrupted_and_resumed_run_ends_with_the_same_parameters(tmp_path):
    model, optimizer, batches, step = make_run()
    straight = train(step, batches, steps=40, progress=False)
    expected = [p.detach().clone() for p in model.parameters()]

    path = tmp_path / "run.pt"
    model, optimizer, batches, step = make_run()
    calls = 0

    def interrupting_step(xb):
        nonlocal calls
        calls += 1
        if calls == 23:  # interrupted in the middle of step 23, after the checkpoint at step 20
            raise Interrupted
        return step(xb)

    with pytest.raises(Interrupted):
        train(interrupting_step, batches, steps=40, parts={"model": model, "optimizer": optimizer},
              checkpoint=path, checkpoint_every=10, progress=False)

    # A new process: fresh objects with another seed, everything comes from the checkpoint.
    torch.manual_seed(12345)
    model, optimizer, batches, step = make_run(seed=7)
    resumed = train(step, batches, steps=40, parts={"model": model, "optimizer": optimizer},
                    checkpoint=path, checkpoint_every=10, progress=False)
    for p, q in zip(model.parameters(), expected, strict=True):
        assert torch.equal(p, q)
    assert resumed["step"] == straight["step"] and resumed["loss"] == straight["loss"]


def test_loss_decreases_and_history_logs():
    model, optimizer, batches, step = make_run()
    history = train(step, batches, steps=200, log_every=10, progress=False)
    assert history["step"] == list(range(10, 201, 10))
    assert sum(history["loss"][-5:]) < 0.5 * sum(history["loss"][:5])
    assert len(history) == 20 and "loss" in history.keys()


def test_nan_loss_stops_with_a_clear_message():
    def step(_):
        return {"loss": torch.tensor(math.nan)}

    with pytest.raises(TrainingDiverged, match="loss became nan at step 1.*learning rate"):
        train(step, iter(range(10)), steps=5, progress=False)
    with pytest.raises(TrainingDiverged, match="inf"):
        train(lambda _: {"loss": math.inf}, iter(range(10)), steps=5, progress=False)


def test_resume_refuses_another_configuration(tmp_path):
    model, optimizer, batches, step = make_run()
    parts = {"model": model, "optimizer": optimizer}
    train(step, batches, steps=5, parts=parts, checkpoint=tmp_path / "c.pt", config={"lr": 1e-2}, progress=False)
    with pytest.raises(ValueError, match="other settings"):
        train(step, batches, steps=10, parts=parts, checkpoint=tmp_path / "c.pt", config={"lr": 1e-3}, progress=False)


def test_unreadable_checkpoint_is_a_clear_error_and_is_kept(tmp_path):
    path = tmp_path / "c.pt"
    path.write_bytes(b"not a checkpoint")
    model, optimizer, batches, step = make_run()
    with pytest.raises(RuntimeError, match="could not be read.*Move it away"):
        train(step, batches, steps=5, parts={"model": model}, checkpoint=path, progress=False)
    assert path.read_bytes() == b"not a checkpoint"


def test_history_fills_missing_keys_with_nan():
    history = History()
    history.log(1, {"loss": 1.0})
    history.log(2, {"loss": 0.5, "kl": 0.1})
    history.log(3, {"kl": 0.2})
    assert history["step"] == [1, 2, 3]
    assert math.isnan(history["kl"][0]) and math.isnan(history["loss"][2])
    restored = History()
    restored.load_state_dict(history.state_dict())
    assert restored["kl"][1:] == [0.1, 0.2]


def test_cosine_decay_runs_from_one_to_its_floor_and_stays_there():
    from gencourse.train import cosine_decay

    f = cosine_decay(100, floor=0.02)
    assert f(0) == 1.0 and abs(f(50) - 0.51) < 1e-12 and f(100) == f(1000) == pytest.approx(0.02)
    with pytest.raises(ValueError, match="positive"):
        cosine_decay(0)
