r"""Mode collapse made measurable on a mixture of well-separated Gaussians (the ring of chapter 1's data code).

Following the convention of Srivastava et al. (2017, VEEGAN), a sample is *high-quality* if it
lies within three standard deviations of some mode's centre, and a mode is *recovered* if it
receives at least ``min_share`` of its fair share ``1/K`` of the samples as high-quality
samples. A generator that collapses onto a few modes recovers few; one that smears mass
between the modes has a low high-quality share.
"""

from __future__ import annotations

import torch


def mode_coverage(samples: torch.Tensor, centers: torch.Tensor, std: float, min_share: float = 0.25,
                  radius: float = 3.0) -> dict[str, float]:
    """``{"modes": modes recovered, "high_quality": share of high-quality samples, "counts": per-mode counts}``.

    ``samples (n, d)``, ``centers (K, d)``; a sample counts for its nearest centre if it lies
    within ``radius * std`` of it. ``counts`` is a list (JSON-friendly).
    """
    distance = torch.cdist(samples.double(), centers.double())  # (n, K)
    nearest, index = distance.min(1)
    good = nearest <= radius * std
    counts = torch.bincount(index[good], minlength=len(centers))
    enough = counts >= min_share * len(samples) / len(centers)
    return {"modes": int(enough.sum()), "high_quality": float(good.double().mean()), "counts": counts.tolist()}
