"""Train chapter 3's pretrained VAE on dynamically binarised MNIST, evaluate it, and ship it with the package.

    GENCOURSE_DATA=<folder with MNIST/raw> python scripts/train_ch03_vae.py --overwrite

writes ``gencourse/checkpoints/ch03_vae.pt`` and its sidecar ``.json`` (configuration, budget,
the training curve, and the test negative log-likelihood estimated by importance sampling with
``--eval-k`` samples on ``--eval-n`` test images). The run checkpoints itself every 6,000 steps
to ``--run-checkpoint``; starting the script again with the same settings resumes from there.
The run checkpoint is removed once the pretrained files are written.

The notebook ``notebooks/03_variational_autoencoders.ipynb`` trains a small VAE for a few
hundred steps; this script gives a larger one a budget no notebook has, and the notebook
loads the result. ``--steps 0`` with an existing run checkpoint only evaluates and saves.
"""

from __future__ import annotations

import argparse
import time

import torch

from gencourse import seed_everything
from gencourse.data import Batches, binarize, load_mnist
from gencourse.pretrained import RunClock, add_run_arguments, machine_description, save_pretrained
from gencourse.train import cosine_decay, train
from gencourse.vae import VAE, estimate_nll, kl_warmup

NAME = "ch03_vae"
TEST_BINARIZATION_SEED = 0  # the test and the notebook binarise the test set with the same seed
SUBSET_N, SUBSET_K = 200, 200  # the quick re-estimate that tests/test_ch03_vae.py repeats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hidden", type=int, nargs="+", default=[400, 400])
    parser.add_argument("--latent-dim", type=int, default=50)
    parser.add_argument("--epochs", type=int, default=160)
    parser.add_argument("--warmup-epochs", type=int, default=10, help="KL annealing from 0 to 1 over these epochs")
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--eval-threads", type=int, default=2, help="torch threads for the evaluation")
    parser.add_argument("--eval-k", type=int, default=5000, help="importance samples per test image")
    parser.add_argument("--eval-n", type=int, default=10_000, help="test images to evaluate (10,000 = all)")
    add_run_arguments(parser, NAME)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    seed_everything(args.seed)
    x_train, _ = load_mnist("train")
    x_test, _ = load_mnist("test")

    model = VAE(hidden=args.hidden, latent_dim=args.latent_dim)
    batches = Batches(x_train, batch_size=args.batch_size, seed=args.seed)
    steps = args.epochs * batches.batches_per_epoch()
    warmup_steps = args.warmup_epochs * batches.batches_per_epoch()
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    # Cosine decay to 1% of the initial rate: the long run ends with small, careful steps.
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, cosine_decay(steps))
    k = 0

    def step(x: torch.Tensor) -> dict[str, torch.Tensor]:
        nonlocal k
        beta = kl_warmup(k, warmup_steps)  # KL annealing: 0 -> 1 over the warm-up, then the ELBO
        out = model.loss(binarize(x), beta=beta)  # dynamic binarisation: a fresh binary image every epoch
        optimizer.zero_grad()
        out["loss"].backward()
        optimizer.step()
        schedule.step()
        k += 1
        return {**out, "beta": torch.tensor(beta)}

    run_config = {**model.config, "steps": steps, "warmup_steps": warmup_steps, "batch_size": args.batch_size,
                  "lr": args.lr, "seed": args.seed}
    resumed = args.run_checkpoint.exists()
    if resumed:  # the step counter of the KL weight continues where the run stopped
        k = int(torch.load(args.run_checkpoint, map_location="cpu", weights_only=True)["step"])
    clock = RunClock()
    parts = {"model": model, "optimizer": optimizer, "schedule": schedule, "clock": clock}
    history = train(step, batches, steps, parts=parts,
                    checkpoint=args.run_checkpoint, checkpoint_every=6_000, config=run_config,
                    log_every=batches.batches_per_epoch(), progress=False)
    train_seconds = clock.seconds()
    print(f"trained {steps} steps in {train_seconds:.0f} s; last train ELBO {history['elbo'][-1]:.2f}", flush=True)

    torch.set_num_threads(args.eval_threads)
    start = time.time()
    with torch.no_grad():
        model.eval()
        x_bin = binarize(x_test, generator=torch.Generator().manual_seed(TEST_BINARIZATION_SEED))
        test_elbo = float(sum(float(model.loss(b)["elbo"]) * len(b) for b in x_bin.split(1000)) / len(x_bin))
    nll = estimate_nll(model, x_test, k=args.eval_k, n=args.eval_n, seed=TEST_BINARIZATION_SEED)
    eval_seconds = time.time() - start
    # A cheap re-estimate that a test repeats exactly: fewer images, fewer samples. Its tolerance
    # against the full figure is 4 standard errors of a mean over SUBSET_N images plus 2 nats for
    # the looser bound of a smaller k (the IWAE bound rises with k, so the subset figure tends to be higher).
    subset_nll = estimate_nll(model, x_test, k=SUBSET_K, n=SUBSET_N, seed=TEST_BINARIZATION_SEED, per_image=True)
    subset = {"n": SUBSET_N, "k": SUBSET_K, "nll_nats": float(subset_nll.mean()),
              "tolerance_nats": round(4 * float(subset_nll.std()) / SUBSET_N**0.5 + 2.0, 2)}
    print(f"test NLL {nll:.2f} nats (k={args.eval_k}, n={args.eval_n}), test ELBO {test_elbo:.2f}, "
          f"{eval_seconds:.0f} s; subset {subset}", flush=True)

    epochs = [s / batches.batches_per_epoch() for s in history["step"]]
    metrics = {
        "test_nll_nats": nll,
        "test_nll_k": args.eval_k,
        "test_nll_n": args.eval_n,
        "test_nll_seconds": round(eval_seconds, 1),
        "test_nll_subset": subset,
        "test_elbo_nats": test_elbo,
        "test_binarization_seed": TEST_BINARIZATION_SEED,
        "final_train_elbo_nats": history["elbo"][-1],
        "curve": {"epoch": [round(e, 3) for e in epochs], "train_elbo": [round(v, 3) for v in history["elbo"]],
                  "train_kl": [round(v, 3) for v in history["kl"]]},
    }
    budget = {
        "steps": steps,
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "optimizer": f"Adam(lr={args.lr}), cosine decay to 1%",
        "kl_warmup_epochs": args.warmup_epochs,
        "wall_clock_seconds": round(train_seconds, 1),
        "resumed": resumed,
        "machine": machine_description(args.threads, " shared with other jobs"),
        "profile": "cpu",
        "data": "MNIST train (60,000), dynamically binarised",
    }
    path = save_pretrained(NAME, model, config=model.config, budget=budget, metrics=metrics,
                           directory=args.directory, overwrite=args.overwrite)
    args.run_checkpoint.unlink(missing_ok=True)
    print(f"saved {path} ({path.stat().st_size / 1e6:.2f} MB); test NLL {nll:.2f} nats", flush=True)


if __name__ == "__main__":
    main()
