"""Train chapter 8's pretrained DDPM on MNIST (a small U-Net, T = 1000), resumably, then score and ship it.

    GENCOURSE_DATA=<MNIST folder> python scripts/train_ch08_ddpm.py --steps 56000 --decay-from 30000 --overwrite

Trains ``eps_theta`` with the simple noise-prediction loss on images scaled to [-1, 1], keeps an
exponential moving average of the denoiser's weights (the model that samples), and checkpoints
itself every 1,000 steps to ``--run-checkpoint``. Starting the script again with the same
settings resumes from there, so the budget can be spent over several sittings. The learning
rate is constant after its warm-up (the moving average does the annealing) and, with
``--decay-from K``, falls linearly from step K to zero at the last step. Without a decay a run
can be extended by starting it again with a larger ``--steps``; the run checkpoint is kept for
that, and a run trained at a constant rate to step K can go on with ``--decay-from K``.

A finished run can be trained for a further cycle: ``--init-from`` its run checkpoint starts a new
run (its own ``--run-checkpoint``) from its weights, moving average, Adam moments, data order,
generators and clock, with a fresh warm-up and decay over ``--steps`` more steps. The shipped
weights were made this way, in three cycles (on two threads, ``--threads 2``):

    GENCOURSE_DATA=<MNIST folder> python scripts/train_ch08_ddpm.py --steps 56000 --decay-from 30000 --train-only \
        --run-checkpoint first.ckpt
    GENCOURSE_DATA=<MNIST folder> python scripts/train_ch08_ddpm.py --init-from first.ckpt --steps 36000 \
        --lr 2e-4 --decay-from 12000 --train-only --run-checkpoint second.ckpt
    GENCOURSE_DATA=<MNIST folder> python scripts/train_ch08_ddpm.py --init-from second.ckpt --steps 32000 \
        --lr 2e-4 --decay-from 8000 --run-checkpoint third.ckpt --overwrite

When the steps are done, the moving average is scored (``gencourse.diffusion.evaluation``) and
shipped as ``gencourse/checkpoints/ch08_ddpm.pt`` with its sidecar: classifier Inception Score
and FID of 10,000 DDIM samples (50 steps, eta = 1) and of 500 (a subset, drawn again, that a
test recomputes), the bound in bits per dimension on dequantised test images, and DDIM (eta = 1,
and the deterministic eta = 0) against 1,000-step ancestral sampling on 1,000 images, timed side
by side (``--compare-n``; ancestral sampling alone takes 1,000 network passes per image).
``--train-only`` stops after training.
"""

from __future__ import annotations

import argparse
import copy
import time
from pathlib import Path
from typing import Any

import torch

from gencourse import seed_everything
from gencourse.data import Batches, load_mnist
from gencourse.diffusion import DDPM, UNet
from gencourse.diffusion.evaluation import (
    DDIM_ETA,
    DDIM_STEPS,
    compare_samplers,
    evaluate_bits_per_dim,
    sample_images,
)
from gencourse.metrics import floors, load_classifier, reference_statistics, score_sampler
from gencourse.pretrained import RunClock, add_run_arguments, machine_description, save_pretrained
from gencourse.train import History, load_checkpoint, save_atomically, train

NAME = "ch08_ddpm"
EVAL_SEED = 0
SUBSET_N = 500  # DDIM samples the test recomputes (50 passes each)
BPD_SUBSET_N = 16  # test images whose bound the test recomputes (1,000 passes each)


def build(args: argparse.Namespace) -> DDPM:
    denoiser = UNet(channels=args.channels, attention=not args.no_attention)
    return DDPM(denoiser, T=args.T, schedule=args.schedule)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--channels", type=int, nargs="+", default=[16, 32, 96])
    parser.add_argument("--no-attention", action="store_true")
    parser.add_argument("--T", type=int, default=1000)
    parser.add_argument("--schedule", default="linear")
    parser.add_argument("--steps", type=int, default=40_000)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=3e-4)
    parser.add_argument("--warmup", type=int, default=1_000, help="linear learning-rate warm-up steps")
    parser.add_argument("--decay-from", type=int, default=None,
                        help="step from which the learning rate falls linearly to zero at --steps")
    parser.add_argument("--ema", type=float, default=0.9995, help="decay of the moving average of the weights")
    parser.add_argument("--max-grad-norm", type=float, default=1.0)
    parser.add_argument("--bpd-n", type=int, default=256, help="test images whose bound in bits/dim is measured")
    parser.add_argument("--compare-n", type=int, default=1000, help="images per sampler in the DDIM/ancestral timing")
    parser.add_argument("--train-only", action="store_true", help="stop after training (no scoring, no shipping)")
    parser.add_argument("--init-from", type=Path, default=None,
                        help="run checkpoint of a finished run to train a further cycle from (see above)")
    add_run_arguments(parser, NAME)
    args = parser.parse_args()
    if args.init_from is not None and args.init_from.resolve() == args.run_checkpoint.resolve():
        parser.error(f"--init-from {args.init_from} is the run checkpoint itself: give the new cycle its own "
                     "--run-checkpoint, so that the finished run stays as it is")
    if not args.train_only and not args.overwrite and read_existing(args):
        parser.error(f"a checkpoint {NAME!r} is already shipped: pass --overwrite to replace it, or --train-only")
    if args.decay_from is not None and not args.warmup <= args.decay_from < args.steps:
        parser.error(f"--decay-from {args.decay_from} must lie between the warm-up ({args.warmup} steps) "
                     f"and --steps ({args.steps})")

    torch.set_num_threads(args.threads)
    seed_everything(args.seed)
    x_train, _ = load_mnist("train")
    model = build(args)
    ema = copy.deepcopy(model).requires_grad_(False)
    batches = Batches(x_train, batch_size=args.batch_size, seed=args.seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    clock, earlier = RunClock(), EarlierCycles()
    if args.init_from is not None and not args.run_checkpoint.exists():  # else the new cycle resumes below
        earlier.start_from(args.init_from, {"model": model, "ema": ema, "optimizer": optimizer,
                                            "batches": batches, "clock": clock}, model.config, args.lr)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda k: learning_rate_factor(k, args))

    def step(x: torch.Tensor) -> dict[str, torch.Tensor]:
        out = model.loss(2 * x - 1)  # images k/255 scaled to [-1, 1], as Ho et al.
        optimizer.zero_grad()
        out["loss"].backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), args.max_grad_norm)
        optimizer.step()
        schedule.step()
        with torch.no_grad():
            for p_ema, p in zip(ema.parameters(), model.parameters(), strict=True):
                p_ema.lerp_(p, 1 - args.ema)
        return out

    run_config = {**model.config, "batch_size": args.batch_size, "lr": args.lr,
                  "warmup": args.warmup, "ema": args.ema, "seed": args.seed}
    if args.decay_from is not None:  # the schedule up to K is the constant one, so a constant run can go on
        run_config["decay"] = {"from": args.decay_from, "to": args.steps}
    if args.init_from is not None:
        run_config["init_from"] = "a finished run, trained a further cycle"  # a resume must say so too
    resumed = args.run_checkpoint.exists()
    if resumed and args.decay_from is not None and args.init_from is None:
        adopt_constant_run(args.run_checkpoint, run_config, args.decay_from)
    parts = {"model": model, "ema": ema, "optimizer": optimizer, "schedule": schedule, "clock": clock}
    if args.init_from is not None:
        parts["earlier"] = earlier
    history = train(step, batches, args.steps, parts=parts, checkpoint=args.run_checkpoint, checkpoint_every=1_000,
                    config=run_config, log_every=100, progress=False)
    train_seconds = clock.seconds()
    print(f"trained {args.steps} steps in {train_seconds:.0f} s; last loss {history['loss'][-1]:.4f}", flush=True)
    if args.train_only:
        return

    ema.eval()
    x_test, _ = load_mnist("test")
    metrics = evaluate(ema, x_test, args)
    earlier.add_cycle(args.steps, {"lr": args.lr, "warmup": args.warmup, "decay": run_config.get("decay")},
                      history)  # this run's own cycle, the last
    steps, losses = earlier.history["step"], earlier.history["loss"]
    metrics["curve"] = {"step": steps[9::10], "loss": [round(sum(losses[i:i + 10]) / 10, 5)
                                                       for i in range(0, len(losses) - 9, 10)]}
    budget = {
        "steps": earlier.steps(),
        "epochs": round(earlier.steps() / batches.batches_per_epoch(), 2),
        "batch_size": args.batch_size,
        "optimizer": f"{earlier.describe()}; gradient norm clipped at {args.max_grad_norm}; moving average of "
                     f"the weights, decay {args.ema} (the shipped weights)",
        "wall_clock_seconds": round(train_seconds, 1),
        "resumed": resumed or len(earlier.cycles) > 1,
        "machine": machine_description(args.threads, " shared with other jobs"),
        "profile": "cpu",
        "data": "MNIST train (60,000), k/255 scaled to [-1, 1]",
    }
    path = save_pretrained(NAME, ema.denoiser, config=ema.config, budget=budget, metrics=metrics,
                           directory=args.directory, overwrite=args.overwrite)
    print(f"saved {path} ({path.stat().st_size / 1e6:.2f} MB)", flush=True)


class EarlierCycles:
    """The learning-rate cycles a run has been trained through, each with its steps, schedule and loss curve.

    A further cycle (``--init-from``) starts with those of the finished run, its own last among
    them: a run that was itself a further cycle brings all of its earlier ones. It is one of the
    run's checkpointed parts, so a resumed further cycle still knows them.
    """

    def __init__(self) -> None:
        self.cycles: list[dict[str, Any]] = []  # {"steps", "lr", "warmup", "decay"}, oldest first
        self.history: dict[str, list[float]] = {"step": [], "loss": []}  # steps counted from the first cycle

    def steps(self) -> int:
        return sum(cycle["steps"] for cycle in self.cycles)

    def add_cycle(self, steps: int, schedule: dict[str, Any], history: History) -> None:
        """Append a cycle of ``steps`` steps with ``schedule`` (``lr``, ``warmup``, ``decay``) and its curve."""
        self.history["step"] += [self.steps() + int(k) for k in history["step"]]
        self.history["loss"] += list(history["loss"])
        self.cycles.append({"steps": steps, **schedule})

    def describe(self) -> str:
        """The budget's words for the cycles, oldest first."""
        def words(cycle: dict[str, Any]) -> str:
            decay = cycle["decay"]
            return (f"Adam(lr={cycle['lr']}), linear warm-up over {cycle['warmup']} steps then constant"
                    + (f" to step {decay['from']}, then falling linearly to zero at step {decay['to']}" if decay
                       else ""))
        if len(self.cycles) == 1:
            return words(self.cycles[0])
        return "; then ".join(f"cycle {i} ({cycle['steps']} steps): {words(cycle)}"
                              for i, cycle in enumerate(self.cycles, 1))

    def start_from(self, path: Path, parts: dict[str, Any], architecture: dict[str, object], lr: float) -> None:
        """Load the finished run at ``path`` into ``parts`` (and its generators); Adam's rate is set to ``lr``."""
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except FileNotFoundError:
            raise FileNotFoundError(f"--init-from {path}: no such run checkpoint") from None
        config = state.get("config", {})
        differs = {key: (config.get(key), value) for key, value in architecture.items() if config.get(key) != value}
        if differs:
            raise ValueError(f"--init-from {path}: that run's network differs, (then, now) = {differs}; "
                             "pass the same --channels, --T and --schedule")
        decay = config.get("decay")
        if decay is None or state["step"] != decay["to"]:
            raise ValueError(f"--init-from {path}: that run is at step {state['step']} and not a finished cycle "
                             f"(its rate has not fallen to zero: decay {decay}); finish it first")
        history = History()
        own = {**parts, "earlier": self} if "earlier" in state["parts"] else parts  # its earlier cycles, if any
        steps = load_checkpoint(path, own, history)  # the parts, the curve and the generators, as a resume
        self.add_cycle(steps, {"lr": config["lr"], "warmup": config["warmup"], "decay": decay}, history)
        for group in parts["optimizer"].param_groups:  # a fresh schedule starts from the new rate
            group["lr"] = group["initial_lr"] = lr
        print(f"a further cycle starts from the run at step {self.steps()} in {path}", flush=True)

    def state_dict(self) -> dict[str, object]:
        return {"cycles": self.cycles, "history": self.history}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.cycles, self.history = list(state["cycles"]), {key: list(v) for key, v in state["history"].items()}


def learning_rate_factor(k: int, args: argparse.Namespace) -> float:
    """The learning rate of step k over ``--lr``: a linear warm-up, constant, then (optionally) a linear fall to 0."""
    factor = min(1.0, (k + 1) / args.warmup)  # warm-up, then constant: the moving average does the annealing
    if args.decay_from is not None and k >= args.decay_from:
        factor *= max(0.0, (args.steps - k) / (args.steps - args.decay_from))
    return factor


def adopt_constant_run(path: Path, run_config: dict[str, object], decay_from: int) -> None:
    """Let a run trained at a constant rate up to step ``decay_from`` go on with the decay.

    Its schedule so far is the decaying run's, step for step, so its checkpoint is given the
    decaying run's settings (in place, said aloud); any other difference of settings is left for
    the resume to refuse.
    """
    state = torch.load(path, map_location="cpu", weights_only=True)
    constant = {key: value for key, value in run_config.items() if key != "decay"}
    if state.get("config") != constant:
        return
    if state["step"] > decay_from:
        raise ValueError(f"the run {path} went on at a constant rate to step {state['step']}, past "
                         f"--decay-from {decay_from}: decay from step {state['step']} or later")
    state["config"] = dict(run_config)
    save_atomically(state, path)
    print(f"the constant-rate run at step {state['step']} in {path} goes on with the decay from step {decay_from}",
          flush=True)


def read_existing(args: argparse.Namespace) -> bool:
    from gencourse.pretrained import CHECKPOINT_DIR

    return ((args.directory or CHECKPOINT_DIR) / f"{NAME}.json").exists()


def evaluate(ddpm: DDPM, x_test: torch.Tensor, args: argparse.Namespace) -> dict[str, object]:
    """The sidecar's figures, each printed as it is measured."""
    classifier = load_classifier()
    reference = reference_statistics(x_test, classifier)  # the test set's features, classified once for every score
    start = time.time()
    quality = score_sampler(lambda n: sample_images(ddpm, n), reference, n=10_000, seed=EVAL_SEED, model=classifier)
    subset = score_sampler(lambda n: sample_images(ddpm, n), reference, n=SUBSET_N, seed=EVAL_SEED, model=classifier)
    print(f"DDIM-{DDIM_STEPS} (eta = {DDIM_ETA:g}): IS {quality['inception_score']:.3f}, "
          f"FID {quality['fid']:.3f} (10,000 samples); "
          f"subset of {SUBSET_N}: {subset} ({time.time() - start:.0f} s)", flush=True)
    start = time.time()
    bpd = evaluate_bits_per_dim(ddpm, x_test[:args.bpd_n], seed=EVAL_SEED)
    bpd_subset = evaluate_bits_per_dim(ddpm, x_test[:BPD_SUBSET_N], seed=EVAL_SEED)
    print(f"bound {bpd.mean():.4f} bits/dim on the first {args.bpd_n} test images "
          f"(standard error {bpd.std() / args.bpd_n**0.5:.4f}; {time.time() - start:.0f} s)", flush=True)
    comparison = compare_samplers(ddpm, reference, n=args.compare_n, seed=EVAL_SEED, model=classifier)
    print(f"samplers on {args.compare_n} images: {comparison}", flush=True)
    return {
        "eval_seed": EVAL_SEED,
        "sampler": f"DDIM, {DDIM_STEPS} steps, eta = {DDIM_ETA:g}, predicted x0 clipped to [-1, 1]",
        "reference": "MNIST test set (10,000)",
        "fid_10000": quality["fid"],
        "inception_score_10000": quality["inception_score"],
        f"fid_{SUBSET_N}": subset["fid"],
        f"inception_score_{SUBSET_N}": subset["inception_score"],
        **floors(),
        "test_bpd": float(bpd.mean()),
        "test_bpd_n": args.bpd_n,
        "test_bpd_standard_error": float(bpd.std() / args.bpd_n**0.5),
        "test_bpd_note": "the negative ELBO (an upper bound), Gaussian decoder, on the first test images, "
                         "each dequantised once with the seed and noised once per step",
        "test_subset": {"n": BPD_SUBSET_N, "seed": EVAL_SEED, "bpd": float(bpd_subset.mean())},
        "sampler_comparison": {**comparison, "threads": args.threads,
                               "machine": machine_description(args.threads, " shared with other jobs")},
    }


if __name__ == "__main__":
    main()
