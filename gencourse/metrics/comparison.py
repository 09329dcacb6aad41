"""Chapter 9: every generative checkpoint of the course, on the same metrics, in one table.

:data:`MODELS` registers each shipped generative checkpoint with how to load it, one sampler
that returns images in [0, 1], the number of samples its re-evaluation draws again, and where
its likelihood figure lives, if it has one. The table (:func:`table_rows`,
:func:`format_markdown`) is read from the sidecars only; :func:`record_sample_quality` and
:func:`time_sampling` measure what a sidecar still lacks, :func:`reevaluate` checks a sidecar.

Two likelihood units, never mixed: nats per image on *binarised* MNIST (the Bernoulli VAE) and
bits per dimension on *dequantised* 8-bit MNIST (the flow and the DDPM's bound). They score
different data, so neither converts into the other. ``scripts/compare_models.py`` writes the
table into the book.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from gencourse.metrics.classifier import MNISTClassifier
from gencourse.metrics.sample_quality import draw_samples, floors, reference_statistics, score_sampler
from gencourse.pretrained import available, machine_description, read_sidecar

EVAL_SEED = 0
QUALITY_SAMPLES = 10_000
TIME_IMAGES = 1000
TIME_KEY = "sampling_time"  # the same key in every sidecar: {"images", "seconds", "threads", "machine", ...}
NATS, BITS = "nats, binarised", "bits/dim, dequantised"


def _gan(name: str) -> nn.Module:
    from gencourse.gan import load_pretrained_gan

    return load_pretrained_gan(name)


def _from_tanh(model: nn.Module, n: int) -> torch.Tensor:
    return (model.sample(n) + 1) / 2  # the GANs' generators end in tanh: [-1, 1] -> [0, 1]


def _vae(name: str) -> nn.Module:
    from gencourse.pretrained import build_pretrained
    from gencourse.vae import VAE

    return build_pretrained(name, VAE)


def _aae(name: str) -> nn.Module:
    from gencourse.aae import load_pretrained_aae

    return load_pretrained_aae(name)


def _flow(name: str) -> nn.Module:
    from gencourse.flows import ImageFlow
    from gencourse.pretrained import build_pretrained

    return build_pretrained(name, ImageFlow)


def _ddpm(name: str) -> nn.Module:
    from gencourse.diffusion import load_pretrained_ddpm

    return load_pretrained_ddpm(name)


def _ddpm_images(model: nn.Module, n: int) -> torch.Tensor:
    from gencourse.diffusion.evaluation import sample_images  # the sampler that scored the sidecar

    return sample_images(model, n)


@dataclass(frozen=True)
class Generative:
    """One generative checkpoint: ``load(name)`` gives the model, ``sample(model, n)`` ``n`` images in [0, 1].

    ``samples`` says in words what a sample is (the sidecar records it as ``"sampler"``).
    ``subset`` is how many samples a re-evaluation draws again (its sidecar records
    ``fid_<subset>`` and ``inception_score_<subset>`` for the seed ``eval_seed``). ``nll`` is
    ``(unit, metrics key)`` with ``unit`` :data:`NATS` or :data:`BITS`, or None where the model
    has no likelihood; ``bound`` says the figure is an upper bound on the NLL, not the NLL itself.
    """

    label: str
    samples: str
    load: Callable[[str], nn.Module]
    sample: Callable[[nn.Module, int], torch.Tensor]
    subset: int = 2000
    nll: tuple[str, str] | None = None
    bound: bool = False


_GAN_SAMPLES = "G(z), z from the prior, mapped from [-1, 1] to [0, 1]"
MODELS: dict[str, Generative] = {
    "ch03_vae": Generative("VAE, Bernoulli decoder", "the decoder's Bernoulli means sigmoid(logits) of z ~ N(0, I)",
                           _vae, lambda m, n: m.sample(n), nll=(NATS, "test_nll_nats"), bound=True),
    "ch04_dcgan": Generative("DCGAN", _GAN_SAMPLES, _gan, _from_tanh),
    "ch04_dcgan_codes": Generative("DCGAN, 10-way code in z", _GAN_SAMPLES, _gan, _from_tanh),
    "ch04_conditional_dcgan": Generative("DCGAN, class-conditional", _GAN_SAMPLES + ", labels uniform", _gan,
                                         _from_tanh),
    "ch05_wgan_gp": Generative("WGAN-GP", _GAN_SAMPLES, _gan, _from_tanh),
    "ch05_wgan_gp_codes": Generative("WGAN-GP, 10-way code in z", _GAN_SAMPLES, _gan, _from_tanh),
    "ch06_aae": Generative("AAE, mixture prior", "the decoder's Bernoulli means of z from the mixture prior",
                           _aae, lambda m, n: m.sample(n)),
    "ch07_flow": Generative("coupling flow", "z ~ N(0, I) through the inverse map (temperature 1), clamped to [0, 1]",
                            _flow, lambda m, n: m.sample(n), nll=(BITS, "test_bpd")),
    "ch08_ddpm": Generative("DDPM, DDIM 50 steps", "DDIM, 50 steps, eta = 1, predicted x0 clipped to [-1, 1]",
                            _ddpm, _ddpm_images, subset=500, nll=(BITS, "test_bpd"), bound=True),
}
NOT_GENERATIVE = {"ch01_autoencoder": "a deterministic auto-encoder: no prior over its codes to sample from",
                  "mnist_classifier": "the classifier that computes the sample-quality metrics"}


def shipped() -> list[str]:
    """The registered checkpoints that are shipped, in the order of the course (a provisional sidecar is not)."""
    return [name for name in MODELS if name in available() and not read_sidecar(name)["metrics"].get("provisional")]


def sampler(name: str, model: nn.Module) -> Callable[[int], torch.Tensor]:
    """``sample(n)``: ``n`` images in [0, 1] from the loaded checkpoint ``name``, without gradients."""
    def sample(n: int) -> torch.Tensor:
        with torch.no_grad():
            return MODELS[name].sample(model, n)
    return sample


Reference = torch.Tensor | tuple[torch.Tensor, torch.Tensor]  # images, or their reference_statistics


def score_checkpoint(name: str, reference: Reference, n: int, model: nn.Module | None = None,
                     classifier: MNISTClassifier | None = None) -> dict[str, float]:
    """Classifier IS and FID (against ``reference``) of ``n`` samples of ``name`` drawn with :data:`EVAL_SEED`."""
    model = model if model is not None else MODELS[name].load(name)
    return score_sampler(sampler(name, model), reference, n=n, seed=EVAL_SEED, model=classifier)


def reevaluate(name: str, reference: Reference, model: nn.Module | None = None,
               classifier: MNISTClassifier | None = None) -> dict[str, float]:
    """Draw the sidecar's subset of samples again (same seed) and score it: ``{"n", "inception_score", "fid",
    "sidecar_inception_score", "sidecar_fid"}``. On one CPU the two pairs agree to rounding."""
    n, metrics = MODELS[name].subset, read_sidecar(name)["metrics"]
    if metrics.get("eval_seed", EVAL_SEED) != EVAL_SEED:
        raise ValueError(f"{name} was scored with eval_seed {metrics['eval_seed']}, not {EVAL_SEED}")
    again = score_checkpoint(name, reference, n, model, classifier)
    return {"n": n, **again, "sidecar_inception_score": metrics[f"inception_score_{n}"],
            "sidecar_fid": metrics[f"fid_{n}"]}


def record_sample_quality(name: str, reference: torch.Tensor,
                          classifier: MNISTClassifier | None = None) -> dict[str, object]:
    """The sample-quality figures the sidecar of ``name`` lacks, measured as every other checkpoint's were.

    Classifier IS and FID of 10,000 samples and of the re-evaluation subset, seed :data:`EVAL_SEED`,
    FID against ``reference`` (the MNIST test set), with the floors they are read beside.
    Figures already recorded are not measured again; the result is empty when nothing is missing.
    """
    entry, metrics = MODELS[name], read_sidecar(name)["metrics"]
    missing = [n for n in (QUALITY_SAMPLES, entry.subset) if f"fid_{n}" not in metrics]
    if not missing:
        return {}
    model = entry.load(name)
    new: dict[str, object] = {"eval_seed": EVAL_SEED, "reference": f"MNIST test set ({len(reference):,})",
                              "sampler": entry.samples, **floors()}
    statistics = reference_statistics(reference, classifier)
    for n in missing:
        quality = score_checkpoint(name, statistics, n, model, classifier)
        new[f"fid_{n}"], new[f"inception_score_{n}"] = quality["fid"], quality["inception_score"]
    return {key: value for key, value in new.items() if key not in metrics}


def time_sampling(names: list[str], n: int = TIME_IMAGES, repeats: int = 3, budget_seconds: float = 30.0,
                  note: str = " shared with other jobs") -> dict[str, dict[str, object]]:
    """Seconds to draw ``n`` images in one batch, for every model of ``names``, side by side on one torch thread.

    Each model is loaded and warmed up with a few samples first; then ``n`` images are drawn
    (seed :data:`EVAL_SEED`) up to ``repeats`` times, stopping once ``budget_seconds`` have passed,
    and the fastest run counts (the others are slowed by whatever else the machine does).
    Returns each model's :data:`TIME_KEY` record.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    times: dict[str, dict[str, object]] = {}
    try:
        for name in names:
            sample = sampler(name, MODELS[name].load(name))
            draw_samples(sample, 8, EVAL_SEED)  # warm-up: first calls allocate and pick kernels
            runs: list[float] = []
            while len(runs) < repeats and sum(runs) < budget_seconds:
                start = time.perf_counter()
                draw_samples(sample, n, EVAL_SEED, batch_size=n)
                runs.append(time.perf_counter() - start)
            times[name] = {"images": n, "seconds": round(min(runs), 3), "runs": len(runs), "threads": 1,
                           "machine": machine_description(1, note), "timed_with": list(names)}
    finally:
        torch.set_num_threads(threads)
    return times


# --- the table, from the sidecars only ----------------------------------------------------------------------------

PENDING = "pending"  # a figure the model has but its sidecar does not record yet (None: the model has none)


def table_rows(names: list[str] | None = None) -> list[dict[str, object]]:
    """One row per checkpoint (default: every shipped one), then the two real-data floors; nothing is recomputed.

    Keys: ``model``, ``checkpoint``, ``parameters``, ``steps``, ``wall_clock_seconds``,
    ``nll_nats`` (binarised MNIST), ``nll_bits_per_dim`` (dequantised MNIST), ``bound``,
    ``inception_score``, ``fid`` (10,000 samples), ``sample_seconds`` (1,000 samples) and
    ``note`` (the DDPM's sampler). A value is None where the model has no such figure and
    :data:`PENDING` where its sidecar does not record it yet.
    """
    rows: list[dict[str, object]] = []
    for name in shipped() if names is None else names:
        entry, record = MODELS[name], read_sidecar(name)
        metrics, budget = record["metrics"], record["budget"]
        nll: dict[str, object] = {NATS: None, BITS: None}
        if entry.nll is not None:
            nll[entry.nll[0]] = metrics.get(entry.nll[1], PENDING)
        timing = metrics.get(TIME_KEY, {})
        rows.append({"model": entry.label, "checkpoint": name, "parameters": record["parameters"],
                     "steps": budget.get("generator_steps", budget.get("steps", PENDING)),
                     "wall_clock_seconds": budget.get("wall_clock_seconds", PENDING),
                     "nll_nats": nll[NATS], "nll_bits_per_dim": nll[BITS], "bound": entry.bound,
                     "inception_score": metrics.get(f"inception_score_{QUALITY_SAMPLES}", PENDING),
                     "fid": metrics.get(f"fid_{QUALITY_SAMPLES}", PENDING),
                     "sample_seconds": timing.get("seconds", PENDING) if timing.get("images") == TIME_IMAGES
                     else PENDING, "timing": timing or None, "note": _sampler_note(name, metrics)})
    classifier = read_sidecar("mnist_classifier")["metrics"]
    floor = floors()
    for model, inception, fid in (
        ("real data: 10,000 training images", classifier["inception_score_train10k"],
         floor["fid_floor_train10k_vs_test"]),
        ("real data: the 10,000 test images", floor["inception_score_test"], 0.0),
    ):
        rows.append({"model": model, "checkpoint": None, "parameters": None, "steps": None,
                     "wall_clock_seconds": None, "nll_nats": None, "nll_bits_per_dim": None, "bound": False,
                     "inception_score": inception, "fid": fid, "sample_seconds": None, "timing": None,
                     "note": None})
    return rows


def fid_by_checkpoint() -> dict[str, float]:
    """``{checkpoint: FID of 10,000 samples}`` for every shipped model, as the table shows it (the floors have none)."""
    return {str(row["checkpoint"]): float(row["fid"]) for row in table_rows() if row["checkpoint"] is not None}


def _sampler_note(name: str, metrics: dict[str, object]) -> str | None:
    """The DDPM's sampler, and ancestral sampling's cost from the sidecar's comparison of the two."""
    if name != "ch08_ddpm":
        return None
    note = f"Sampled by {metrics.get('sampler', MODELS[name].samples)}."
    c = metrics.get("sampler_comparison")
    if isinstance(c, dict) and "ancestral_seconds" in c:
        ratio = c["ancestral_seconds"] / c["ddim_seconds"]
        seconds = metrics.get(TIME_KEY, {}).get("seconds")
        per_1000 = f"about {_g(ratio * seconds)} s per 1,000 samples on this table's footing" if seconds else \
            f"{_g(c['ancestral_seconds'] * 1000 / c['n'])} s per 1,000 samples there"
        note += (f" Ancestral sampling through all {c['ancestral_steps']:,} steps took {ratio:.0f} times as long "
                 f"as DDIM's {c['ddim_steps']} jumps in the sidecar's own comparison ({c['n']:,} images each, "
                 f"{c['threads']} torch thread(s)): {per_1000}. The FID of those {c['n']:,} images was "
                 f"{c['ancestral_fid']:.2f} (ancestral) against {c['ddim_fid']:.2f} (DDIM).")
        if "ddim_deterministic_fid" in c:
            note += (f" The deterministic DDIM (eta = 0) on the same {c['ddim_steps']} jumps scored "
                     f"{c['ddim_deterministic_fid']:.2f} in the same run.")
    return note


def _g(x: float) -> str:
    """Three significant figures, without an exponent: 0.015, 0.974, 5.49, 80.0, 1,600."""
    return f"{x:,.0f}" if x >= 100 else f"{x:.1f}" if x >= 10 else f"{x:.2f}" if x >= 1 else f"{x:.3f}"


def _cell(value: object, fmt: Callable[[float], str], bound: bool = False) -> str:
    if value is None:
        return "—"
    if value == PENDING:
        return PENDING
    return ("≤ " if bound else "") + fmt(float(value))  # type: ignore[arg-type]


def format_markdown(rows: list[dict[str, object]]) -> str:
    """:func:`table_rows` as a Markdown table with its notes (the file the chapter page includes)."""
    header = ["model (checkpoint)", "parameters", "training steps", "training time", "NLL, nats (binarised)",
              "NLL, bits/dim (dequantised)", "IS ↑", "FID ↓", "seconds per 1,000 samples"]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|"]
    notes = [row["note"] for row in rows if row["note"]]
    for row in rows:
        marker = f" [{'abcdefgh'[notes.index(row['note'])]}]" if row["note"] else ""
        cells = [f"{row['model']}{marker}" + (f" (`{row['checkpoint']}`)" if row["checkpoint"] else ""),
                 _cell(row["parameters"], lambda x: f"{x / 1e6:.2f} M"), _cell(row["steps"], lambda x: f"{x:,.0f}"),
                 _cell(row["wall_clock_seconds"], lambda x: f"{x / 60:,.0f} min"),
                 _cell(row["nll_nats"], lambda x: f"{x:.2f}", bool(row["bound"])),
                 _cell(row["nll_bits_per_dim"], lambda x: f"{x:.3f}", bool(row["bound"])),
                 _cell(row["inception_score"], lambda x: f"{x:.2f}"), _cell(row["fid"], lambda x: f"{x:.2f}"),
                 _cell(row["sample_seconds"], _g)]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "—: the model has no such figure; ≤: an upper bound on the test NLL. Parameters: the shipped "
              "weights (a GAN's generator, a VAE's or AAE's encoder and decoder). Training steps: a GAN's are its "
              "generator's (its critic takes one or two per generator step). IS and FID: the course's classifier "
              f"on {QUALITY_SAMPLES:,} samples (seed {EVAL_SEED}), FID against the 10,000 test images (so 0 for "
              "the test images themselves)."]
    timings = [row["timing"] for row in rows if row["timing"]]
    runs = {tuple(t.get("timed_with", ())) for t in timings}  # type: ignore[union-attr]
    machines = sorted({str(t.get("machine", "an unnamed machine")) for t in timings})  # type: ignore[union-attr]
    if timings:
        lines += ["", f"Seconds to draw {TIME_IMAGES:,} images in one batch, the fastest of up to three draws, on "
                  f"a {' and a '.join(machines)}; " + ("every model timed in the same run." if len(runs) == 1 else
                                                   f"timed in {len(runs)} separate runs.")]
    lines += [line for i, note in enumerate(notes) for line in ("", f"[{'abcdefgh'[i]}] {note}")]
    return "\n".join(lines) + "\n"
