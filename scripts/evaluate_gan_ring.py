"""Chapters 4 and 5 on the ring of eight Gaussians: modes recovered, high-quality share, and W1 from a critic.

    python scripts/evaluate_gan_ring.py [--steps 3000] [--seed 0]

Trains, on the same 20,000 points of the ring (``gencourse.data.toy.sample_ring``: radius 2,
standard deviation 0.05), four models with the same MLP networks: the GAN with the
non-saturating and with the minimax generator loss (chapter 4), the WGAN with weight clipping
and WGAN-GP (chapter 5). For each it prints the number of modes recovered and the share of
high-quality samples (``gencourse.gan.mode_coverage``, 2,000 samples).

Then it checks critics against the exact W1 (``gencourse.wgan.exact_w1``, an optimal
assignment between ``--w1-points`` samples and as many data points): the final WGAN-GP's own
critic (lambda = 10), and fresh critics (MLP 256-256) fitted with a one-sided penalty,
lambda = 100 (``gencourse.wgan.fit_critic``), to the WGAN-GP generator at seven points of its
training, from the untrained one (W1 large) to the final one (W1 small). The final WGAN-GP's own critic
(MLP 128-128) is also trained on against its generator, held fixed, with both penalties: a
critic that kept up with the generator would read this much.

The exact W1 between two finite samples is biased upwards: two independent samples of the
*same* distribution are not at distance 0. The script prints that sampling floor beside the
comparison, then how many of the fresh critics come within 10% of the exact figure.
"""

from __future__ import annotations

import argparse
import copy
import time

import torch

from gencourse.data.toy import ring_centers, sample_ring
from gencourse.gan import GAN, fit_adversarial, mode_coverage
from gencourse.gan.networks import MLPDiscriminator
from gencourse.wgan import WGAN, estimate_w1, exact_w1, fit_critic

STD = 0.05


def models(seed: int) -> dict[str, tuple[torch.nn.Module, dict]]:
    torch.manual_seed(seed)
    return {
        "GAN (non-saturating)": (GAN(latent_dim=8), {"n_critic": 1, "lr": 1e-3}),
        "GAN (minimax)": (GAN(latent_dim=8, generator_objective="minimax"), {"n_critic": 1, "lr": 1e-3}),
        "WGAN (clipping, c = 0.01)": (WGAN(latent_dim=8, lipschitz="clip", clip=0.01), {"n_critic": 5, "lr": 5e-4}),
        "WGAN-GP (lambda = 10)": (WGAN(latent_dim=8, lipschitz="gp"), {"n_critic": 5, "lr": 5e-4}),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=3000, help="generator steps per model")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--w1-points", type=int, default=4000, help="samples on each side of the W1 comparison")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    data = sample_ring(20_000, std=STD, generator=torch.Generator().manual_seed(args.seed))
    centers = ring_centers()

    print(f"ring of 8 Gaussians (radius 2, std {STD}); {args.steps} generator steps per model; 2,000 samples each")
    print(f"{'model':<28} {'modes':>5} {'high-quality':>13} {'seconds':>8}")
    trained = {}
    for name, (model, settings) in models(args.seed).items():
        snapshots = {0: model.sample(args.w1_points)}
        start = time.time()

        def keep(k: int, model: torch.nn.Module = model, snapshots: dict = snapshots) -> None:
            snapshots[k] = model.sample(args.w1_points)

        fit_adversarial(model, data, args.steps, seed=args.seed, callback=keep, every=max(1, args.steps // 6),
                        **settings)
        result = mode_coverage(model.sample(2000), centers, STD)
        seconds = time.time() - start
        print(f"{name:<28} {result['modes']:>5} {result['high_quality']:>13.1%} {seconds:>8.0f}", flush=True)
        trained[name] = (model, snapshots)

    n = args.w1_points
    print(f"\nW1 between {n:,} samples and {n:,} data points: exact (optimal assignment) against critics")
    wgan, snapshots = trained["WGAN-GP (lambda = 10)"]
    real = data[torch.randperm(len(data), generator=torch.Generator().manual_seed(1))[:n]]
    final = wgan.sample(n)
    rows = [("final WGAN-GP, its own critic (lambda = 10)", final, wgan.critic)]
    for label, settings in (("two-sided, lambda = 10", {"penalty": 10.0, "one_sided": False}),
                            ("one-sided, lambda = 100", {"penalty": 100.0, "one_sided": True})):
        critic = copy.deepcopy(wgan.critic)  # the generator is held fixed; only its critic trains on
        fit_critic(critic, real, final, steps=3000, batch_size=1000, lr=2e-3,
                   generator=torch.Generator().manual_seed(args.seed), **settings)
        rows.append((f"final WGAN-GP, own critic trained on ({label})", final, critic))
    for k, fake in sorted(snapshots.items()):
        torch.manual_seed(args.seed)
        critic = MLPDiscriminator(hidden=(256, 256))
        fit_critic(critic, real, fake, steps=3000, batch_size=1000, lr=2e-3, penalty=100.0, one_sided=True,
                   generator=torch.Generator().manual_seed(args.seed))
        rows.append((f"WGAN-GP generator at step {k}, fresh critic", fake, critic))
    other = data[torch.randperm(len(data), generator=torch.Generator().manual_seed(2))[:n]]
    floor = exact_w1(real, other)
    print(f"sampling floor: exact W1 between two independent sets of {n:,} data points = {floor:.4f}")
    print("fresh critics: MLP 256-256, 3,000 steps of 1,000 points (step size 2e-3 decaying to 1e-4), "
          "one-sided gradient penalty with lambda = 100")
    print(f"{'pair':<62} {'exact':>7} {'critic':>7} {'error':>7}")
    within = []
    for label, fake, critic in rows:
        exact = exact_w1(real, fake)
        estimate = estimate_w1(critic, real, fake)
        error = (estimate - exact) / exact
        if "fresh" in label:
            within.append(abs(error) <= 0.10)
        print(f"{label:<62} {exact:>7.4f} {estimate:>7.4f} {error:>+7.1%}")
    print(f"fresh critics within 10% of the exact W1: {sum(within)} of {len(within)} (target: all)")

if __name__ == "__main__":
    main()
