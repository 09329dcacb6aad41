"""Train chapter 7's pretrained coupling flow on dequantised MNIST, evaluate it, and ship it with the package.

    GENCOURSE_DATA=<folder with MNIST/raw> python scripts/train_ch07_flow.py --overwrite

writes ``gencourse/checkpoints/ch07_flow.pt`` and its sidecar ``.json`` (configuration, budget,
the training curve, and the test-set bits per dimension of the dequantised 8-bit images, with
the logit transform's Jacobian and the 8-bit term counted). The run checkpoints itself every
1,000 steps to ``--run-checkpoint``; starting the script again with the same settings resumes
from there. The run checkpoint is removed once the pretrained files are written.

The notebook ``notebooks/07_normalizing_flows.ipynb`` trains a small flow for a few hundred
steps; this script gives a larger one a budget no notebook has, and the notebook loads it.
``python scripts/evaluate_flow.py`` re-evaluates the shipped model.
"""

from __future__ import annotations

import argparse
import time

import torch

from gencourse import seed_everything
from gencourse.data import Batches, dequantize, load_mnist
from gencourse.flows import ImageFlow, evaluate_bits_per_dim
from gencourse.pretrained import RunClock, add_run_arguments, machine_description, save_pretrained
from gencourse.train import cosine_decay, train

NAME = "ch07_flow"
TEST_DEQUANTIZATION_SEED = 0  # the test, the notebook and the evaluation script dequantise with it
SUBSET_N = 500  # the quick re-evaluation that tests/test_ch07_flows.py repeats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--levels", type=int, nargs="+", default=[2, 4, 4])
    parser.add_argument("--hidden", type=int, nargs="+", default=[32, 64, 96])
    parser.add_argument("--n-blocks", type=int, default=1)
    parser.add_argument("--epochs", type=float, default=6)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--max-grad-norm", type=float, default=100.0)
    add_run_arguments(parser, NAME)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    seed_everything(args.seed)
    x_train, _ = load_mnist("train")
    x_test, _ = load_mnist("test")

    model = ImageFlow(levels=args.levels, hidden=args.hidden, n_blocks=args.n_blocks)
    batches = Batches(x_train, batch_size=args.batch_size, seed=args.seed)
    steps = round(args.epochs * batches.batches_per_epoch())
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    # Cosine decay to 1% of the initial rate: the long run ends with small, careful steps.
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, cosine_decay(steps))

    def step(x: torch.Tensor) -> dict[str, torch.Tensor]:
        out = model.loss(dequantize(x))  # fresh uniform noise in every pixel's bin at every step
        optimizer.zero_grad()
        out["loss"].backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), args.max_grad_norm)
        optimizer.step()
        schedule.step()
        return out

    run_config = {**model.config, "steps": steps, "batch_size": args.batch_size, "lr": args.lr, "seed": args.seed}
    resumed = args.run_checkpoint.exists()
    clock = RunClock()
    parts = {"model": model, "optimizer": optimizer, "schedule": schedule, "clock": clock}
    history = train(step, batches, steps, parts=parts, checkpoint=args.run_checkpoint, checkpoint_every=1_000,
                    config=run_config, log_every=100, progress=False)
    train_seconds = clock.seconds()
    print(f"trained {steps} steps in {train_seconds:.0f} s; last train bits/dim {history['bpd'][-1]:.3f}", flush=True)

    start = time.time()
    test_bpd = evaluate_bits_per_dim(model, x_test, seed=TEST_DEQUANTIZATION_SEED)
    eval_seconds = time.time() - start
    subset = evaluate_bits_per_dim(model, x_test[:SUBSET_N], seed=TEST_DEQUANTIZATION_SEED, per_image=True)
    # The test repeats the subset figure exactly (same images, same noise); it may differ only by
    # floating-point reductions, and from the full figure by the subset's sampling error.
    subset_record = {"n": SUBSET_N, "bpd": float(subset.mean()),
                     "standard_error": float(subset.std() / SUBSET_N**0.5)}
    print(f"test bits/dim {test_bpd:.4f} ({len(x_test)} images, {eval_seconds:.0f} s); subset {subset_record}",
          flush=True)

    per_epoch = batches.batches_per_epoch()
    metrics = {
        "test_bpd": test_bpd,
        "test_n": len(x_test),
        "test_dequantization_seed": TEST_DEQUANTIZATION_SEED,
        "test_subset": subset_record,
        "final_train_bpd": history["bpd"][-1],
        "curve": {"epoch": [round(s / per_epoch, 3) for s in history["step"]],
                  "train_bpd": [round(v, 4) for v in history["bpd"]]},
    }
    budget = {
        "steps": steps,
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "optimizer": f"Adam(lr={args.lr}), cosine decay to 1%, gradient norm clipped at {args.max_grad_norm}",
        "wall_clock_seconds": round(train_seconds, 1),
        "resumed": resumed,
        "machine": machine_description(args.threads, " shared with other jobs"),
        "profile": "cpu",
        "data": "MNIST train (60,000), uniformly dequantised afresh at every step",
    }
    path = save_pretrained(NAME, model, config=model.config, budget=budget, metrics=metrics,
                           directory=args.directory, overwrite=args.overwrite)
    args.run_checkpoint.unlink(missing_ok=True)
    print(f"saved {path} ({path.stat().st_size / 1e6:.2f} MB); test bits/dim {test_bpd:.4f}", flush=True)


if __name__ == "__main__":
    main()
