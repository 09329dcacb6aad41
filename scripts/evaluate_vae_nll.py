"""Estimate the test negative log-likelihood of the shipped chapter-3 VAE by importance sampling.

    GENCOURSE_DATA=<folder with MNIST/raw> python scripts/evaluate_vae_nll.py --k 5000 --n 10000

Binarises the MNIST test set with the seed the sidecar records, draws ``k`` samples of
``q(z | x)`` per image (in chunks, so ``k = 5000`` fits in memory) and prints the mean of
``-log (1/k) sum_k p(x, z_k) / q(z_k | x)`` over the first ``n`` test images, with the sidecar's
figure beside it.
"""

from __future__ import annotations

import argparse
import time

import torch

from gencourse.data import load_mnist
from gencourse.pretrained import load_pretrained, read_sidecar
from gencourse.vae import VAE, estimate_nll


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--name", default="ch03_vae", help="the shipped checkpoint to evaluate")
    parser.add_argument("--k", type=int, default=5000, help="importance samples per image")
    parser.add_argument("--n", type=int, default=10_000, help="test images (10,000 = all)")
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    record = read_sidecar(args.name)
    model = VAE(**record["config"])
    load_pretrained(args.name, model)
    x_test, _ = load_mnist("test", download=False)
    start = time.perf_counter()
    nll = estimate_nll(model, x_test, k=args.k, n=args.n, seed=record["metrics"]["test_binarization_seed"])
    seconds = time.perf_counter() - start
    metrics = record["metrics"]
    print(f"{args.name}: test NLL {nll:.2f} nats (importance sampling, k={args.k}, n={min(args.n, len(x_test))}, "
          f"{seconds:.0f} s); sidecar: {metrics['test_nll_nats']:.2f} nats (k={metrics['test_nll_k']}, "
          f"n={metrics['test_nll_n']})")


if __name__ == "__main__":
    main()
