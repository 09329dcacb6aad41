"""Train chapter 8's pretrained DDPM on MNIST (a small U-Net, T = 1000), resumably.

    GENCOURSE_DATA=<folder with MNIST/raw> python scripts/train_ch08_ddpm.py --steps 60000

Trains ``eps_theta`` with the simple noise-prediction loss on images scaled to [-1, 1], keeps an
exponential moving average of the denoiser's weights (the model that samples), and checkpoints
itself every 1,000 steps to ``--run-checkpoint``. Starting the script again with the same
settings resumes from there, so the budget can be spent over several sittings. The learning
rate is constant after its warm-up (the moving average does the annealing), so a run can also
be extended by starting it again with a larger ``--steps``.
"""

from __future__ import annotations

import argparse
import copy

import torch

from gencourse import seed_everything
from gencourse.data import Batches, load_mnist
from gencourse.diffusion import DDPM, UNet
from gencourse.pretrained import RunClock, add_run_arguments
from gencourse.train import train

NAME = "ch08_ddpm"


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
    parser.add_argument("--ema", type=float, default=0.9995, help="decay of the moving average of the weights")
    parser.add_argument("--max-grad-norm", type=float, default=1.0)
    add_run_arguments(parser, NAME)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    seed_everything(args.seed)
    x_train, _ = load_mnist("train")
    model = build(args)
    ema = copy.deepcopy(model).requires_grad_(False)
    batches = Batches(x_train, batch_size=args.batch_size, seed=args.seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    # warm-up, then constant: the moving average does the annealing
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda k: min(1.0, (k + 1) / args.warmup))

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
    clock = RunClock()
    parts = {"model": model, "ema": ema, "optimizer": optimizer, "schedule": schedule, "clock": clock}
    history = train(step, batches, args.steps, parts=parts, checkpoint=args.run_checkpoint, checkpoint_every=1_000,
                    config=run_config, log_every=100, progress=False)
    print(f"trained {args.steps} steps in {clock.seconds():.0f} s; last loss {history['loss'][-1]:.4f}", flush=True)


if __name__ == "__main__":
    main()
