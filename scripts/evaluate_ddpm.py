"""Chapter 8's targets for the shipped DDPM, printed beside what its sidecar records.

    python scripts/evaluate_ddpm.py
    GENCOURSE_DATA=<folder with MNIST/raw> python scripts/evaluate_ddpm.py --sweep 50 100 --eta 0 0.5 1

Prints the DDPM's classifier FID and Inception Score (10,000 DDIM samples, from its sidecar)
against every other model of chapter 9's table, and the sidecar's side-by-side timing of DDIM
against 1,000-step ancestral sampling on 1,000 images, each with its target: the best FID of
the table, an Inception Score of at least 9, DDIM in at most a tenth of the ancestral time at a
FID within 20% of the ancestral one. The figures come from ``scripts/train_ch08_ddpm.py``,
which measured them when it shipped the checkpoint.

``--sweep STEPS ...`` scores DDIM with those numbers of steps (and ``--eta`` values) on the same
1,000 images' worth of seeds, timing each, beside the recorded ancestral figures: which fast
sampler comes closest to the ancestral FID for this model.
"""

from __future__ import annotations

import argparse
import time

import torch

from gencourse.diffusion.evaluation import DDIM_ETA
from gencourse.metrics.comparison import fid_by_checkpoint
from gencourse.pretrained import read_sidecar

NAME = "ch08_ddpm"


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sweep", type=int, nargs="*", default=[], help="DDIM step counts to score")
    parser.add_argument("--eta", type=float, nargs="+", default=[DDIM_ETA],
                        help="DDIM noise levels for --sweep (default: the shipped sampler's)")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    metrics = read_sidecar(NAME)["metrics"]
    fid, score = metrics["fid_10000"], metrics["inception_score_10000"]
    others = {name: value for name, value in fid_by_checkpoint().items() if name != NAME}  # every other model
    best_name = min(others, key=others.get)
    print(f"{NAME}: {metrics['sampler']}; 10,000 samples, seed {metrics['eval_seed']}")
    print(f"  FID {fid:.2f}; best other model {best_name} {others[best_name]:.2f}: "
          f"target 'best FID of the table' {verdict(fid < others[best_name])}")
    print(f"  Inception Score {score:.2f}: target >= 9.0 {verdict(score >= 9.0)}")
    c = metrics["sampler_comparison"]
    print(f"  {c['n']} images on {c['threads']} thread(s): DDIM-{c['ddim_steps']} "
          f"(eta = {c.get('ddim_eta', 0):g}) {c['ddim_seconds']:.1f} s, "
          f"ancestral ({c['ancestral_steps']} steps) {c['ancestral_seconds']:.1f} s; ratio {c['time_ratio']:.3f}: "
          f"target <= 0.1 {verdict(c['time_ratio'] <= 0.1)}")
    print(f"  FID of those images: DDIM {c['ddim_fid']:.2f}, ancestral {c['ancestral_fid']:.2f}; ratio "
          f"{c['fid_ratio']:.3f}: target <= 1.2 {verdict(c['fid_ratio'] <= 1.2)}")
    if "ddim_deterministic_fid" in c:
        print(f"  (DDIM with eta = {c['ddim_eta']:g} above; the deterministic DDIM, eta = 0, in the same run: "
              f"FID {c['ddim_deterministic_fid']:.2f}, IS {c['ddim_deterministic_inception_score']:.2f}, "
              f"{c['ddim_deterministic_seconds']:.1f} s)")
    if not args.sweep:
        return

    from gencourse.data import load_mnist
    from gencourse.diffusion import load_pretrained_ddpm
    from gencourse.diffusion.evaluation import sample_images
    from gencourse.metrics import draw_samples, load_classifier, sample_quality

    torch.set_num_threads(args.threads)
    model, classifier = load_pretrained_ddpm(), load_classifier()
    x_test, _ = load_mnist("test")
    print(f"\nDDIM on {c['n']} images (seed {metrics['eval_seed']}), {args.threads} thread(s); "
          f"recorded ancestral: FID {c['ancestral_fid']:.2f} in {c['ancestral_seconds']:.0f} s")
    for steps in args.sweep:
        for eta in args.eta:
            start = time.perf_counter()
            x = draw_samples(lambda n, s=steps, e=eta: sample_images(model, n, s, e), c["n"], metrics["eval_seed"], 500)
            seconds = time.perf_counter() - start
            q = sample_quality(x.float(), x_test, classifier)
            print(f"  steps {steps:>4} eta {eta:.2f}: FID {q['fid']:.2f} (ratio {q['fid'] / c['ancestral_fid']:.3f}), "
                  f"IS {q['inception_score']:.2f}, {seconds:.1f} s (time ratio {seconds / c['ancestral_seconds']:.3f})",
                  flush=True)


if __name__ == "__main__":
    main()
