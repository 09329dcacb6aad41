r"""The course's evaluation classifier for MNIST: a small CNN whose features measure sample quality.

Inception Score and FID were defined with an ImageNet Inception network (Salimans et al.,
2016; Heusel et al., 2017). That network knows nothing about handwritten digits, so the course
trains its own judge instead: a two-layer CNN on MNIST whose softmax gives the class
probabilities :math:`p(y \mid x)` of the Inception Score and whose penultimate layer gives
the features :math:`f(x) \in \mathbb{R}^{128}` of the Frechet distance. Numbers computed
this way are comparable within the course, never with published Inception-network figures.

The classifier expects images in [0, 1] of shape ``(B, 1, 28, 28)``, the scale of
:func:`gencourse.data.load_mnist`; a generator that outputs [-1, 1] is rescaled by the caller.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from gencourse.pretrained import load_pretrained, read_sidecar

CHECKPOINT = "mnist_classifier"


class MNISTClassifier(nn.Module):
    """``conv3x3(32) - pool - conv3x3(64) - pool - linear(feature_dim) - linear(10)``, ReLU between.

    ``features(x)`` is the ``(B, feature_dim)`` penultimate activation (after its ReLU);
    ``forward(x)`` the ``(B, 10)`` class logits. Dropout before the last layer is active only
    in training mode.
    """

    def __init__(self, channels: tuple[int, int] | list[int] = (32, 64), feature_dim: int = 128,
                 dropout: float = 0.3) -> None:
        super().__init__()
        self.channels = tuple(int(c) for c in channels)
        self.feature_dim = int(feature_dim)
        self.dropout = float(dropout)
        c1, c2 = self.channels
        self.body = nn.Sequential(
            nn.Conv2d(1, c1, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # (B, c1, 14, 14)
            nn.Conv2d(c1, c2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # (B, c2, 7, 7)
            nn.Flatten(), nn.Linear(c2 * 7 * 7, self.feature_dim), nn.ReLU(),  # (B, feature_dim)
        )
        self.head = nn.Sequential(nn.Dropout(self.dropout), nn.Linear(self.feature_dim, 10))

    @property
    def config(self) -> dict[str, object]:
        return {"channels": list(self.channels), "feature_dim": self.feature_dim, "dropout": self.dropout}

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The penultimate features ``f(x)``: ``(B, 1, 28, 28) -> (B, feature_dim)``."""
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class logits: ``(B, 1, 28, 28) -> (B, 10)``."""
        return self.head(self.features(x))

    def loss(self, x: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
        """Cross-entropy of the labels ``y`` under the logits, and the batch accuracy (detached)."""
        logits = self(x)
        loss = F.cross_entropy(logits, y)
        return {"loss": loss, "accuracy": (logits.argmax(1) == y).float().mean().detach()}


def load_classifier(device: str | torch.device = "cpu") -> MNISTClassifier:
    """The shipped evaluation classifier (checkpoint ``mnist_classifier``), in eval mode on ``device``."""
    model = MNISTClassifier(**read_sidecar(CHECKPOINT)["config"])
    load_pretrained(CHECKPOINT, model)
    return model.to(device).eval()


@torch.no_grad()
def classify(model: MNISTClassifier, x: torch.Tensor, batch_size: int = 1000) -> tuple[torch.Tensor, torch.Tensor]:
    """``(features, probabilities)`` of images ``x`` in [0, 1]: ``(N, feature_dim)``, ``(N, 10)``, float64, CPU."""
    if x.min() < -1e-3 or x.max() > 1 + 1e-3:
        raise ValueError("the classifier expects images in [0, 1]; rescale samples in [-1, 1] with (x + 1) / 2")
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    feats, probs = [], []
    for batch in x.split(batch_size):
        f = model.features(batch.to(device, torch.float32))
        feats.append(f.double().cpu())
        probs.append(F.softmax(model.head(f).double(), dim=1).cpu())
    model.train(was_training)
    return torch.cat(feats), torch.cat(probs)


@torch.no_grad()
def accuracy(model: MNISTClassifier, x: torch.Tensor, y: torch.Tensor) -> float:
    """The share of images ``x`` whose most probable class is ``y``."""
    _, probs = classify(model, x)
    return float((probs.argmax(1) == y.cpu()).double().mean())
