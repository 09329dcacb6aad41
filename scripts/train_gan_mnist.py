"""Train the MNIST GAN checkpoints of chapters 4 and 5 and ship their generators with the package.

    GENCOURSE_DATA=<folder with MNIST/raw> python scripts/train_gan_mnist.py dcgan --overwrite
    GENCOURSE_DATA=... python scripts/train_gan_mnist.py conditional_dcgan --overwrite
    GENCOURSE_DATA=... python scripts/train_gan_mnist.py wgan_gp --overwrite

Each writes ``gencourse/checkpoints/<NAME>.pt`` (the generator's ``state_dict``: the
discriminator or critic is not needed to sample, so it is not shipped) and its sidecar: the
model's configuration, the budget, and the sample-quality metrics of 10,000 samples in the
evaluation classifier's eyes (:mod:`gencourse.metrics`) beside the real-data floors. The run
checkpoints itself every 1,000 steps to ``--run-checkpoint`` and resumes from there. The run
checkpoint is kept at the end, so the same command with a larger ``--steps`` trains the same
run further; delete it, or pass another path, to start afresh. The sidecar's wall-clock time
adds up every part of the run.

With ``--codes K`` the generator's latent is ``z`` together with a discrete code uniform on ``K``
values (``gencourse.gan.GAN(n_codes=K)``), which no label informs: chapter 4 explains why a
latent of separate pieces lets a generator draw separated classes. Such a model is shipped as
``<NAME>_codes`` (``ch04_dcgan_codes``, say), beside the model of the plain Gaussian latent.

With ``--decay-from STEP`` both learning rates stay constant up to generator step ``STEP`` and
then fall linearly to 0 at ``--steps``, so a run kept at a constant step size can be annealed
at its end: the iterates stop jittering around the equilibrium the two players circle.

Images are scaled to [-1, 1] for the tanh generator; samples are mapped back with
``(x + 1) / 2`` before they are scored.

With ``--ema DECAY`` the script also keeps an exponential moving average of the generator's
weights (Yazici et al., 2019), which usually draws cleaner samples than the last iterate; at
the end both generators are scored on 2,000 samples drawn with a *validation* seed (1), the
better one is shipped, and both validation figures go into the sidecar. The reported 10,000-
and 2,000-sample figures use the evaluation seed (0). The averaged weights never saw the
batch-normalisation statistics of their own activations, so before the averaged generator is
scored its running statistics are recomputed from 10,000 fresh latents.
"""

from __future__ import annotations

import argparse
import copy
from collections.abc import Callable

import torch

from gencourse import seed_everything
from gencourse.data import Batches, load_mnist
from gencourse.gan import GAN
from gencourse.metrics import floors, load_classifier, score_sampler
from gencourse.pretrained import (
    RunClock,
    add_run_arguments,
    machine_description,
    run_checkpoint_path,
    save_pretrained,
)
from gencourse.train import train
from gencourse.wgan import WGAN

NAMES = {"dcgan": "ch04_dcgan", "conditional_dcgan": "ch04_conditional_dcgan", "wgan_gp": "ch05_wgan_gp"}
EVAL_SEED = 0  # the seed of the 10,000 scored samples; tests recompute the 2,000-sample figures with it
VALIDATION_SEED = 1  # the seed of the samples that choose between the last iterate and the average


def build(kind: str, n_codes: int = 0) -> tuple[torch.nn.Module, dict[str, float], int]:
    """The model, its optimiser settings and its critic steps per generator step."""
    if kind == "dcgan":
        return GAN(architecture="dcgan", latent_dim=64, width=32, n_codes=n_codes), {"lr": 2e-4, "beta1": 0.5}, 1
    if kind == "conditional_dcgan":
        return (GAN(architecture="dcgan", latent_dim=64, width=32, n_classes=10, n_codes=n_codes),
                {"lr": 2e-4, "beta1": 0.5}, 1)
    if kind == "wgan_gp":  # Gulrajani et al. (2017): Adam(1e-4, 0.5, 0.9), lambda = 10; fewer critic steps here
        return (WGAN(architecture="dcgan", latent_dim=64, width=32, lipschitz="gp", n_codes=n_codes),
                {"lr": 2e-4, "beta1": 0.5, "beta2": 0.9}, 2)
    raise ValueError(kind)


@torch.no_grad()
def recompute_batch_norm(generator: torch.nn.Module, prior: Callable[[int], torch.Tensor], n: int = 10_000,
                         batch_size: int = 500) -> None:
    """Reset the batch-norm running statistics of ``generator`` to the average over ``n`` latents from ``prior``."""
    norms = [m for m in generator.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    momenta = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # a cumulative average over the batches below
    generator.train()
    for _ in range(n // batch_size):
        y = torch.randint(generator.n_classes, (batch_size,)) if generator.n_classes else None
        generator(prior(batch_size), y)
    for m, momentum in zip(norms, momenta, strict=True):
        m.momentum = momentum
    generator.eval()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("kind", choices=sorted(NAMES))
    parser.add_argument("--steps", type=int, default=10_000, help="generator steps")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--monitor-every", type=int, default=1000)
    parser.add_argument("--ema", type=float, default=0.0, help="decay of a moving average of the generator (0: none)")
    parser.add_argument("--codes", type=int, default=0,
                        help="a discrete code of this many values in the latent, beside z (0: z alone)")
    parser.add_argument("--decay-from", type=int, default=None,
                        help="from this generator step on, both learning rates fall linearly to 0 at --steps")
    add_run_arguments(parser, None)  # the run checkpoint is named after the kind below
    args = parser.parse_args()
    name = NAMES[args.kind] + ("_codes" if args.codes else "")  # e.g. ch04_dcgan_codes
    if args.decay_from is not None and not 0 <= args.decay_from < args.steps:
        parser.error(f"--decay-from {args.decay_from} must lie in [0, --steps) = [0, {args.steps})")
    run_checkpoint = args.run_checkpoint or run_checkpoint_path(name)

    torch.set_num_threads(args.threads)
    seed_everything(args.seed)
    x_train, y_train = load_mnist("train")
    x_test, _ = load_mnist("test")
    model, opt, n_critic = build(args.kind, args.codes)
    betas = (opt["beta1"], opt.get("beta2", 0.999))
    opt_d = torch.optim.Adam(model.discriminator.parameters(), lr=opt["lr"], betas=betas)
    opt_g = torch.optim.Adam(model.generator.parameters(), lr=opt["lr"], betas=betas)
    conditional = model.n_classes > 0
    # Each training step draws n_critic batches for the critic and reuses the last for the generator.
    batches = Batches(2 * x_train - 1, y_train, batch_size=args.batch_size, seed=args.seed)
    classifier = load_classifier()
    count = [0]  # generator steps done, for the progress lines; a resumed run starts from its checkpoint's step
    if run_checkpoint.exists():
        count[0] = int(torch.load(run_checkpoint, map_location="cpu", weights_only=True)["step"])
    ema = copy.deepcopy(model.generator) if args.ema else None

    def sampler(n: int) -> torch.Tensor:
        return (model.sample(n) + 1) / 2

    def learning_rate(done: int) -> float:
        """The step size of generator step ``done + 1``: constant, then linear to 0 from ``--decay-from``."""
        if args.decay_from is None or done < args.decay_from:
            return opt["lr"]
        return opt["lr"] * (args.steps - done) / (args.steps - args.decay_from)

    def step(_: object) -> dict[str, torch.Tensor]:
        for optimizer in (opt_d, opt_g):
            for group in optimizer.param_groups:
                group["lr"] = learning_rate(count[0])
        for _ in range(n_critic):
            x, y = next(batches)
            inputs = (x, y) if conditional else (x,)
            d = model.discriminator_loss(*inputs)
            opt_d.zero_grad()
            d["loss"].backward()
            opt_d.step()
            if isinstance(model, WGAN):
                model.clip()  # weight clipping (a no-op for WGAN-GP)
        g = model.generator_loss(*inputs)
        opt_g.zero_grad()
        g["loss"].backward()
        opt_g.step()
        if ema is not None:
            with torch.no_grad():
                for p_ema, p in zip(ema.parameters(), model.generator.parameters(), strict=True):
                    p_ema.lerp_(p, 1 - args.ema)
        count[0] += 1
        if count[0] % args.monitor_every == 0:
            quality = score_sampler(sampler, x_test, n=2000, seed=VALIDATION_SEED, model=classifier)
            print(f"  step {count[0]}: IS {quality['inception_score']:.2f}, FID {quality['fid']:.2f} (2,000 samples)",
                  flush=True)
        return {"loss": d["loss"].detach() + g["loss"].detach(),
                **{f"d_{k}": v for k, v in d.items()}, **{f"g_{k}": v for k, v in g.items()}}

    run_config = {**model.config, **opt, "n_critic": n_critic, "batch_size": args.batch_size,
                  "seed": args.seed}
    parts = {"model": model, "opt_d": opt_d, "opt_g": opt_g, "batches": batches}
    if ema is not None:
        run_config["ema"] = args.ema
        parts["ema"] = ema
    resumed = run_checkpoint.exists()
    clock = RunClock()
    parts["clock"] = clock

    def forever() -> object:
        while True:
            yield None

    train(step, forever(), args.steps, parts=parts, checkpoint=run_checkpoint, checkpoint_every=1000,
          config=run_config, log_every=100, progress=False)
    seconds = clock.seconds()
    model.eval()
    selection = {}
    if ema is not None:  # pick the last iterate or the average on a validation seed, never on the reported one
        last = score_sampler(sampler, x_test, n=2000, seed=VALIDATION_SEED, model=classifier)
        live = copy.deepcopy(model.generator.state_dict())
        recompute_batch_norm(ema, model.prior)
        model.generator.load_state_dict(ema.state_dict())
        averaged = score_sampler(sampler, x_test, n=2000, seed=VALIDATION_SEED, model=classifier)
        use_ema = averaged["inception_score"] >= last["inception_score"]
        if not use_ema:
            model.generator.load_state_dict(live)
        selection = {"validation_seed": VALIDATION_SEED, "validation_last_iterate": last, "validation_ema": averaged,
                     "shipped": f"moving average (decay {args.ema})" if use_ema else "last iterate"}
    metrics = {f"{key}_10000": value for key, value in
               score_sampler(sampler, x_test, n=10_000, seed=EVAL_SEED, model=classifier).items()}
    metrics.update({f"{key}_2000": value for key, value in
                    score_sampler(sampler, x_test, n=2000, seed=EVAL_SEED, model=classifier).items()})
    metrics.update({"eval_seed": EVAL_SEED, "reference": "MNIST test set (10,000)", **floors(), **selection})
    budget = {
        "generator_steps": args.steps,
        "critic_steps_per_generator_step": n_critic,
        "epochs": round(args.steps * n_critic * args.batch_size / len(x_train), 2),
        "batch_size": args.batch_size,
        "optimizer": f"Adam(lr={opt['lr']}, betas={betas}) for both networks",
        "learning_rate_schedule": "constant" if args.decay_from is None else
        f"constant to step {args.decay_from}, then linear to 0 at step {args.steps}",
        "wall_clock_seconds": round(seconds, 1),
        "resumed": resumed,
        "machine": machine_description(args.threads, " shared with other jobs"),
        "data": "MNIST train (60,000) scaled to [-1, 1]",
    }
    path = save_pretrained(name, model.generator, config=model.config, budget=budget, metrics=metrics,
                           directory=args.directory, overwrite=args.overwrite)
    print(f"saved {path} ({path.stat().st_size / 1e6:.2f} MB) after {seconds:.0f} s of training; metrics {metrics}")
    print(f"the run checkpoint stays at {run_checkpoint}: a larger --steps trains this run further")


if __name__ == "__main__":
    main()
