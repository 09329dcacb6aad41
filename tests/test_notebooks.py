"""The committed notebooks: structure, stored outputs, and a stamp that matches their code.

Running them (in the smoke profile, under nbval) is a separate part of ``make test``; these
tests read the files as committed.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from gencourse.notebook_stamp import cell_source as source
from gencourse.notebook_stamp import code_hash, read_stamp

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
IDS = [p.name for p in NOTEBOOKS]


def load(path: Path) -> dict:
    return json.loads(path.read_text())


def code_cells(nb: dict) -> list[dict]:
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks found in notebooks/"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_listed_in_the_table_of_contents(path):
    toc = (ROOT / "_toc.yml").read_text()
    assert f"notebooks/{path.stem}" in toc, f"{path.name} is not in _toc.yml, so the book never shows it"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_setup_and_parameters_cells_come_first(path):
    cells = code_cells(load(path))
    setup, parameters = cells[0], cells[1]
    assert "setup" in setup["metadata"].get("tags", []), "the first code cell must be tagged 'setup'"
    assert '"google.colab" in sys.modules' in source(setup) and "pip install" in source(setup), (
        "the setup cell installs the course package on Colab and does nothing elsewhere"
    )
    assert "parameters" in parameters["metadata"].get("tags", []), "the second code cell must be tagged 'parameters'"
    assert re.search(r"^PROFILE = None\b", source(parameters), re.M), "the parameters cell sets PROFILE = None"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_stamp_matches_the_code(path):
    nb = load(path)
    stamp = read_stamp(nb)
    assert stamp is not None, f"{path.name} was not executed with `make execute` (no stamp in its metadata)"
    assert stamp["profile"] in ("cpu", "gpu"), f"{path.name} carries outputs of the {stamp['profile']!r} profile"
    assert stamp["code_sha256"] == code_hash(nb["cells"]), (
        f"{path.name} was edited after it was executed: its stored outputs do not come from its code. "
        "Run `make execute` (or scripts/execute_notebooks.py on it) and commit the result."
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_outputs_are_complete_and_error_free(path):
    cells = code_cells(load(path))
    counts = [c.get("execution_count") for c in cells if source(c).strip()]
    assert None not in counts, "some code cells were never run"
    assert counts == sorted(counts), "cells were run out of order"
    for cell in cells:
        for output in cell.get("outputs", []):
            assert output["output_type"] != "error", f"stored error: {output.get('ename')}: {output.get('evalue')}"
            text = "".join(output.get("text", "")) if output["output_type"] == "stream" else ""
            assert "Traceback" not in text, f"a traceback is stored in a cell's output:\n{text[:500]}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_has_figures(path):
    outputs = [o for c in code_cells(load(path)) for o in c.get("outputs", [])]
    assert any("image/png" in o.get("data", {}) for o in outputs), f"{path.name} shows no figure"


def test_code_hash_follows_the_code_and_ignores_papermill_values():
    cells = [
        {"cell_type": "markdown", "source": "# title"},
        {"cell_type": "code", "source": "PROFILE = None", "metadata": {"tags": ["parameters"]}},
        {"cell_type": "code", "source": ["x = 1\n", "print(x)"], "metadata": {}},
    ]
    reference = code_hash(cells)
    injected = {"cell_type": "code", "source": 'PROFILE = "smoke"', "metadata": {"tags": ["injected-parameters"]}}
    assert code_hash([*cells[:2], injected, cells[2]]) == reference
    assert code_hash([*cells[:2], {**cells[2], "source": "x = 2\nprint(x)"}]) != reference
    assert code_hash([{**cells[0], "source": "# another title"}, *cells[1:]]) == reference  # prose is not code
    assert code_hash([cells[0], cells[2], cells[1]]) != reference  # order matters
