"""Pretrained checkpoints shipped inside the package.

Each checkpoint is a pair of files in ``gencourse/checkpoints/``:

- ``NAME.pt``: the model's ``state_dict`` (never a pickled model), loaded with
  ``torch.load(..., weights_only=True)`` only after its checksum is verified;
- ``NAME.json``: the sidecar, recording the model's configuration (the keyword arguments
  that rebuild it), the training budget (steps, wall time, machine, profile), evaluation
  metrics, and the sha256 of ``NAME.pt``.

Together the ``.pt`` files stay under :data:`SIZE_BUDGET_BYTES`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import torch
from torch import nn

CHECKPOINT_DIR = Path(__file__).parent / "checkpoints"
SIZE_BUDGET_BYTES = 40 * 1024 * 1024


def sha256(path: str | os.PathLike[str]) -> str:
    """The hex sha256 digest of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def available() -> list[str]:
    """Names of the shipped checkpoints."""
    return sorted(p.stem for p in CHECKPOINT_DIR.glob("*.json"))


def read_sidecar(name: str, directory: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """The sidecar of checkpoint ``name``: ``config``, ``budget``, ``metrics``, ``sha256``."""
    path = Path(directory or CHECKPOINT_DIR) / f"{name}.json"
    if not path.exists():
        raise FileNotFoundError(
            f"no pretrained checkpoint named {name!r} in {path.parent}; available: {available()}"
        )
    return json.loads(path.read_text())


def save_pretrained(
    name: str,
    model: nn.Module,
    config: dict[str, Any],
    budget: dict[str, Any],
    metrics: dict[str, Any],
    directory: str | os.PathLike[str] | None = None,
    overwrite: bool = False,
) -> Path:
    """Save ``model.state_dict()`` as ``NAME.pt`` with its sidecar ``NAME.json``; return the ``.pt`` path.

    Refuses to replace an existing checkpoint unless ``overwrite=True``.
    """
    directory = Path(directory or CHECKPOINT_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    weights, sidecar = directory / f"{name}.pt", directory / f"{name}.json"
    if not overwrite and (weights.exists() or sidecar.exists()):
        raise FileExistsError(f"checkpoint {name!r} exists in {directory}; pass overwrite=True to replace it")
    state = {key: value.detach().cpu().contiguous() for key, value in model.state_dict().items()}
    torch.save(state, weights)
    record = {
        "name": name,
        "model": type(model).__name__,
        "config": config,
        "budget": budget,
        "metrics": metrics,
        "parameters": sum(p.numel() for p in model.parameters()),
        "torch_version": torch.__version__,
        "sha256": sha256(weights),
    }
    write_sidecar(sidecar, record)
    return weights


def write_sidecar(path: str | os.PathLike[str], record: dict[str, Any]) -> None:
    """Write a sidecar in the one format every sidecar has: JSON, indent 2, sorted keys, a trailing newline."""
    Path(path).write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")


def add_metrics(
    name: str,
    metrics: dict[str, Any],
    directory: str | os.PathLike[str] | None = None,
    replace: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Record further figures of an existing checkpoint in its sidecar's ``"metrics"``; return the new sidecar.

    Nothing else changes: not the weights, their sha256, nor any key outside ``"metrics"``. A
    figure the sidecar already holds keeps its value: giving a different one raises an error
    unless its key is in ``replace`` (a figure re-measured by design, such as a timing).
    """
    directory = Path(directory or CHECKPOINT_DIR)
    record = read_sidecar(name, directory)
    for key, value in metrics.items():
        if key in record["metrics"] and record["metrics"][key] != value and key not in replace:
            raise ValueError(f"{name}'s sidecar already records {key} = {record['metrics'][key]!r}; "
                             f"refusing to change it to {value!r}")
    record["metrics"] = {**record["metrics"], **metrics}
    write_sidecar(directory / f"{name}.json", record)
    return record


def load_pretrained(
    name: str,
    model: nn.Module,
    directory: str | os.PathLike[str] | None = None,
    map_location: str | torch.device = "cpu",
) -> dict[str, Any]:
    """Verify ``NAME.pt`` against its sidecar's sha256, load it into ``model``; return the sidecar.

    Build the model from the sidecar first: ``model = Model(**read_sidecar(name)["config"])``.
    """
    directory = Path(directory or CHECKPOINT_DIR)
    record = read_sidecar(name, directory)
    weights = directory / f"{name}.pt"
    if not weights.exists():
        raise FileNotFoundError(f"checkpoint weights {weights} are missing (the sidecar {name}.json exists)")
    actual = sha256(weights)
    if actual != record["sha256"]:
        raise RuntimeError(
            f"checkpoint {weights} is corrupted or was changed: its sha256 is {actual}, "
            f"the sidecar records {record['sha256']}. Reinstall the package (or restore the file)."
        )
    state = torch.load(weights, map_location=map_location, weights_only=True)
    model.load_state_dict(state)
    return record


M = TypeVar("M", bound=nn.Module)


def build_pretrained(
    name: str,
    build: Callable[..., M],
    part: Callable[[M], nn.Module] | None = None,
    device: str | torch.device = "cpu",
    directory: str | os.PathLike[str] | None = None,
) -> M:
    """``build(**config)`` from the sidecar of ``name`` with the shipped weights in it, in eval mode on ``device``.

    ``part(model)`` names the submodule the checkpoint holds when it is not the whole model.
    """
    model = build(**read_sidecar(name, directory)["config"])
    load_pretrained(name, part(model) if part is not None else model, directory)
    return model.to(device).eval()


# --- What every training script of a shipped checkpoint shares (scripts/train_*.py) ---------

def run_checkpoint_path(name: str) -> Path:
    """Where a training script keeps its resumable run checkpoint for ``name`` by default."""
    return Path(tempfile.gettempdir()) / "gencourse" / f"{name}.ckpt"


def add_run_arguments(parser: argparse.ArgumentParser, name: str | None) -> None:
    """Add the options every training script has: seed, threads, the run checkpoint, where to ship.

    With ``name=None`` the run checkpoint's default is left to the script (``None``).
    """
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (one leaves a core free for other work)")
    parser.add_argument("--run-checkpoint", type=Path, default=None if name is None else run_checkpoint_path(name),
                        help="resumable checkpoint of the run (the script's description says whether it is kept)")
    parser.add_argument("--overwrite", action="store_true", help="replace the shipped checkpoint")
    parser.add_argument("--directory", type=Path, default=None, help="where to write (default: the package's)")


def machine_description(threads: int, note: str = "") -> str:
    """The ``machine`` entry of a sidecar's budget, e.g. ``"2-core CPU, 1 torch thread(s), x86_64"``."""
    return f"{os.cpu_count()}-core CPU{note}, {threads} torch thread(s), {platform.machine()}"


class RunClock:
    """Wall-clock seconds of a run that may be split over several invocations.

    Pass it among the ``parts`` of :func:`gencourse.train.train`: the run checkpoint then holds
    the seconds so far, and a resumed run goes on counting from them.
    """

    def __init__(self) -> None:
        self.before, self.start = 0.0, time.time()

    def seconds(self) -> float:
        return self.before + time.time() - self.start

    def state_dict(self) -> dict[str, float]:
        return {"seconds": self.seconds()}

    def load_state_dict(self, state: dict[str, float]) -> None:
        self.before, self.start = float(state["seconds"]), time.time()
