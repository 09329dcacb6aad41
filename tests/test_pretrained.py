"""Pretrained checkpoints: sidecars, checksums, weights-only loading, the size budget."""

from __future__ import annotations

import json
import time

import pytest
import torch

from gencourse import pretrained
from gencourse.nets import mlp
from gencourse.pretrained import CHECKPOINT_DIR, SIZE_BUDGET_BYTES, load_pretrained, read_sidecar, save_pretrained


def test_round_trip(tmp_path):
    model = mlp([3, 4, 2])
    save_pretrained("tiny", model, config={"sizes": [3, 4, 2]}, budget={"steps": 1}, metrics={"loss": 0.5},
                    directory=tmp_path)
    record = read_sidecar("tiny", tmp_path)
    assert record["config"] == {"sizes": [3, 4, 2]} and record["parameters"] == 3 * 4 + 4 + 4 * 2 + 2
    copy = mlp(record["config"]["sizes"])
    load_pretrained("tiny", copy, directory=tmp_path)
    x = torch.randn(5, 3)
    assert torch.equal(model(x), copy(x))


def test_never_overwrites_silently(tmp_path):
    model = mlp([2, 2])
    save_pretrained("m", model, {}, {}, {}, directory=tmp_path)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        save_pretrained("m", model, {}, {}, {}, directory=tmp_path)
    save_pretrained("m", model, {}, {}, {}, directory=tmp_path, overwrite=True)


def test_corrupted_file_is_refused(tmp_path):
    save_pretrained("m", mlp([2, 2]), {}, {}, {}, directory=tmp_path)
    weights = tmp_path / "m.pt"
    data = bytearray(weights.read_bytes())
    data[-10] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(RuntimeError, match="corrupted or was changed"):
        load_pretrained("m", mlp([2, 2]), directory=tmp_path)


def test_add_metrics_changes_only_the_metrics_and_never_a_recorded_figure(tmp_path):
    model = mlp([3, 2])
    save_pretrained("m", model, {"sizes": [3, 2]}, {"steps": 1}, {"loss": 0.5}, directory=tmp_path)
    before = read_sidecar("m", tmp_path)
    pretrained.add_metrics("m", {"fid": 1.25, "loss": 0.5, "time": {"seconds": 2.0}}, directory=tmp_path)
    after = read_sidecar("m", tmp_path)
    assert after["metrics"] == {"loss": 0.5, "fid": 1.25, "time": {"seconds": 2.0}}
    assert {k: v for k, v in after.items() if k != "metrics"} == {k: v for k, v in before.items() if k != "metrics"}
    text = (tmp_path / "m.json").read_text()
    assert text == json.dumps(after, indent=2, sort_keys=True) + "\n"  # save_pretrained's format
    with pytest.raises(ValueError, match="already records loss"):
        pretrained.add_metrics("m", {"loss": 0.4}, directory=tmp_path)
    pretrained.add_metrics("m", {"time": {"seconds": 3.0}}, directory=tmp_path, replace=("time",))
    assert read_sidecar("m", tmp_path)["metrics"]["time"] == {"seconds": 3.0}
    copy = pretrained.build_pretrained("m", lambda sizes: mlp(sizes), directory=tmp_path)
    assert not copy.training and torch.equal(copy[0].weight, model[0].weight)


def test_missing_checkpoint_lists_what_exists(tmp_path):
    with pytest.raises(FileNotFoundError, match="no pretrained checkpoint named 'nope'"):
        read_sidecar("nope", tmp_path)


def test_shipped_checkpoints_verify_and_fit_the_budget():
    total = 0
    for name in pretrained.available():
        record = read_sidecar(name)
        weights = CHECKPOINT_DIR / f"{name}.pt"
        assert pretrained.sha256(weights) == record["sha256"], name
        assert {"config", "budget", "metrics"} <= set(record), name
        total += weights.stat().st_size
        json.dumps(record)  # plain JSON
    assert total < SIZE_BUDGET_BYTES


def test_training_scripts_share_their_run_options():
    import argparse
    import os

    from gencourse.pretrained import add_run_arguments, machine_description, run_checkpoint_path

    parser = argparse.ArgumentParser()
    add_run_arguments(parser, "demo")
    args = parser.parse_args(["--threads", "2", "--overwrite"])
    assert (args.seed, args.threads, args.overwrite, args.directory) == (0, 2, True, None)
    assert args.run_checkpoint == run_checkpoint_path("demo") and args.run_checkpoint.name == "demo.ckpt"
    unnamed = argparse.ArgumentParser()
    add_run_arguments(unnamed, None)
    assert unnamed.parse_args([]).run_checkpoint is None
    assert machine_description(1).startswith(f"{os.cpu_count()}-core CPU, 1 torch thread(s)")
    assert machine_description(2, " shared").startswith(f"{os.cpu_count()}-core CPU shared, 2 torch")


def test_run_clock_adds_up_the_parts_of_a_resumed_run(tmp_path):
    from gencourse.pretrained import RunClock
    from gencourse.train import train

    def step(_):
        time.sleep(0.01)
        return {"loss": torch.tensor(0.0)}

    first = RunClock()
    train(step, iter(range(10)), 3, parts={"clock": first}, checkpoint=tmp_path / "run.ckpt", progress=False)
    saved = torch.load(tmp_path / "run.ckpt", weights_only=True)["parts"]["clock"]["seconds"]
    assert 0.03 <= saved <= first.seconds()
    second = RunClock()  # a new invocation: it resumes from the checkpoint and goes on counting
    train(step, iter(range(10)), 5, parts={"clock": second}, checkpoint=tmp_path / "run.ckpt", progress=False)
    assert saved + 0.02 <= second.seconds() < saved + 5
