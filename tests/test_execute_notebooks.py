"""``make execute``: papermill runs a notebook in place, stamps it, and leaves a failing one untouched."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import nbformat
import pytest

from gencourse.notebook_stamp import code_hash, read_stamp

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "execute_notebooks.py"
spec = importlib.util.spec_from_file_location("execute_notebooks", SCRIPT)
execute_notebooks = importlib.util.module_from_spec(spec)
spec.loader.exec_module(execute_notebooks)


def write_notebook(path: Path, body: str) -> None:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("PROFILE = None")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell("import gencourse\nrun = gencourse.setup(PROFILE)"),
                nbformat.v4.new_code_cell(body)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


@pytest.mark.slow
def test_execute_stamps_the_notebook_with_its_profile_and_code(tmp_path):
    path = tmp_path / "tiny.ipynb"
    write_notebook(path, "print(run.profile)")
    assert execute_notebooks.main([str(path), "--profile", "cpu"]) == 0
    nb = json.loads(path.read_text())
    stamp = read_stamp(nb)
    assert stamp["profile"] == "cpu" and stamp["code_sha256"] == code_hash(nb["cells"])
    assert "papermill" not in nb["metadata"]  # its metadata holds absolute paths and timings
    assert all("papermill" not in c["metadata"] and "execution" not in c["metadata"] for c in nb["cells"])
    assert "".join(nb["cells"][2]["outputs"][0]["text"]) == "cpu\n"


@pytest.mark.slow
def test_a_failing_notebook_is_left_as_it_was(tmp_path, capsys):
    path = tmp_path / "broken.ipynb"
    write_notebook(path, "raise ValueError('planted')")
    before = path.read_bytes()
    assert execute_notebooks.main([str(path), "--profile", "cpu"]) == 1
    assert path.read_bytes() == before
    assert "FAILED broken.ipynb" in capsys.readouterr().out
