"""Re-evaluate the shipped MNIST flow: test bits per dimension, beside the published anchors.

    GENCOURSE_DATA=<folder with MNIST/raw> python scripts/evaluate_flow.py [--n 10000]

Dequantises the first ``--n`` test images with the sidecar's seed, so with ``--n 10000`` the
figure is the sidecar's own, recomputed from the weights. It also times sampling 1,000 images.
The target of chapter 7 is at most 1.5 bits per dimension.
"""

from __future__ import annotations

import argparse
import time

import torch

from gencourse.data import load_mnist
from gencourse.flows import ImageFlow, evaluate_bits_per_dim
from gencourse.pretrained import load_pretrained, read_sidecar

NAME = "ch07_flow"
TARGET_BPD = 1.5
ANCHORS = [  # test bits/dim on dequantised MNIST, as published
    ("MAF(5) (Papamakarios et al., 2017), as listed by Grathwohl et al. (2019)", 1.89),
    ("RealNVP (Dinh et al., 2017), as listed by Grathwohl et al. (2019)", 1.06),
    ("Glow (Kingma & Dhariwal, 2018), as listed by Grathwohl et al. (2019)", 1.05),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=10_000, help="test images to evaluate (10,000 = all)")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    record = read_sidecar(NAME)
    model = ImageFlow(**record["config"])
    load_pretrained(NAME, model)
    model.eval()
    x_test, _ = load_mnist("test", download=False, limit=args.n)
    start = time.time()
    bpd = evaluate_bits_per_dim(model, x_test, seed=record["metrics"]["test_dequantization_seed"])
    seconds = time.time() - start
    torch.manual_seed(0)
    start = time.time()
    with torch.no_grad():
        model.sample(1000)
    sample_seconds = time.time() - start

    print(f"{'model':<70} test bits/dim")
    for name, value in ANCHORS:
        print(f"{name:<70} {value:.2f}")
    print(f"{'gencourse ch07_flow, sidecar (' + str(record['metrics']['test_n']) + ' images)':<70} "
          f"{record['metrics']['test_bpd']:.4f}")
    print(f"{'gencourse ch07_flow, recomputed now (' + str(len(x_test)) + ' images)':<70} {bpd:.4f}")
    print(f"parameters {record['parameters']:,}; evaluation {seconds:.0f} s; 1,000 samples in {sample_seconds:.1f} s "
          f"({args.threads} threads)")
    print(f"target: at most {TARGET_BPD} bits/dim -> {'met' if bpd <= TARGET_BPD else 'NOT met'}")


if __name__ == "__main__":
    main()
