"""The checks every trainable model of the course passes (STYLE.md), parametrised over all of them.

A chapter that adds a model adds one :class:`Case` to :data:`CASES`: how to build a small
instance and a batch of data for it. Each model must then give a finite scalar ``loss`` and
detached diagnostics, send a gradient to every parameter, draw samples of the data's shape on
its own device (if it is a generative model), round-trip through its ``state_dict`` and
rebuild from its ``config``, and lower its loss in a tiny training run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
import torch
from torch import nn

from gencourse.data import Batches
from gencourse.lvm import Autoencoder
from gencourse.train import train
from gencourse.vae import VAE


@dataclass(frozen=True)
class Case:
    build: Callable[[], nn.Module]  # a small instance, seeded
    batch: Callable[[int], torch.Tensor]  # n examples of data the model accepts
    samples: bool = True  # False for models with no sampler (say why in the model's docstring)
    lr: float = 3e-3
    n_classes: int = 0  # conditional models take labels too: loss(x, y), sample(n)


def inputs(case: Case, n: int) -> tuple[torch.Tensor, ...]:
    """The arguments of ``loss``: ``(x,)``, or ``(x, y)`` for a conditional model."""
    x = case.batch(n)
    return (x,) if not case.n_classes else (x, torch.arange(n) % case.n_classes)


def binary_images(n: int, seed: int = 0) -> torch.Tensor:
    return torch.rand(n, 1, 8, 8, generator=torch.Generator().manual_seed(seed)).round()


def seeded(build: Callable[[], nn.Module]) -> Callable[[], nn.Module]:
    def make() -> nn.Module:
        torch.manual_seed(0)
        return build()

    return make


CASES: dict[str, Case] = {
    "autoencoder": Case(
        build=seeded(lambda: Autoencoder(image_shape=(1, 8, 8), hidden=(32, 16), code_dim=2)),
        batch=binary_images,
        samples=False,  # no prior over codes: chapter 1 explains, chapter 3's VAE adds one
    ),
    "vae_mlp": Case(build=seeded(lambda: VAE(image_shape=(1, 8, 8), latent_dim=2, hidden=(32,))), batch=binary_images),
    "vae_conv": Case(build=seeded(lambda: VAE(image_shape=(1, 8, 8), latent_dim=2, architecture="conv",
                                              channels=(4, 8))), batch=binary_images),
    "vae_gaussian": Case(build=seeded(lambda: VAE(image_shape=(1, 8, 8), latent_dim=2, hidden=(32,),
                                                  likelihood="gaussian")), batch=binary_images),
    "vae_conditional": Case(build=seeded(lambda: VAE(image_shape=(1, 8, 8), latent_dim=2, hidden=(32,), n_classes=3)),
                            batch=binary_images, n_classes=3),
    "vae_conv_conditional": Case(build=seeded(lambda: VAE(image_shape=(1, 8, 8), latent_dim=2, architecture="conv",
                                                          channels=(4, 8), n_classes=3)),
                                 batch=binary_images, n_classes=3),
    "iwae": Case(build=seeded(lambda: VAE(image_shape=(1, 8, 8), latent_dim=2, hidden=(32,), k=5)),
                 batch=binary_images),
}
NAMES = sorted(CASES)


@pytest.mark.parametrize("name", NAMES)
def test_loss_is_a_finite_scalar_with_detached_diagnostics(name):
    case = CASES[name]
    out = case.build().loss(*inputs(case, 16))
    assert out["loss"].dim() == 0 and torch.isfinite(out["loss"]) and out["loss"].requires_grad
    for key, value in out.items():
        if key != "loss":
            assert not torch.as_tensor(value).requires_grad, f"diagnostic {key!r} must be detached"


@pytest.mark.parametrize("name", NAMES)
def test_every_parameter_gets_a_gradient(name):
    case = CASES[name]
    model = case.build()
    model.loss(*inputs(case, 16))["loss"].backward()
    for parameter_name, p in model.named_parameters():
        assert p.grad is not None, f"{parameter_name} gets no gradient"
        assert torch.isfinite(p.grad).all() and p.grad.abs().sum() > 0, parameter_name


@pytest.mark.parametrize("name", NAMES)
def test_samples_have_the_data_shape_on_the_model_device(name):
    case = CASES[name]
    model = case.build()
    if not case.samples:
        with pytest.raises(NotImplementedError):
            model.sample(3)
        return
    x = model.sample(5)
    assert x.shape == (5, *case.batch(1).shape[1:])
    assert x.device == next(model.parameters()).device and torch.isfinite(x).all()


@pytest.mark.parametrize("name", NAMES)
def test_state_dict_round_trip_and_rebuild_from_config(name, tmp_path):
    case = CASES[name]
    model = case.build()
    torch.save(model.state_dict(), tmp_path / "model.pt")
    rebuilt = type(model)(**model.config)
    rebuilt.load_state_dict(torch.load(tmp_path / "model.pt", weights_only=True))
    args = inputs(case, 8)
    torch.manual_seed(1)  # stochastic losses (a VAE's sample of z) draw the same noise for both
    expected = model.loss(*args)["loss"]
    torch.manual_seed(1)
    torch.testing.assert_close(rebuilt.loss(*args)["loss"], expected, atol=0, rtol=0)


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_a_tiny_training_run_lowers_the_loss(name):
    case = CASES[name]
    model = case.build()
    optimizer = torch.optim.Adam(model.parameters(), lr=case.lr)
    args = inputs(case, 256)

    def step(batch: torch.Tensor | tuple[torch.Tensor, ...]) -> dict[str, torch.Tensor]:
        out = model.loss(*batch) if isinstance(batch, tuple) else model.loss(batch)
        optimizer.zero_grad()
        out["loss"].backward()
        optimizer.step()
        return out

    with torch.no_grad():
        torch.manual_seed(1)
        before = float(model.loss(*args)["loss"])
    history = train(step, Batches(*args, batch_size=32, seed=0), steps=300, progress=False)
    with torch.no_grad():
        torch.manual_seed(1)
        after = float(model.loss(*args)["loss"])
    assert after < before and sum(history["loss"][-20:]) < sum(history["loss"][:20]), (before, after)
