"""Train the course's evaluation classifier for MNIST and ship it with the package.

    GENCOURSE_DATA=<folder with MNIST/raw> python scripts/train_mnist_classifier.py --overwrite

writes ``gencourse/checkpoints/mnist_classifier.pt`` and its sidecar (configuration, budget,
test accuracy, and the real-data floors of the sample-quality metrics). Every chapter's
sample-quality figures (classifier Inception Score and classifier FID) are computed in the
feature space of this network; see :mod:`gencourse.metrics`.

The images are augmented with random shifts of up to two pixels, so the classifier also
judges digits that a generator draws slightly off-centre.
"""

from __future__ import annotations

import argparse

import torch

from gencourse import seed_everything
from gencourse.data import Batches, load_mnist
from gencourse.metrics import MNISTClassifier, accuracy, real_data_floors
from gencourse.pretrained import RunClock, add_run_arguments, machine_description, save_pretrained
from gencourse.train import cosine_decay, train

NAME = "mnist_classifier"


def random_shift(x: torch.Tensor, max_shift: int = 2) -> torch.Tensor:
    """Shift each image by a random whole number of pixels in ``[-max_shift, max_shift]`` per axis (zero fill)."""
    padded = torch.nn.functional.pad(x, (max_shift,) * 4)
    dx, dy = torch.randint(0, 2 * max_shift + 1, (2,)).tolist()  # one shift per batch: cheap and enough
    return padded[:, :, dy:dy + x.shape[2], dx:dx + x.shape[3]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=4000)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=2e-3)
    add_run_arguments(parser, NAME)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    seed_everything(args.seed)
    x_train, y_train = load_mnist("train")
    x_test, y_test = load_mnist("test")

    model = MNISTClassifier()
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, cosine_decay(args.steps, floor=0.02))
    batches = Batches(x_train, y_train, batch_size=args.batch_size, seed=args.seed)

    def step(batch: tuple[torch.Tensor, torch.Tensor]) -> dict[str, torch.Tensor]:
        x, y = batch
        out = model.loss(random_shift(x), y)
        optimizer.zero_grad()
        out["loss"].backward()
        optimizer.step()
        schedule.step()
        return out

    run_config = {**model.config, "steps": args.steps, "batch_size": args.batch_size, "lr": args.lr,
                  "seed": args.seed}
    resumed = args.run_checkpoint.exists()
    clock = RunClock()
    parts = {"model": model, "optimizer": optimizer, "schedule": schedule, "clock": clock}
    train(step, batches, args.steps, parts=parts,
          checkpoint=args.run_checkpoint, checkpoint_every=1000, config=run_config, log_every=50)
    seconds = clock.seconds()
    model.eval()
    test_accuracy = accuracy(model, x_test, y_test)
    print(f"test accuracy {test_accuracy:.4f} after {seconds:.0f} s")
    if test_accuracy < 0.99:
        raise SystemExit("the classifier is below 99% test accuracy; train longer before shipping it")
    metrics = {"test_accuracy": test_accuracy, **real_data_floors(model, x_train, x_test)}
    budget = {
        "steps": args.steps,
        "epochs": round(args.steps * args.batch_size / len(x_train), 2),
        "batch_size": args.batch_size,
        "optimizer": f"Adam(lr={args.lr}), cosine decay to 2%",
        "augmentation": "random shifts of up to 2 pixels",
        "wall_clock_seconds": round(seconds, 1),
        "resumed": resumed,
        "machine": machine_description(args.threads),
        "data": "MNIST train (60,000) in [0, 1]",
    }
    path = save_pretrained(NAME, model, config=model.config, budget=budget, metrics=metrics,
                           directory=args.directory, overwrite=args.overwrite)
    args.run_checkpoint.unlink(missing_ok=True)
    print(f"saved {path} ({path.stat().st_size / 1e6:.2f} MB); metrics {metrics}")


if __name__ == "__main__":
    main()
