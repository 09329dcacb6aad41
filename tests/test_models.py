"""The checks every trainable model of the course passes (STYLE.md), parametrised over all of them.

A chapter that adds a model adds one :class:`Case` to :data:`CASES`: how to build a small
instance and a batch of data for it. Each model must then give a finite scalar ``loss`` and
detached diagnostics, send a gradient to every parameter, draw samples of the data's shape on
its own device (if it is a generative model), round-trip through its ``state_dict`` and
rebuild from its ``config``, and lower its loss in a tiny training run.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import pytest
import torch
from torch import nn

from gencourse.aae import AAE, AVB, aae_step
from gencourse.data import Batches
from gencourse.diffusion import DDPM, MLPDenoiser, UNet
from gencourse.flows import CouplingFlow, ImageFlow
from gencourse.gan import GAN, adversarial_step
from gencourse.lvm import Autoencoder
from gencourse.train import train
from gencourse.vae import VAE
from gencourse.wgan import WGAN, exact_w1


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


def signed_images(n: int, seed: int = 0) -> torch.Tensor:
    """:func:`binary_images` in [-1, 1], the scale a diffusion model takes."""
    return 2 * binary_images(n, seed) - 1


def skewed_points(n: int, seed: int = 0) -> torch.Tensor:
    """2-D points from a skewed, correlated distribution: something for a flow to learn."""
    e = torch.randn(n, 2, generator=torch.Generator().manual_seed(seed))
    return torch.stack([e[:, 0], 0.5 * e[:, 1] + e[:, 0] ** 2], 1)


def off_identity(flow: nn.Module) -> nn.Module:
    """A flow moved away from its start: couplings start as the identity (their conditioners' last layer
    is zero), where by design no gradient reaches the layers before it; perturb every parameter a little."""
    with torch.no_grad():
        for p in flow.parameters():
            p.add_(0.05 * torch.randn_like(p))
    return flow


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
    "coupling_flow": Case(build=seeded(lambda: off_identity(CouplingFlow(dim=2, n_layers=4, hidden=(16,),
                                                                         actnorm=True))), batch=skewed_points),
    "image_flow": Case(build=seeded(lambda: off_identity(ImageFlow(image_shape=(1, 8, 8), levels=(1, 2, 2),
                                                                   hidden=(4, 4, 4), n_blocks=1))),
                       batch=binary_images),
    "ddpm_mlp": Case(build=seeded(lambda: DDPM(MLPDenoiser(dim=2, hidden=(32, 32), time_dim=8), T=50)),
                     batch=skewed_points),
    "ddpm_unet": Case(build=seeded(lambda: DDPM(UNet(image_shape=(1, 8, 8), channels=(8, 16), time_dim=16, groups=4,
                                                     attention=True), T=50, variance="beta_tilde")),
                      batch=signed_images),
}
NAMES = sorted(CASES)


def check_loss_dict(out: dict[str, torch.Tensor]) -> None:
    """``out["loss"]`` is a finite scalar with a graph; every other entry is a detached diagnostic."""
    assert out["loss"].dim() == 0 and torch.isfinite(out["loss"]) and out["loss"].requires_grad
    for key, value in out.items():
        if key != "loss":
            assert not torch.as_tensor(value).requires_grad, f"diagnostic {key!r} must be detached"


@pytest.mark.parametrize("name", NAMES)
def test_loss_is_a_finite_scalar_with_detached_diagnostics(name):
    case = CASES[name]
    check_loss_dict(case.build().loss(*inputs(case, 16)))


@pytest.mark.parametrize("name", NAMES)
def test_every_parameter_gets_a_gradient(name):
    case = CASES[name]
    model = case.build()
    model.loss(*inputs(case, 16))["loss"].backward()
    for parameter_name, p in model.named_parameters():
        assert p.grad is not None, f"{parameter_name} gets no gradient"
        assert torch.isfinite(p.grad).all() and p.grad.abs().sum() > 0, parameter_name


@pytest.mark.parametrize("name", NAMES)
def test_samples_have_the_data_shape_on_the_model_device(name, one_thread):  # a diffusion model takes T small steps
    case = CASES[name]
    model = case.build()
    if not case.samples:
        with pytest.raises(NotImplementedError):
            model.sample(3)
        return
    x = model.sample(5)
    assert x.shape == (5, *case.batch(1).shape[1:])
    assert x.device == next(model.parameters()).device and torch.isfinite(x).all()


def rebuild(model: nn.Module, tmp_path) -> nn.Module:
    """A new instance built from ``model.config``, with the ``state_dict`` saved to a file and loaded back."""
    torch.save(model.state_dict(), tmp_path / "model.pt")
    rebuilt = type(model)(**model.config)
    rebuilt.load_state_dict(torch.load(tmp_path / "model.pt", weights_only=True))
    return rebuilt


@pytest.mark.parametrize("name", NAMES)
def test_state_dict_round_trip_and_rebuild_from_config(name, tmp_path):
    case = CASES[name]
    model = case.build()
    rebuilt = rebuild(model, tmp_path)
    args = inputs(case, 8)
    torch.manual_seed(1)  # stochastic losses (a VAE's sample of z) draw the same noise for both
    expected = model.loss(*args)["loss"]
    torch.manual_seed(1)
    torch.testing.assert_close(rebuilt.loss(*args)["loss"], expected, atol=0, rtol=0)


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_a_tiny_training_run_lowers_the_loss(name, one_thread):
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


# Adversarial models (chapters 4 and 5) have no single loss: a discriminator (or critic) loss and a
# generator loss, each a dict. Their checks mirror the ones above, part by part.


@dataclass(frozen=True)
class AdversarialCase:
    build: Callable[[], nn.Module]  # a small instance, seeded
    batch: Callable[[int], torch.Tensor]  # n examples of data the model accepts
    n_classes: int = 0  # conditional models take labels too: discriminator_loss(x, y), sample(n, y)
    n_critic: int = 1
    lr: float = 1e-3
    steps: int = 300  # of the tiny training run


def shifted_points(n: int, seed: int = 0) -> torch.Tensor:
    """2-D points from N((2, 2), 0.5^2 I): far from where an untrained generator puts its mass."""
    return 2 + 0.5 * torch.randn(n, 2, generator=torch.Generator().manual_seed(seed))


def template_images(n: int, seed: int = 0) -> torch.Tensor:
    """28x28 images in [-1, 1] (the tanh generators' scale), each one of four fixed binary templates.

    Structured data, so that the distance of the samples to the data measures learning: for
    images of independent random pixels the nearest distribution in W1 is a constant grey image.
    """
    templates = 2 * torch.rand(4, 1, 28, 28, generator=torch.Generator().manual_seed(seed)).round() - 1
    return templates[torch.arange(n) % 4]


ADVERSARIAL: dict[str, AdversarialCase] = {
    "gan_mlp": AdversarialCase(build=seeded(lambda: GAN(latent_dim=2, hidden=(32, 32))), batch=shifted_points),
    "gan_mlp_minimax": AdversarialCase(
        build=seeded(lambda: GAN(latent_dim=2, hidden=(32, 32), generator_objective="minimax")), batch=shifted_points),
    "gan_dcgan": AdversarialCase(build=seeded(lambda: GAN(architecture="dcgan", latent_dim=8, width=8)),
                                 batch=template_images, steps=100),
    "gan_dcgan_conditional": AdversarialCase(
        build=seeded(lambda: GAN(architecture="dcgan", latent_dim=8, width=8, n_classes=4)), batch=template_images,
        n_classes=4, steps=200),  # label k asks for template k
    "wgan_clip_mlp": AdversarialCase(build=seeded(lambda: WGAN(latent_dim=2, hidden=(32, 32), lipschitz="clip",
                                                               clip=0.1)), batch=shifted_points, n_critic=5),
    "wgan_gp_mlp": AdversarialCase(build=seeded(lambda: WGAN(latent_dim=2, hidden=(32, 32))), batch=shifted_points,
                                   n_critic=5),
    "wgan_gp_dcgan": AdversarialCase(build=seeded(lambda: WGAN(architecture="dcgan", latent_dim=8, width=8)),
                                     batch=template_images, n_critic=2, steps=100),
    "gan_dcgan_codes": AdversarialCase(
        build=seeded(lambda: GAN(architecture="dcgan", latent_dim=8, width=8, n_codes=4)), batch=template_images,
        steps=100),
}
ADVERSARIAL_NAMES = sorted(ADVERSARIAL)


def adversarial_inputs(case: AdversarialCase, n: int) -> tuple[torch.Tensor, ...]:
    x = case.batch(n)
    return (x,) if not case.n_classes else (x, torch.arange(n) % case.n_classes)


@pytest.mark.parametrize("name", ADVERSARIAL_NAMES)
def test_both_losses_are_finite_scalars_with_detached_diagnostics(name):
    case = ADVERSARIAL[name]
    model = case.build()
    check_loss_dict(model.discriminator_loss(*adversarial_inputs(case, 16)))
    check_loss_dict(model.generator_loss(*adversarial_inputs(case, 16)))


@pytest.mark.parametrize("name", ADVERSARIAL_NAMES)
def test_each_loss_reaches_every_parameter_of_its_own_player(name):
    """The discriminator's loss trains every discriminator parameter and none of the generator's (the fakes are
    detached); the generator's loss reaches every generator parameter."""
    case = ADVERSARIAL[name]
    model = case.build()
    model.discriminator_loss(*adversarial_inputs(case, 16))["loss"].backward()
    for parameter_name, p in model.discriminator.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), parameter_name
        # A critic's output bias cancels in E f(x) - E f(G(z)): its gradient is exactly 0, rightly.
        assert p.grad.abs().sum() > 0 or (isinstance(model, WGAN) and parameter_name.endswith("bias")), parameter_name
    assert all(p.grad is None for p in model.generator.parameters()), "the discriminator's loss reaches the generator"
    model.zero_grad(set_to_none=True)
    model.generator_loss(*adversarial_inputs(case, 16))["loss"].backward()
    for parameter_name, p in model.generator.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all() and p.grad.abs().sum() > 0, parameter_name


@pytest.mark.parametrize("name", ADVERSARIAL_NAMES)
def test_adversarial_samples_have_the_data_shape_on_the_model_device(name):
    case = ADVERSARIAL[name]
    model = case.build()
    x = model.sample(5)
    assert x.shape == (5, *case.batch(1).shape[1:])
    assert x.device == next(model.parameters()).device and torch.isfinite(x).all()
    assert model.training, "sample() must leave the model in the mode it found it in"


@pytest.mark.parametrize("name", ADVERSARIAL_NAMES)
def test_adversarial_state_dict_round_trip_and_rebuild_from_config(name, tmp_path):
    case = ADVERSARIAL[name]
    model = case.build()
    rebuilt = rebuild(model, tmp_path)
    args = adversarial_inputs(case, 8)
    for loss in ("discriminator_loss", "generator_loss"):
        torch.manual_seed(1)  # the same noise z (and interpolation weights) for both
        expected = getattr(model, loss)(*args)["loss"]
        torch.manual_seed(1)
        torch.testing.assert_close(getattr(rebuilt, loss)(*args)["loss"], expected, atol=0, rtol=0)


@pytest.mark.slow
@pytest.mark.parametrize("name", ADVERSARIAL_NAMES)
def test_a_tiny_adversarial_run_brings_the_samples_closer_to_the_data(name, one_thread):
    """An adversarial loss need not go down; what must improve is the distance of the samples to the data.

    For 2-D data, the exact W1 between 256 samples and 256 data points. For images, the distance
    between the mean sample and the mean image: in 784 dimensions, W1 between two sets of 256
    points measures little but sampling noise, while the mean is the first thing a generator learns.
    """
    case = ADVERSARIAL[name]
    model = case.build()
    x = case.batch(512)
    y = torch.arange(512) % case.n_classes if case.n_classes else None
    opt_d = torch.optim.Adam(model.discriminator.parameters(), lr=case.lr, betas=(0.5, 0.9))
    opt_g = torch.optim.Adam(model.generator.parameters(), lr=case.lr, betas=(0.5, 0.9))
    batches = Batches(*((x,) if y is None else (x, y)), batch_size=32 * case.n_critic, seed=0)

    def distance() -> float:
        torch.manual_seed(1)
        samples = model.sample(256)
        if x.dim() > 2:
            return float((samples.mean(0) - x.mean(0)).norm())
        return exact_w1(samples, x[:256])

    before = distance()
    train(adversarial_step(model, opt_d, opt_g, case.n_critic), batches, steps=case.steps, progress=False)
    after = distance()
    assert after < before, (before, after)


# Chapter 6: adversarial auto-encoders and AVB, whose players are parts of an auto-encoder. The AAE's
# discriminator plays against its encoder on codes, and a third step, the reconstruction, trains encoder
# and decoder; AVB's discriminator T(x, z) plays against encoder and decoder together. Same checks, per part.


@dataclass(frozen=True)
class EncodingCase:
    build: Callable[[], nn.Module]  # a small instance, seeded
    batch: Callable[[int], torch.Tensor]  # n examples of data the model accepts
    generator_parts: tuple[str, ...]  # the submodules that generator_loss trains
    lr: float = 1e-3
    steps: int = 300  # of the tiny training run


def template_intensities(n: int) -> torch.Tensor:
    """:func:`template_images` in [0, 1], the scale of Bernoulli decoders."""
    return (template_images(n) + 1) / 2


def small_aae(encoder: str, prior: str) -> Callable[[], nn.Module]:
    return seeded(lambda: AAE(latent_dim=2, hidden=(32,), discriminator_hidden=(32, 32), encoder=encoder,
                              prior=prior))


ENCODING: dict[str, EncodingCase] = {
    **{f"aae_{encoder}_{prior}": EncodingCase(build=small_aae(encoder, prior), batch=template_intensities,
                                               generator_parts=("encoder",))
       for encoder in ("deterministic", "gaussian") for prior in ("gaussian", "mixture", "swiss_roll")},
    "avb": EncodingCase(build=seeded(lambda: AVB(latent_dim=2, hidden=(32,), discriminator_hidden=(32, 32))),
                        batch=template_intensities, generator_parts=("encoder", "decoder")),
    "avb_gaussian": EncodingCase(build=seeded(lambda: AVB(data_shape=(2,), latent_dim=2, hidden=(32,),
                                                          discriminator_hidden=(32, 32), likelihood="gaussian",
                                                          x_std=0.5)),
                                 batch=shifted_points, generator_parts=("encoder", "decoder")),
}
ENCODING_NAMES = sorted(ENCODING)
LOSSES = ("discriminator_loss", "generator_loss", "reconstruction_loss")


def losses_of(model: nn.Module) -> list[str]:
    return [loss for loss in LOSSES if hasattr(model, loss)]


@pytest.mark.parametrize("name", ENCODING_NAMES)
def test_encoding_models_give_finite_losses_with_detached_diagnostics(name):
    case = ENCODING[name]
    model = case.build()
    for loss in losses_of(model):
        check_loss_dict(getattr(model, loss)(case.batch(16)))


def gradients(model: nn.Module, loss: str, x: torch.Tensor) -> dict[str, dict[str, torch.Tensor | None]]:
    """The gradient of every parameter, by part, after ``loss(x)["loss"].backward()``."""
    model.zero_grad(set_to_none=True)
    getattr(model, loss)(x)["loss"].backward()
    return {part: {n: p.grad for n, p in getattr(model, part).named_parameters()}
            for part in ("encoder", "decoder", "discriminator")}


@pytest.mark.parametrize("name", ENCODING_NAMES)
def test_each_encoding_loss_reaches_every_parameter_of_its_own_parts(name):
    """The discriminator's loss trains every discriminator parameter and nothing else (the codes are detached);
    the generator's loss reaches every parameter of its parts; the AAE's reconstruction loss reaches every
    encoder and decoder parameter and not the discriminator."""
    case = ENCODING[name]
    model = case.build()
    x = case.batch(16)
    own = {"discriminator_loss": ("discriminator",), "generator_loss": case.generator_parts,
           "reconstruction_loss": ("encoder", "decoder")}
    for loss in losses_of(model):
        grads = gradients(model, loss, x)
        for part in own[loss]:
            for parameter_name, grad in grads[part].items():
                assert grad is not None and torch.isfinite(grad).all() and grad.abs().sum() > 0, \
                    (loss, part, parameter_name)
        if loss != "generator_loss":  # the generator's loss passes through the discriminator, like a GAN's
            others = {"encoder", "decoder", "discriminator"} - set(own[loss])
            assert all(g is None for part in others for g in grads[part].values()), (loss, others)


@pytest.mark.parametrize("name", ENCODING_NAMES)
def test_encoding_models_sample_the_data_shape_on_their_device(name):
    case = ENCODING[name]
    model = case.build()
    x = model.sample(5)
    assert x.shape == (5, *case.batch(1).shape[1:])
    assert x.device == next(model.parameters()).device and torch.isfinite(x).all()
    assert model.training, "sample() must leave the model in the mode it found it in"


@pytest.mark.parametrize("name", ENCODING_NAMES)
def test_encoding_state_dict_round_trip_and_rebuild_from_config(name, tmp_path):
    case = ENCODING[name]
    model = case.build()
    rebuilt = rebuild(model, tmp_path)
    x = case.batch(8)
    for loss in losses_of(model):
        torch.manual_seed(1)  # the same noise (encoder, prior samples) for both
        expected = getattr(model, loss)(x)["loss"]
        torch.manual_seed(1)
        torch.testing.assert_close(getattr(rebuilt, loss)(x)["loss"], expected, atol=0, rtol=0)


@pytest.mark.slow
@pytest.mark.parametrize("name", ENCODING_NAMES)
def test_a_tiny_encoding_run_lowers_the_reconstruction_error(name, one_thread):
    """The AAE's reconstruction loss and AVB's -log p(x|z) fall over a short run of their alternating steps.

    (Whether the codes match the prior is not asked here: the codes of four template images are four
    points, or four small clouds, which no continuous prior matches.)
    """
    case = ENCODING[name]
    model = case.build()
    x = case.batch(512)
    if isinstance(model, AAE):
        opt_ae = torch.optim.Adam([*model.encoder.parameters(), *model.decoder.parameters()], lr=case.lr)
        opt_d = torch.optim.Adam(model.discriminator.parameters(), lr=case.lr, betas=(0.5, 0.9))
        opt_g = torch.optim.Adam(model.encoder.parameters(), lr=case.lr, betas=(0.5, 0.9))
        step = aae_step(model, opt_ae, opt_d, opt_g)
    else:
        opt_d = torch.optim.Adam(model.discriminator.parameters(), lr=case.lr, betas=(0.5, 0.9))
        opt_g = torch.optim.Adam([*model.encoder.parameters(), *model.decoder.parameters()], lr=case.lr,
                                 betas=(0.5, 0.9))
        step = adversarial_step(model, opt_d, opt_g)

    def reconstruction() -> float:
        torch.manual_seed(1)
        with torch.no_grad():
            if isinstance(model, AAE):
                return float(model.reconstruction_loss(x)["loss"])
            return float(model.generator_loss(x)["recon"])

    before = reconstruction()
    history = train(step, Batches(x, batch_size=32, seed=0), steps=case.steps, progress=False)
    after = reconstruction()
    assert after < before, (before, after)
    assert all(math.isfinite(v) for v in history["loss"])
