"""Train chapter 6's adversarial auto-encoder on MNIST with a non-Gaussian prior, evaluate it, and ship it.

    GENCOURSE_DATA=<folder with MNIST/raw> python scripts/train_ch06_aae.py --overwrite

An MLP AAE in the manner of Makhzani et al. (2016): images in [0, 1] (not binarised), Bernoulli
logits out, a deterministic encoder, and by default an 8-dimensional prior that is a mixture of
ten Gaussians on a circle (``gencourse.aae.GaussianMixturePrior``). Each mini-batch takes the
reconstruction step, the discriminator's step and the encoder's step of ``gencourse.aae.aae_step``.

It writes ``gencourse/checkpoints/ch06_aae.pt`` (the encoder's and decoder's ``state_dict``: the
discriminator is not needed to encode or sample) and its sidecar with the configuration, the
budget and the metrics:

- the MMD two-sample test (``gencourse.metrics.mmd_test``, Gaussian kernel, median-heuristic
  bandwidth) of the codes of 2,000 *test* images, drawn at random with the seed ``MMD_SEED``,
  against 2,000 prior samples drawn with the same seed: statistic, p-value, bandwidth; and the
  same test repeated with ``--mmd-repeats`` further seeds (fresh subsets, prior samples and
  permutations), to show that the first p-value is not a lucky draw;
- the classifier Inception Score and FID (``gencourse.metrics``) of 10,000 and of 2,000 samples
  drawn with the seed ``EVAL_SEED``, beside the real-data floors.

The run checkpoints itself every 6,000 steps to ``--run-checkpoint`` and resumes from there; it is
removed once the pretrained files are written. ``--directory`` writes elsewhere (for trial runs).
"""

from __future__ import annotations

import argparse
import time

import torch

from gencourse import seed_everything
from gencourse.aae import AAE, aae_step, aggregated_posterior_test
from gencourse.data import Batches, load_mnist
from gencourse.metrics import floors, load_classifier, score_sampler
from gencourse.pretrained import RunClock, add_run_arguments, machine_description, save_pretrained
from gencourse.train import cosine_decay, train

NAME = "ch06_aae"
EVAL_SEED = 0  # the seed of the scored samples; tests recompute the 2,000-sample figures with it
MMD_SEED = 0  # the seed of the test subset, the prior samples and the permutations of the reported MMD test
MMD_N = 2000  # codes of this many test images against this many prior samples
MMD_PERMUTATIONS = 1000


def code_mmd(model: AAE, x: torch.Tensor, seed: int, permutations: int = MMD_PERMUTATIONS) -> dict[str, float]:
    """:func:`gencourse.aae.aggregated_posterior_test` of ``MMD_N`` images of ``x`` as a dict."""
    return aggregated_posterior_test(model, x, n=MMD_N, seed=seed, permutations=permutations)._asdict()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--latent-dim", type=int, default=8)
    parser.add_argument("--hidden", type=int, nargs="+", default=[400, 400])
    parser.add_argument("--discriminator-hidden", type=int, nargs="+", default=[256, 256])
    parser.add_argument("--encoder", choices=["deterministic", "gaussian"], default="deterministic")
    parser.add_argument("--prior", choices=["mixture", "swiss_roll", "gaussian"], default="mixture")
    parser.add_argument("--components", type=int, default=10, help="of the mixture prior")
    parser.add_argument("--radius", type=float, default=4.0, help="of the mixture prior's circle of centres")
    parser.add_argument("--std", type=float, default=1.0, help="of each component of the mixture prior")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--lr", type=float, default=1e-3, help="Adam step size of the reconstruction phase")
    parser.add_argument("--lr-adversarial", type=float, default=1e-3, help="Adam step size of both adversarial steps")
    parser.add_argument("--monitor-every", type=int, default=10, help="epochs between progress lines")
    parser.add_argument("--mmd-repeats", type=int, default=10, help="further seeds of the MMD test")
    parser.add_argument("--eval-threads", type=int, default=1, help="torch threads for the evaluation")
    add_run_arguments(parser, NAME)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    seed_everything(args.seed)
    x_train, _ = load_mnist("train")
    x_test, _ = load_mnist("test")
    prior_options = {"components": args.components, "radius": args.radius, "std": args.std} \
        if args.prior == "mixture" else {}
    model = AAE(latent_dim=args.latent_dim, hidden=args.hidden, discriminator_hidden=args.discriminator_hidden,
                encoder=args.encoder, prior=args.prior, prior_options=prior_options)
    batches = Batches(x_train, batch_size=args.batch_size, seed=args.seed)
    steps = args.epochs * batches.batches_per_epoch()
    betas = (0.5, 0.999)  # the adversarial players' momentum of Radford et al. (2016); the auto-encoder's too
    opt_ae = torch.optim.Adam([*model.encoder.parameters(), *model.decoder.parameters()], lr=args.lr, betas=betas)
    opt_d = torch.optim.Adam(model.discriminator.parameters(), lr=args.lr_adversarial, betas=betas)
    opt_g = torch.optim.Adam(model.encoder.parameters(), lr=args.lr_adversarial, betas=betas)

    # every step size decays to 1% of its start: the game settles at the end
    schedules = [torch.optim.lr_scheduler.LambdaLR(opt, cosine_decay(steps)) for opt in (opt_ae, opt_d, opt_g)]
    inner = aae_step(model, opt_ae, opt_d, opt_g)
    per_epoch = batches.batches_per_epoch()
    start = time.time()

    def step(x: torch.Tensor) -> dict[str, torch.Tensor]:
        out = inner(x)
        for schedule in schedules:
            schedule.step()
        k = schedules[0].last_epoch
        if k % (args.monitor_every * per_epoch) == 0:
            mmd = code_mmd(model, x_train, seed=k, permutations=200)  # training codes: progress lines only
            print(f"epoch {k // per_epoch}: recon {float(out['loss']):.1f} nats, D(prior) {float(out['D_prior']):.2f}, "
                  f"D(codes) {float(out['D_codes']):.2f}; train codes: MMD^2 {mmd['statistic']:.2e}, "
                  f"p {mmd['p_value']:.3f} ({time.time() - start:.0f} s)", flush=True)
        return out

    run_config = {**model.config, "steps": steps, "batch_size": args.batch_size, "lr": args.lr,
                  "lr_adversarial": args.lr_adversarial, "seed": args.seed}
    resumed = args.run_checkpoint.exists()
    clock = RunClock()
    parts = {"model": model, "opt_ae": opt_ae, "opt_d": opt_d, "opt_g": opt_g, "clock": clock,
             **{f"schedule_{i}": s for i, s in enumerate(schedules)}}
    history = train(step, batches, steps, parts=parts, checkpoint=args.run_checkpoint, checkpoint_every=6_000,
                    config=run_config, log_every=per_epoch, progress=False)
    train_seconds = clock.seconds()
    print(f"trained {steps} steps in {train_seconds:.0f} s; last recon {history['loss'][-1]:.2f} nats", flush=True)

    torch.set_num_threads(args.eval_threads)
    model.eval()
    start = time.time()
    with torch.no_grad():
        test_recon = float(sum(float(model.reconstruction_loss(b)["loss"]) * len(b) for b in x_test.split(1000))
                           / len(x_test))
    mmd = code_mmd(model, x_test, seed=MMD_SEED)
    repeats = [code_mmd(model, x_test, seed=MMD_SEED + 1 + r) for r in range(args.mmd_repeats)]
    print(f"MMD test, {MMD_N} test codes vs {MMD_N} prior samples (seed {MMD_SEED}): MMD^2 {mmd['statistic']:.3e}, "
          f"p {mmd['p_value']:.3f}, bandwidth {mmd['bandwidth']:.3f}; p > 0.05 in "
          f"{sum(r['p_value'] > 0.05 for r in repeats)} of {len(repeats)} further seeds", flush=True)
    classifier = load_classifier()
    quality = score_sampler(model.sample, x_test, n=10_000, seed=EVAL_SEED, model=classifier)
    quality_2000 = score_sampler(model.sample, x_test, n=2000, seed=EVAL_SEED, model=classifier)
    eval_seconds = time.time() - start
    print(f"10,000 samples: IS {quality['inception_score']:.3f}, FID {quality['fid']:.2f}; "
          f"test recon {test_recon:.2f} nats ({eval_seconds:.0f} s)", flush=True)

    metrics = {
        "mmd": {**mmd, "seed": MMD_SEED, "n": MMD_N, "permutations": MMD_PERMUTATIONS,
                "codes": "test images, a random subset drawn with the seed", "kernel": "Gaussian, median heuristic"},
        "mmd_repeats": {"seeds": [MMD_SEED + 1 + r for r in range(args.mmd_repeats)],
                        "p_values": [round(r["p_value"], 4) for r in repeats],
                        "statistics": [r["statistic"] for r in repeats]},
        "inception_score_10000": quality["inception_score"],
        "fid_10000": quality["fid"],
        "inception_score_2000": quality_2000["inception_score"],
        "fid_2000": quality_2000["fid"],
        "eval_seed": EVAL_SEED,
        **floors(),
        "test_reconstruction_nats": test_recon,
        "evaluation_seconds": round(eval_seconds, 1),
        "curve": {"epoch": [s // per_epoch for s in history["step"]],
                  "train_reconstruction": [round(v, 3) for v in history["loss"]],
                  "D_prior": [round(v, 4) for v in history["D_prior"]],
                  "D_codes": [round(v, 4) for v in history["D_codes"]]},
    }
    budget = {
        "steps": steps,
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "optimizer": f"Adam(betas={betas}): reconstruction lr {args.lr}, discriminator and encoder lr "
                     f"{args.lr_adversarial}; cosine decay to 1%",
        "wall_clock_seconds": round(train_seconds, 1),
        "resumed": resumed,
        "machine": machine_description(args.threads, " shared with other jobs"),
        "profile": "cpu",
        "data": "MNIST train (60,000), intensities in [0, 1]",
        "seed": args.seed,
    }
    path = save_pretrained(NAME, model.autoencoder(), config=model.config, budget=budget, metrics=metrics,
                           directory=args.directory, overwrite=args.overwrite)
    args.run_checkpoint.unlink(missing_ok=True)
    print(f"saved {path} ({path.stat().st_size / 1e6:.2f} MB)", flush=True)


if __name__ == "__main__":
    main()
