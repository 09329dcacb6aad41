"""Chapter 6's evaluation: does the shipped AAE's aggregated posterior match its prior, and how good are its samples?

    GENCOURSE_DATA=<folder with MNIST/raw> python scripts/evaluate_aae.py [--recompute]

Prints the MMD two-sample test of the codes of 2,000 test images against 2,000 prior samples
(``gencourse.aae.aggregated_posterior_test``: unbiased MMD^2, Gaussian kernel with the
median-heuristic bandwidth, permutation p-value) as the sidecar of ``ch06_aae`` records it, then
one table of the classifier Inception Score and FID of 10,000 samples (``gencourse.metrics``): the
AAE's and the shipped VAE's of chapter 3 (``ch03_vae``), both from their sidecars, and the two
real-data floors. Both models are scored on their decoder's mean image, ``sigmoid(logits)`` of
``z ~ p(z)``, by the samplers of ``gencourse.metrics.comparison`` (``--samples`` other than
10,000 scores that many samples of each, with the same seed).

With ``--recompute`` the AAE's MMD test and its 10,000-sample scores are computed again from the
checkpoint (same seeds, so the same subset, prior samples, permutations and images) and printed
beside the sidecar's.
"""

from __future__ import annotations

import argparse

import torch

from gencourse.aae import aggregated_posterior_test, load_pretrained_aae
from gencourse.data import load_mnist
from gencourse.metrics import checkpoint_table, format_table, load_classifier
from gencourse.metrics.comparison import score_checkpoint
from gencourse.pretrained import read_sidecar


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recompute", action="store_true", help="recompute the AAE's figures from the checkpoint")
    parser.add_argument("--samples", type=int, default=10_000, help="samples scored per model")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    record = read_sidecar("ch06_aae")
    metrics = record["metrics"]
    mmd = metrics["mmd"]
    x_test, _ = load_mnist("test")
    aae = load_pretrained_aae("ch06_aae")
    print(f"ch06_aae: prior {record['config']['prior']} {record['config']['prior_options']}, "
          f"latent_dim {record['config']['latent_dim']}, encoder {record['config']['encoder']}; "
          f"trained {record['budget']['epochs']} epochs in {record['budget']['wall_clock_seconds'] / 60:.1f} min "
          f"({record['budget']['machine']})")
    print(f"MMD test, codes of {mmd['n']} test images against {mmd['n']} prior samples (seed {mmd['seed']}, "
          f"{mmd['permutations']} permutations): MMD^2 = {mmd['statistic']:.3e}, p = {mmd['p_value']:.3f}, "
          f"bandwidth {mmd['bandwidth']:.3f}")
    repeats = metrics["mmd_repeats"]["p_values"]
    print(f"  the same test with {len(repeats)} further seeds: p > 0.05 in {sum(p > 0.05 for p in repeats)}; "
          f"p-values {repeats}")
    if args.recompute:
        again = aggregated_posterior_test(aae, x_test, n=mmd["n"], seed=mmd["seed"], permutations=mmd["permutations"])
        print(f"  recomputed: MMD^2 = {again.statistic:.3e}, p = {again.p_value:.3f}, bandwidth {again.bandwidth:.3f}")

    classifier = load_classifier()
    names = ["ch06_aae", "ch03_vae"]
    if args.samples == 10_000:  # both sidecars record these (the VAE's by scripts/compare_models.py --record)
        rows = checkpoint_table(names)
    else:  # the same samplers and seed as the sidecars' figures (gencourse.metrics.comparison)
        rows = [{"model": name, **score_checkpoint(name, x_test, args.samples, classifier=classifier)}
                for name in names] + checkpoint_table([])  # the two floors
    print(f"\nclassifier IS and FID of {args.samples:,} samples (seed {metrics['eval_seed']}; "
          "FID against the MNIST test set); both models are scored on their decoder's mean image")
    print(format_table(rows))
    if args.recompute:
        again_quality = score_checkpoint("ch06_aae", x_test, 10_000, model=aae, classifier=classifier)
        print(f"ch06_aae recomputed: IS {again_quality['inception_score']:.4f} "
              f"(sidecar {metrics['inception_score_10000']:.4f}), FID {again_quality['fid']:.4f} "
              f"(sidecar {metrics['fid_10000']:.4f})")


if __name__ == "__main__":
    main()
