"""The sample-quality table of the course's MNIST generators, beside the real-data floors.

    GENCOURSE_DATA=<folder with MNIST/raw> python scripts/evaluate_sample_quality.py [--recompute]

Prints, for every shipped generator checkpoint, the classifier Inception Score and classifier
FID of 10,000 samples (against the 10,000 MNIST test images), as recorded in its sidecar, and
the two floors: the FID between 10,000 training images and the test set, and the Inception
Score of the test set. With ``--recompute`` the figures are computed again from the checkpoints
(same seed, so the same samples) and compared with the sidecars. With ``--terms`` it splits each
score into its two parts, IS = exp(H(p(y)) - E H(p(y|x))) (``gencourse.metrics.inception_score_terms``):
the entropy of the class marginal (classes missing or uneven) and the mean entropy of the class
distribution of a sample (ambiguous samples), with the share of samples whose most probable class
gets less than 0.9, for the same 10,000 samples of each generator and for the test images.
"""

from __future__ import annotations

import argparse
import math

import torch

from gencourse.data import load_mnist
from gencourse.gan import MNIST_GENERATORS, load_pretrained_gan
from gencourse.metrics import (
    checkpoint_table,
    classify,
    comparison,
    draw_samples,
    format_table,
    inception_score_terms,
    load_classifier,
)
from gencourse.pretrained import read_sidecar


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recompute", action="store_true")
    parser.add_argument("--terms", action="store_true", help="split each Inception Score into its two entropies")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rows = checkpoint_table(list(MNIST_GENERATORS))
    print(format_table(rows))
    if args.recompute or args.terms:
        x_test, _ = load_mnist("test")
        classifier = load_classifier()
    if args.terms:
        print(f"\n{'images (10,000)':<26} {'H(p(y))':>8} {'E H(p(y|x))':>12} {'IS':>6} {'p(y|x) max < 0.9':>17}")
        sets = {"MNIST test set": x_test}
        for name in MNIST_GENERATORS:
            sets[name] = draw_samples(comparison.sampler(name, load_pretrained_gan(name)), n=10_000,  # the sidecar's
                                      seed=read_sidecar(name)["metrics"]["eval_seed"])
        for name, x in sets.items():
            t = inception_score_terms(classify(classifier, x)[1])
            score = math.exp(t["marginal_entropy"] - t["conditional_entropy"])
            print(f"{name:<26} {t['marginal_entropy']:>8.3f} {t['conditional_entropy']:>12.3f} {score:>6.2f} "
                  f"{t['unsure_share']:>17.1%}")
    if args.recompute:
        for row in rows:
            name = str(row["model"])
            if name not in MNIST_GENERATORS:
                continue
            again = comparison.score_checkpoint(name, x_test, 10_000, classifier=classifier)
            print(f"{name}: recomputed IS {again['inception_score']:.4f} (sidecar {row['inception_score']:.4f}), "
                  f"FID {again['fid']:.4f} (sidecar {row['fid']:.4f})")


if __name__ == "__main__":
    main()
