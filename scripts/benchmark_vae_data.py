"""Time one training epoch of the 784-400-20 VAE fed two ways, side by side in one run.

    GENCOURSE_DATA=<folder with MNIST/raw> python scripts/benchmark_vae_data.py

1. the package's data path: ``load_mnist`` once (one float tensor in memory), then
   ``Batches`` (a random permutation per epoch, a slice per batch);
2. the pipeline of the PyTorch examples: ``torchvision.datasets.MNIST`` with
   ``transforms.ToTensor()`` behind ``torch.utils.data.DataLoader(batch_size, shuffle=True)``,
   which converts every image from PIL on every epoch.

Both train the same model (``VAE(hidden=(400,), latent_dim=20)``, the model of the PyTorch
example) with the same step: dynamic binarisation, minus the ELBO, Adam. Each path runs
``--repeats`` epochs, alternating, so that other load on the machine hits both alike; the
fastest epoch of each is reported, with their ratio (the target: at most 0.5).

A third row trains the same model on one fixed batch, so no data path at all: the model's own
compute. It bounds the ratio from below: no data path can make an epoch faster than that.
"""

from __future__ import annotations

import argparse
import itertools
import time

import torch

from gencourse.data import Batches, binarize, data_root, load_mnist
from gencourse.vae import VAE


def epoch_seconds(batches, n_steps: int, seed: int) -> float:
    """Train a fresh 784-400-20 VAE for ``n_steps`` batches from ``batches``; return the wall time."""
    torch.manual_seed(seed)
    model = VAE(hidden=(400,), latent_dim=20)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
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
    parser.add_argument("--repeats", type=int, default=2, help="epochs per path (the fastest counts)")
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
    times: dict[str, list[float]] = {"package (load_mnist + Batches)": [], "DataLoader + ToTensor": [],
                                     "no data path (one fixed batch)": []}
    for r in range(args.repeats):
        times["package (load_mnist + Batches)"].append(epoch_seconds(package, steps, seed=r))
        times["DataLoader + ToTensor"].append(epoch_seconds(iter(loader), steps, seed=r))
        times["no data path (one fixed batch)"].append(epoch_seconds(itertools.repeat(one_batch), steps, seed=r))
    print(f"one epoch = {steps} steps of batch {args.batch_size}, model VAE 784-400-20, "
          f"{torch.get_num_threads()} torch thread(s); load_mnist once: {load_seconds:.2f} s")
    for name, values in times.items():
        print(f"  {name:32s} " + "  ".join(f"{v:6.2f} s" for v in values) + f"   (fastest {min(values):.2f} s)")
    fed, loader_fed, compute = (min(values) for values in times.values())
    print(f"ratio package / DataLoader = {fed / loader_fed:.2f} (target: at most 0.50)")
    print(f"floor of that ratio on this machine: a data path that cost nothing would give "
          f"{compute / loader_fed:.2f}; above the model's own compute, the package's path costs "
          f"{fed - compute:.2f} s per epoch and the DataLoader's {loader_fed - compute:.2f} s")

if __name__ == "__main__":
    main()
