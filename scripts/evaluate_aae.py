"""Chapter 6's evaluation: does the shipped AAE's aggregated posterior match its prior, and how good are its samples?

    GENCOURSE_DATA=<folder with MNIST/raw> python scripts/evaluate_aae.py [--recompute]

Prints the MMD two-sample test of the codes of 2,000 test images against 2,000 prior samples
(``gencourse.aae.aggregated_posterior_test``: unbiased MMD^2, Gaussian kernel with the
median-heuristic bandwidth, permutation p-value) as the sidecar of ``ch06_aae`` records it, then
one table of the classifier Inception Score and FID of 10,000 samples (``gencourse.metrics``): the
AAE's (from its sidecar), the shipped VAE's of chapter 3 (``ch03_vae``, computed here with the same
seed: its sidecar holds likelihoods, not sample scores) and the two real-data floors. Both models
are scored on their decoder's mean image, ``sigmoid(logits)`` of ``z ~ p(z)``.

With ``--recompute`` the AAE's MMD test and its 10,000-sample scores are computed again from the
checkpoint (same seeds, so the same subset, prior samples, permutations and images) and printed
beside the sidecar's.
"""

from __future__ import annotations

import argparse

import torch

from gencourse.aae import aggregated_posterior_test, load_pretrained_aae
from gencourse.data import load_mnist
from gencourse.metrics import floors, format_table, load_classifier, score_sampler
from gencourse.pretrained import load_pretrained, read_sidecar
from gencourse.vae import VAE


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
    seed = metrics["eval_seed"]
    if args.samples == 10_000:
        aae_quality = {"inception_score": metrics["inception_score_10000"], "fid": metrics["fid_10000"]}
    else:
        aae_quality = score_sampler(aae.sample, x_test, n=args.samples, seed=seed, model=classifier)
    vae = VAE(**read_sidecar("ch03_vae")["config"])
    load_pretrained("ch03_vae", vae)
    vae.eval()
    with torch.no_grad():
        vae_quality = score_sampler(vae.sample, x_test, n=args.samples, seed=seed, model=classifier)
    floor = floors()
    test_is = floor["inception_score_test"]
    rows = [
        {"model": f"ch06_aae ({record['config']['latent_dim']}-d {record['config']['prior']} prior)",
         **aae_quality},
        {"model": f"ch03_vae ({read_sidecar('ch03_vae')['config']['latent_dim']}-d Gaussian prior)", **vae_quality},
        {"model": "floor: 10,000 training images (FID against the test set)",
         "inception_score": read_sidecar("mnist_classifier")["metrics"]["inception_score_train10k"],
         "fid": floor["fid_floor_train10k_vs_test"]},
        {"model": "floor: the 10,000 test images (IS; FID 0 by definition)", "inception_score": test_is, "fid": 0.0},
    ]
    print(f"\nclassifier IS and FID of {args.samples:,} samples (seed {seed}; FID against the MNIST test set)")
    print(format_table(rows))
    if args.recompute:
        with torch.no_grad():
            again_quality = score_sampler(aae.sample, x_test, n=10_000, seed=seed, model=classifier)
        print(f"ch06_aae recomputed: IS {again_quality['inception_score']:.4f} "
              f"(sidecar {metrics['inception_score_10000']:.4f}), FID {again_quality['fid']:.4f} "
              f"(sidecar {metrics['fid_10000']:.4f})")


if __name__ == "__main__":
    main()
