"""The sample-quality table of the course's MNIST generators, beside the real-data floors.

    GENCOURSE_DATA=<folder with MNIST/raw> python scripts/evaluate_sample_quality.py [--recompute]

Prints, for every shipped generator checkpoint, the classifier Inception Score and classifier
FID of 10,000 samples (against the 10,000 MNIST test images), as recorded in its sidecar, and
the two floors: the FID between 10,000 training images and the test set, and the Inception
Score of the test set. With ``--recompute`` the figures are computed again from the checkpoints
(same seed, so the same samples) and compared with the sidecars.
"""

from __future__ import annotations

import argparse

import torch

from gencourse.data import load_mnist
from gencourse.gan import load_pretrained_gan
from gencourse.metrics import checkpoint_table, format_table, load_classifier, score_sampler
from gencourse.pretrained import read_sidecar

GENERATORS = ["ch04_dcgan", "ch04_conditional_dcgan", "ch05_wgan_gp"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recompute", action="store_true")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rows = checkpoint_table(GENERATORS)
    print(format_table(rows))
    if args.recompute:
        x_test, _ = load_mnist("test")
        classifier = load_classifier()
        for row in rows:
            name = str(row["model"])
            if name not in GENERATORS:
                continue
            gan = load_pretrained_gan(name)
            metrics = read_sidecar(name)["metrics"]
            again = score_sampler(lambda n, gan=gan: (gan.sample(n) + 1) / 2, x_test, n=10_000,
                                  seed=metrics["eval_seed"], model=classifier)
            print(f"{name}: recomputed IS {again['inception_score']:.4f} (sidecar {row['inception_score']:.4f}), "
                  f"FID {again['fid']:.4f} (sidecar {row['fid']:.4f})")


if __name__ == "__main__":
    main()
