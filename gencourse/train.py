"""The plain training loop every notebook uses, and its checkpoints.

The lesson of each chapter is its *step*: the few lines that compute a loss and update the
parameters. A notebook writes that step out as a function ``step(batch) -> dict`` and hands
it to :func:`train`, which does only the bookkeeping:

.. code-block:: python

    for k in range(start, steps):
        metrics = step(next(batches))       # the chapter's lesson
        stop if metrics["loss"] is NaN or infinite
        log metrics; save a checkpoint every ``checkpoint_every`` steps

A checkpoint holds the ``state_dict`` of every model and optimiser, the step, the history,
the data stream's position and every random-number generator's state, so that a run that is
interrupted and resumed ends with exactly the parameters of one that was not.
"""

from __future__ import annotations

import math
import os
import random
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

Stateful = Any  # anything with state_dict() / load_state_dict(): modules, optimisers, schedulers, Batches


def cosine_decay(steps: int, floor: float = 0.01) -> Callable[[int], float]:
    """The learning-rate factor of step ``k``: 1 down to ``floor`` along half a cosine over ``steps``, then ``floor``.

    For ``torch.optim.lr_scheduler.LambdaLR(optimizer, cosine_decay(steps))``: a long run ends with small steps.
    """
    if steps < 1:
        raise ValueError(f"steps must be positive, got {steps}")
    return lambda k: floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * min(k, steps) / steps))


class TrainingDiverged(FloatingPointError):
    """The loss became NaN or infinite."""


class History:
    """Logged metrics: ``history["loss"]`` is the list of logged losses, ``history["step"]`` their steps."""

    def __init__(self) -> None:
        self.records: dict[str, list[float]] = {"step": []}

    def log(self, step: int, metrics: Mapping[str, float]) -> None:
        self.records["step"].append(step)
        for key, value in metrics.items():
            column = self.records.setdefault(key, [math.nan] * (len(self.records["step"]) - 1))
            column.append(float(value))
        for column in self.records.values():  # keys missing from this record get NaN
            if len(column) < len(self.records["step"]):
                column.append(math.nan)

    def __getitem__(self, key: str) -> list[float]:
        return self.records[key]

    def __contains__(self, key: object) -> bool:
        return key in self.records

    def __len__(self) -> int:
        return len(self.records["step"])

    def keys(self) -> list[str]:
        return [key for key in self.records if key != "step"]

    def last(self) -> dict[str, float]:
        """The most recent record, without its step."""
        return {key: self.records[key][-1] for key in self.keys()} if len(self) else {}

    def state_dict(self) -> dict[str, list[float]]:
        return {key: list(values) for key, values in self.records.items()}

    def load_state_dict(self, state: Mapping[str, list[float]]) -> None:
        self.records = {key: [float(v) for v in values] for key, values in state.items()}

    def __repr__(self) -> str:
        last = ", ".join(f"{k}={v:.4g}" for k, v in self.last().items())
        return f"History({len(self)} records; last: {last})"


def rng_state() -> dict[str, Any]:
    """The state of Python's, NumPy's and PyTorch's global generators, as tensors and plain values."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    state = {
        "python": random.getstate(),
        "numpy": (kind, torch.from_numpy(keys.astype(np.int64)), pos, has_gauss, cached),
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: Mapping[str, Any]) -> None:
    """Restore what :func:`rng_state` returned."""
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    kind, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(path: str | os.PathLike[str], parts: Mapping[str, Stateful], step: int, history: History,
                    config: Mapping[str, Any] | None = None) -> None:
    """Write a resumable checkpoint atomically: a crash while writing never leaves a broken file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {
        "step": step,
        "parts": {name: part.state_dict() for name, part in parts.items()},
        "history": history.state_dict(),
        "rng": rng_state(),
        "config": dict(config or {}),
    }
    save_atomically(state, path)


def save_atomically(state: Mapping[str, Any], path: str | os.PathLike[str]) -> None:
    """``torch.save`` to a temporary file beside ``path``, then rename it: ``path`` is whole at every moment."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def load_checkpoint(path: str | os.PathLike[str], parts: Mapping[str, Stateful], history: History,
                    config: Mapping[str, Any] | None = None) -> int:
    """Restore every part, the history and the generators from ``path``; return the step reached."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # any failure to read means the same to the user; the cause stays chained
        raise RuntimeError(
            f"the training checkpoint {path} could not be read ({error.__class__.__name__}; the file is damaged "
            "or is not a gencourse training checkpoint). Move it away to start afresh, or pass another path."
        ) from error
    saved_config = state.get("config", {})
    if config is not None and saved_config and dict(config) != saved_config:
        raise ValueError(
            f"the checkpoint {path} was made with other settings:\n  saved:   {saved_config}\n"
            f"  current: {dict(config)}\nPass another checkpoint path, or delete this one to start afresh."
        )
    missing = set(parts) - set(state["parts"])
    if missing:
        raise ValueError(f"the checkpoint {path} has no state for {sorted(missing)}; it belongs to another run")
    for name, part in parts.items():
        part.load_state_dict(state["parts"][name])
    history.load_state_dict(state["history"])
    set_rng_state(state["rng"])
    return int(state["step"])


def train(
    step: Callable[[Any], Mapping[str, torch.Tensor | float]],
    batches: Iterator[Any],
    steps: int,
    parts: Mapping[str, Stateful] | None = None,
    checkpoint: str | os.PathLike[str] | None = None,
    checkpoint_every: int = 1000,
    config: Mapping[str, Any] | None = None,
    log_every: int = 1,
    history: History | None = None,
    progress: bool = True,
) -> History:
    """Call ``step(batch)`` until ``steps`` steps are done; return the :class:`History` of its metrics.

    ``step`` must return a mapping with at least ``"loss"``. ``parts`` names everything whose
    state a checkpoint must hold (models and optimisers). With ``checkpoint`` set, the run
    resumes from that file when it exists and saves to it every ``checkpoint_every`` steps
    and at the end; ``config`` is stored with it and checked on resume.
    """
    if steps < 0:
        raise ValueError(f"steps must be non-negative, got {steps}")
    parts = dict(parts or {})
    if hasattr(batches, "state_dict"):
        parts.setdefault("batches", batches)
    history = history if history is not None else History()
    start = 0
    if checkpoint is not None and Path(checkpoint).exists():
        start = load_checkpoint(checkpoint, parts, history, config)
    bar = tqdm(range(start, steps), initial=start, total=steps, disable=not progress, leave=False)
    for k in bar:
        metrics = step(next(batches))
        metrics = {key: value.detach() if torch.is_tensor(value) else value for key, value in metrics.items()}
        loss = float(metrics["loss"])
        if not math.isfinite(loss):
            where = f" The last checkpoint is {checkpoint}." if checkpoint is not None else ""
            raise TrainingDiverged(
                f"the loss became {loss} at step {k + 1}. Lower the learning rate, clip gradients, "
                f"or check the data scaling, then run again.{where}"
            )
        if (k + 1) % log_every == 0 or k + 1 == steps:
            history.log(k + 1, {key: float(value) for key, value in metrics.items()})
            bar.set_postfix(loss=f"{loss:.4g}", refresh=False)
        if checkpoint is not None and ((k + 1) % checkpoint_every == 0 or k + 1 == steps):
            save_checkpoint(checkpoint, parts, k + 1, history, config)
    bar.close()
    return history
