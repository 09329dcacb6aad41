"""Chapter 9: the comparison table is produced by code, from the sidecars of checkpoints that load.

Every registered generative checkpoint loads and draws its re-evaluation subset again with the
sidecar's seed; the scores must equal the recorded ones. This is the one test that re-scores the
shipped generators (the GANs, the VAE, the AAE, the flow and the DDPM). The committed table file
must equal what the code generates from the sidecars now, so it cannot drift from them.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import pytest
import torch

from gencourse import pretrained
from gencourse.metrics import comparison, floors
from gencourse.pretrained import read_sidecar

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("compare_models", ROOT / "scripts" / "compare_models.py")
compare_models = importlib.util.module_from_spec(spec)
spec.loader.exec_module(compare_models)

SHIPPED = comparison.shipped()


def test_every_checkpoint_is_either_compared_or_said_not_to_be_generative():
    assert set(pretrained.available()) <= set(comparison.MODELS) | set(comparison.NOT_GENERATIVE)
    assert not set(comparison.MODELS) & set(comparison.NOT_GENERATIVE)
    assert {"ch03_vae", "ch04_dcgan", "ch05_wgan_gp", "ch06_aae", "ch07_flow"} <= set(SHIPPED)


@pytest.mark.parametrize("name", SHIPPED)
def test_a_shipped_sidecar_holds_every_figure_of_the_table(name):
    metrics = read_sidecar(name)["metrics"]
    subset = comparison.MODELS[name].subset
    keys = ["eval_seed", "fid_10000", "inception_score_10000", f"fid_{subset}", f"inception_score_{subset}",
            comparison.TIME_KEY]
    missing = [key for key in keys if key not in metrics]
    assert not missing, f"{name}'s sidecar lacks {missing}: run `python scripts/compare_models.py --record all`"
    assert metrics["eval_seed"] == comparison.EVAL_SEED
    assert all(isinstance(metrics[key], float) for key in keys[1:5])
    timing = metrics[comparison.TIME_KEY]
    assert timing["images"] == 1000 and timing["threads"] == 1 and timing["seconds"] > 0 and timing["machine"]
    for key in ("fid_floor_train10k_vs_test", "inception_score_test"):
        assert metrics[key] == floors()[key]  # scored beside the floors of the shipped classifier
    row = comparison.table_rows([name])[0]
    assert comparison.PENDING not in row.values()


def test_the_committed_table_is_what_the_code_generates_from_the_sidecars_now():
    committed = compare_models.TABLE.read_text()
    assert committed == compare_models.generated_table(), (
        "book/_generated/comparison_table.md is out of date: run `python scripts/compare_models.py` and commit it")
    for name in SHIPPED:
        assert f"`{name}`" in committed


def test_what_chapters_8_and_9_say_of_the_shipped_ddpm_is_what_its_sidecar_and_the_table_record():
    """The prose's claims about the DDPM's samplers and its rank, checked against the figures they rest on."""
    comparison_of_samplers = read_sidecar("ch08_ddpm")["metrics"]["sampler_comparison"]
    ddim, ancestral = comparison_of_samplers["ddim_fid"], comparison_of_samplers["ancestral_fid"]
    deterministic = comparison_of_samplers["ddim_deterministic_fid"]
    # both chapters: 50 jumps with eta = 1 beat the 1,000 ancestral steps, and eta = 0 on them is clearly worse
    assert comparison_of_samplers["ddim_eta"] == 1.0 and ddim < ancestral and deterministic > 1.2 * ddim
    # chapter 9: the DDPM's samples score best, narrowly ahead of the two GANs with a discrete code
    text = " ".join((ROOT / "book" / "09_comparing_models.md").read_text().split())
    assert ("samples score better than every other model's, narrowly ahead of the two GANs with a discrete code"
            in text)
    fid = comparison.fid_by_checkpoint()
    first, *next_two = sorted(fid, key=fid.get)[:3]
    assert first == "ch08_ddpm" and set(next_two) == {"ch04_dcgan_codes", "ch05_wgan_gp_codes"}, (
        f"chapter 9's DDPM paragraph is out of date: {fid}")
    assert max(fid[name] for name in next_two) < 1.1 * fid[first]  # narrowly: within 10%


def test_the_table_is_read_from_the_sidecars(tmp_path, monkeypatch):
    """Change a figure in a copy of the sidecars and the table changes with it: nothing is typed in by hand."""
    for path in pretrained.CHECKPOINT_DIR.glob("*.json"):
        shutil.copy(path, tmp_path)
    record = json.loads((tmp_path / "ch04_dcgan.json").read_text())
    record["metrics"]["fid_10000"] = 123.456
    (tmp_path / "ch04_dcgan.json").write_text(json.dumps(record))
    monkeypatch.setattr(pretrained, "CHECKPOINT_DIR", tmp_path)
    table = comparison.format_markdown(comparison.table_rows())
    assert "| 123.46 |" in table and "| 123.46 |" not in compare_models.TABLE.read_text()


def test_nll_columns_never_mix_units():
    """Nats per image only for a model of binarised MNIST, bits/dim only for dequantised MNIST, never both."""
    for row in comparison.table_rows():
        if row["checkpoint"] is None:  # the real-data floors
            assert row["nll_nats"] is None and row["nll_bits_per_dim"] is None
            continue
        record = read_sidecar(str(row["checkpoint"]))
        described = json.dumps([record["budget"].get("data"), record["metrics"].get("test_bpd_note")]).lower()
        assert row["nll_nats"] is None or row["nll_bits_per_dim"] is None
        if row["nll_nats"] is not None:
            assert "binaris" in described, row["checkpoint"]
        if row["nll_bits_per_dim"] is not None:
            assert "dequantis" in described, row["checkpoint"]
    units = {name: entry.nll[0] for name, entry in comparison.MODELS.items() if entry.nll}
    assert units == {"ch03_vae": comparison.NATS, "ch07_flow": comparison.BITS, "ch08_ddpm": comparison.BITS}


def test_the_ddpm_row_names_its_sampler_and_the_cost_of_ancestral_sampling(tmp_path, monkeypatch):
    """On a stand-in sidecar with the keys the DDPM's evaluation writes; a provisional sidecar is left out."""
    record = {"parameters": 973_729, "budget": {"steps": 40_000, "wall_clock_seconds": 36_000.0},
              "metrics": {"sampler": "DDIM, 50 steps", "fid_10000": 5.0, "inception_score_10000": 9.5,
                          "test_bpd": 1.5, comparison.TIME_KEY: {"images": 1000, "seconds": 80.0},
                          "sampler_comparison": {"n": 200, "ddim_steps": 50, "ancestral_steps": 1000,
                                                 "ddim_seconds": 16.0, "ancestral_seconds": 320.0,
                                                 "ddim_fid": 20.0, "ancestral_fid": 18.0, "threads": 2}}}
    (tmp_path / "ch08_ddpm.json").write_text(json.dumps(record))
    shutil.copy(pretrained.CHECKPOINT_DIR / "mnist_classifier.json", tmp_path)
    monkeypatch.setattr(pretrained, "CHECKPOINT_DIR", tmp_path)
    table = comparison.format_markdown(comparison.table_rows(["ch08_ddpm"]))
    assert "| DDPM, DDIM 50 steps [a] (`ch08_ddpm`) |" in table and "| ≤ 1.500 |" in table and "| 80.0 |" in table
    assert "[a] Sampled by DDIM, 50 steps." in table
    assert "took 20 times as long" in table and "about 1,600 s per 1,000 samples" in table
    record["metrics"]["provisional"] = True
    (tmp_path / "ch08_ddpm.json").write_text(json.dumps(record))
    assert "ch08_ddpm" not in comparison.shipped()


def test_sampling_is_timed_on_one_thread_and_recorded_with_the_machine():
    threads = torch.get_num_threads()
    times = comparison.time_sampling(["ch06_aae"], n=50, repeats=2)
    assert torch.get_num_threads() == threads
    record = times["ch06_aae"]
    assert record["images"] == 50 and record["threads"] == 1 and record["runs"] == 2 and record["seconds"] > 0
    assert record["timed_with"] == ["ch06_aae"] and "torch thread" in record["machine"]


@pytest.fixture(scope="module")
def test_set():
    from gencourse.data import load_mnist
    from gencourse.metrics import load_classifier, reference_statistics

    classifier = load_classifier()
    return reference_statistics(load_mnist("test", download=False)[0], classifier), classifier


@pytest.mark.slow
@pytest.mark.parametrize("name", SHIPPED)
def test_a_shipped_checkpoint_loads_and_reproduces_its_sidecar_scores(name, test_set, one_thread):
    """The subset (2,000 samples; the DDPM's 500 DDIM samples, 50 network passes each) drawn again with the
    sidecar's seed scores the recorded IS and FID to 1e-4 relative: the same computation on the CPU, repeated."""
    reference, classifier = test_set  # the test images' feature statistics, computed once
    again = comparison.reevaluate(name, reference, classifier=classifier)
    assert again["inception_score"] == pytest.approx(again["sidecar_inception_score"], rel=1e-4)
    assert again["fid"] == pytest.approx(again["sidecar_fid"], rel=1e-4)
