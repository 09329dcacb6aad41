"""Train chapter 1's pretrained auto-encoder (2-D codes, binarised MNIST) and ship it with the package.

    GENCOURSE_DATA=<folder with MNIST/raw> python scripts/train_ch01_autoencoder.py --overwrite

writes ``gencourse/checkpoints/ch01_autoencoder.pt`` and its sidecar ``.json`` (configuration,
budget, test metrics). The run checkpoints itself every 5,000 steps to ``--run-checkpoint``;
starting the script again with the same settings resumes from there. The run checkpoint is
removed once the pretrained files are written, so the next run starts afresh.

The notebook ``notebooks/01_latent_variable_models.ipynb`` trains the same model for a few
hundred steps; this script gives it a budget no notebook has (about 6 minutes on one CPU
thread) and the notebook loads the result.
"""

from __future__ import annotations

import argparse

import torch

from gencourse import seed_everything
from gencourse.data import Batches, binarize, load_mnist
from gencourse.lvm import Autoencoder, reconstruction_nats
from gencourse.pretrained import RunClock, add_run_arguments, machine_description, save_pretrained
from gencourse.train import cosine_decay, train

NAME = "ch01_autoencoder"
TEST_BINARIZATION_SEED = 0  # the notebook binarises the test set with the same seed to check the metric


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=50_000)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=1e-3)
    add_run_arguments(parser, NAME)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    seed_everything(args.seed)
    x_train, _ = load_mnist("train")
    x_test, _ = load_mnist("test")

    model = Autoencoder()  # the defaults: 784-256-128-2-128-256-784
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    # Cosine decay to 1% of the initial rate: the long run ends with small, careful steps.
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, cosine_decay(args.steps))
    batches = Batches(x_train, batch_size=args.batch_size, seed=args.seed)

    def step(x: torch.Tensor) -> dict[str, torch.Tensor]:
        out = model.loss(binarize(x))  # dynamic binarisation: a fresh binary image every epoch
        optimizer.zero_grad()
        out["loss"].backward()
        optimizer.step()
        schedule.step()
        return {key: value.detach() for key, value in out.items()}

    run_config = {**model.config, "steps": args.steps, "batch_size": args.batch_size, "lr": args.lr,
                  "seed": args.seed}
    resumed = args.run_checkpoint.exists()
    clock = RunClock()
    parts = {"model": model, "optimizer": optimizer, "schedule": schedule, "clock": clock}
    history = train(step, batches, args.steps, parts=parts,
                    checkpoint=args.run_checkpoint, checkpoint_every=5_000, config=run_config, log_every=100)
    seconds = clock.seconds()

    metrics = {
        "test_recon_nats": reconstruction_nats(model, x_test, seed=TEST_BINARIZATION_SEED),
        "test_binarization_seed": TEST_BINARIZATION_SEED,
        "final_train_recon_nats": sum(history["recon"][-10:]) / len(history["recon"][-10:]),
    }
    budget = {
        "steps": args.steps,
        "epochs": round(args.steps * args.batch_size / len(x_train), 2),
        "batch_size": args.batch_size,
        "optimizer": f"Adam(lr={args.lr}), cosine decay to 1%",
        "wall_clock_seconds": round(seconds, 1),
        "resumed": resumed,
        "machine": machine_description(args.threads),
        "profile": "cpu",
        "data": "MNIST train (60,000), dynamically binarised",
    }
    path = save_pretrained(NAME, model, config=model.config, budget=budget, metrics=metrics,
                           directory=args.directory, overwrite=args.overwrite)
    args.run_checkpoint.unlink(missing_ok=True)
    print(f"saved {path} ({path.stat().st_size / 1e6:.2f} MB) in {seconds:.0f} s; metrics {metrics}")


if __name__ == "__main__":
    main()
