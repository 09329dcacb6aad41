"""Mini-batches by slicing a tensor that already sits on the device.

A ``DataLoader`` with ``ToTensor`` converts every image from PIL on every epoch; for data
sets that fit in memory (all of this course's) one random permutation per epoch and a slice
per batch is several times faster. The iterator's position and its generator's state are
part of a training checkpoint, so an interrupted run resumes with exactly the batches it
would have seen.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch


class Batches:
    """An endless stream of mini-batches of ``tensors`` (all sharing their first dimension).

    Each epoch visits every example once in a fresh random order drawn from a private
    ``torch.Generator`` seeded with ``seed``. With ``drop_last`` the final, smaller batch of
    an epoch is skipped, so every batch has exactly ``batch_size`` rows.
    """

    def __init__(
        self,
        *tensors: torch.Tensor,
        batch_size: int,
        shuffle: bool = True,
        drop_last: bool = True,
        seed: int = 0,
    ) -> None:
        if not tensors:
            raise ValueError("Batches needs at least one tensor")
        n = tensors[0].shape[0]
        if any(t.shape[0] != n for t in tensors):
            shapes = [tuple(t.shape) for t in tensors]
            raise ValueError(f"all tensors must have the same first dimension, got shapes {shapes}")
        if batch_size < 1 or (drop_last and batch_size > n):
            raise ValueError(f"batch_size must be between 1 and the data size {n}, got {batch_size}")
        self.tensors = tensors
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.generator = torch.Generator().manual_seed(seed)
        self.epoch = 0
        self.position = 0  # index of the next batch within the epoch
        self._order = self._new_order()

    @property
    def n(self) -> int:
        return self.tensors[0].shape[0]

    def batches_per_epoch(self) -> int:
        full, rest = divmod(self.n, self.batch_size)
        return full if self.drop_last or rest == 0 else full + 1

    def _new_order(self) -> torch.Tensor:
        if self.shuffle:
            return torch.randperm(self.n, generator=self.generator)
        return torch.arange(self.n)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, ...] | torch.Tensor]:
        return self

    def __next__(self) -> tuple[torch.Tensor, ...] | torch.Tensor:
        if self.position >= self.batches_per_epoch():
            self.epoch += 1
            self.position = 0
            self._order = self._new_order()
        start = self.position * self.batch_size
        index = self._order[start : start + self.batch_size].to(self.tensors[0].device)
        self.position += 1
        batch = tuple(t[index] for t in self.tensors)
        return batch[0] if len(batch) == 1 else batch

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue the stream where it stands."""
        return {
            "epoch": self.epoch,
            "position": self.position,
            "order": self._order.clone(),
            "generator": self.generator.get_state(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.epoch = int(state["epoch"])
        self.position = int(state["position"])
        self._order = state["order"].clone()
        self.generator.set_state(state["generator"])
