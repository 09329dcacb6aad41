"""Time one training epoch of the 784-400-20 VAE fed two ways, side by side in one run.

    GENCOURSE_DATA=<folder with MNIST/raw> python scripts/benchmark_vae_data.py

1. the package's data path: ``load_mnist`` once (one float tensor in memory), then
   ``Batches`` (a random permutation per epoch, a slice per batch);
2. the pipeline of the PyTorch examples: ``torchvision.datasets.MNIST`` with
   ``transforms.ToTensor()`` behind ``torch.utils.data.DataLoader(batch_size, shuffle=True)``,
   which converts every image from PIL on every epoch.

Both train the same model (``VAE(hidden=(400,), latent_dim=20)``, the model of the PyTorch
example) with the same step: dynamic binarisation, minus the ELBO, an Adam step. Each path runs
``--repeats`` epochs, alternating, so that other load on the machine hits both alike; the
fastest epoch of each is reported, with their ratio (the target: at most 0.5).

A third row trains the same model on one fixed batch, so no data path at all: the model's own
compute. It bounds the ratio from below: no data path can make an epoch faster than that.

The three rows run twice, with the two implementations of the same Adam update that torch
offers: the course's (``fused=True``, as chapter 3's notebook trains, one kernel for every
parameter) and torch's default on a CPU (a loop over the parameters, one tensor at a time).
The target is read with the course's step, on torch's default number of threads. A slower step
(the for-loop Adam, or fewer threads with ``--threads 1``) raises the floor, and with it every
ratio, since the time the data path saves is then a smaller part of the epoch.
"""

from __future__ import annotations

import argparse
import itertools
import time

import torch

from gencourse.data import Batches, binarize, data_root, load_mnist
from gencourse.vae import VAE

COURSE_STEP = "fused Adam (the course's step)"
STEPS = {COURSE_STEP: True, "for-loop Adam (torch's default on a CPU)": False}  # name: fused
TARGET = 0.5  # the package's epoch takes at most half the DataLoader's, with the course's step


def epoch_seconds(batches, n_steps: int, seed: int, fused: bool) -> float:
    """Train a fresh 784-400-20 VAE for ``n_steps`` batches from ``batches``; return the wall time."""
    torch.manual_seed(seed)
    model = VAE(hidden=(400,), latent_dim=20)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, fused=fused)
    start = time.perf_counter()
    for _, batch in zip(range(n_steps), batches, strict=False):
        x = batch[0] if isinstance(batch, (list, tuple)) else batch  # the DataLoader yields (images, labels)
        out = model.loss(binarize(x))
        optimizer.zero_grad()
        out["loss"].backward()
        optimizer.step()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3, help="epochs per path and step (the fastest counts)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's own choice)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    from torchvision import datasets, transforms

    start = time.perf_counter()
    x_train, _ = load_mnist("train", download=False)
    load_seconds = time.perf_counter() - start
    package = Batches(x_train, batch_size=args.batch_size, drop_last=False, seed=0)
    dataset = datasets.MNIST(str(data_root()), train=True, download=False, transform=transforms.ToTensor())
    loader = torch.utils.data.DataLoader(dataset, batch_size=args.batch_size, shuffle=True)
    steps = len(loader)
    assert package.batches_per_epoch() == steps
    one_batch = x_train[:args.batch_size]
    feeds = {"package (load_mnist + Batches)": lambda: package,
             "DataLoader + ToTensor": lambda: iter(loader),
             "no data path (one fixed batch)": lambda: itertools.repeat(one_batch)}

    times = {(step, feed): [] for step in STEPS for feed in feeds}
    for r in range(args.repeats):  # every combination once per round, so that a busy spell hits all alike
        for step, fused in STEPS.items():
            for feed, batches in feeds.items():
                times[step, feed].append(epoch_seconds(batches(), steps, seed=r, fused=fused))

    print(f"one epoch = {steps} steps of batch {args.batch_size}, model VAE 784-400-20, "
          f"{torch.get_num_threads()} torch thread(s); load_mnist once: {load_seconds:.2f} s")
    for step in STEPS:
        print(step)
        for feed in feeds:
            values = times[step, feed]
            print(f"  {feed:32s} " + "  ".join(f"{v:6.2f} s" for v in values) + f"   (fastest {min(values):.2f} s)")
        fed, loader_fed, compute = (min(times[step, feed]) for feed in feeds)
        target = f" (target: at most {TARGET:.2f})" if step == COURSE_STEP else ""
        print(f"  ratio package / DataLoader = {fed / loader_fed:.2f}{target}")
        print(f"  floor of that ratio (a data path that cost nothing): {compute / loader_fed:.2f}; above the model's "
              f"own compute the package's path costs {fed - compute:.2f} s per epoch, the DataLoader's "
              f"{loader_fed - compute:.2f} s")


if __name__ == "__main__":
    main()
