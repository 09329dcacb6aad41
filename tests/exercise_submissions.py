"""Sample submissions of an exercise set: the reference solution, an untouched notebook, planted
wrong answers, and every kind of broken file. Used by tests/test_exercises.py and by
scripts/benchmark_grading.py."""

from __future__ import annotations

import copy
from pathlib import Path

import nbformat


def _edit(nb: nbformat.NotebookNode, startswith: str, old: str, new: str) -> nbformat.NotebookNode:
    nb = copy.deepcopy(nb)
    cells = [c for c in nb.cells if c.cell_type == "code" and c.source.startswith(startswith)]
    assert len(cells) == 1 and old in cells[0].source, f"cannot plant {old!r} in the cell {startswith!r}"
    cells[0].source = cells[0].source.replace(old, new)
    return nb


def make_submissions(folder: Path, set_build: Path) -> None:
    """The reference solution, an untouched notebook, a planted wrong answer, and broken files."""
    solution = nbformat.read(set_build / "solution.ipynb", as_version=4)
    student = nbformat.read(set_build / "student.ipynb", as_version=4)
    folder.mkdir()
    nbformat.write(solution, folder / "reference.ipynb")
    nbformat.write(student, folder / "untouched.ipynb")
    # Two planted mistakes that pass the public checks but not the hidden tests: W unscaled
    # (q2), the mixture weights forgotten (q4).
    planted = _edit(solution, "def ppca_fit", "W = U[:, :d] * (lam[:d] - sigma2).sqrt()", "W = U[:, :d]")
    planted = _edit(planted, "def gmm_num_parameters", "(K - 1) + ", "")
    nbformat.write(planted, folder / "planted.ipynb")
    (folder / "invalid_json.ipynb").write_text('{"cells": [{"cell_type": "code",, ')
    (folder / "empty.ipynb").write_text("")
    nbformat.write(nbformat.v4.new_notebook(), folder / "no_cells.ipynb")
    nbformat.write(_edit(solution, "def gmm_num_parameters", "# END SOLUTION", "# END SOLUTION\nwhile True:\n    pass"),
                   folder / "infinite_loop.ipynb")
    crash = copy.deepcopy(solution)
    first_code = next(c for c in crash.cells if c.cell_type == "code")
    first_code.source = "raise RuntimeError('the first cell fails')\n" + first_code.source
    nbformat.write(crash, folder / "first_cell_raises.ipynb")
    deleted = copy.deepcopy(solution)
    deleted.cells = [c for c in deleted.cells if c.source.strip() != 'grader.check("q3")']
    nbformat.write(deleted, folder / "deleted_check_cell.ipynb")
    nbformat.write(_edit(solution, "def bernoulli_nll", "def bernoulli_nll", "def my_nll"),
                   folder / "renamed_function.ipynb")


def make_ch06_submissions(folder: Path, set_build: Path) -> None:
    """Set ch06: the reference solution (full marks), an untouched notebook (zero) and two planted
    mistakes that pass the public checks but not the hidden tests (partial marks): the AVB
    discriminator with the labels of the AAE's (q2), and T* without the Gaussian's log-determinant (q3)."""
    solution = nbformat.read(set_build / "solution.ipynb", as_version=4)
    student = nbformat.read(set_build / "student.ipynb", as_version=4)
    folder.mkdir()
    nbformat.write(solution, folder / "reference.ipynb")
    nbformat.write(student, folder / "untouched.ipynb")
    planted = _edit(solution, "def avb_discriminator_loss",
                    "softplus(-t_q).mean() + torch.nn.functional.softplus(t_p).mean()",
                    "softplus(t_q).mean() + torch.nn.functional.softplus(-t_p).mean()")
    planted = _edit(planted, "def avb_optimal_t", "-0.5 * (log_var + (z - mu).square() / log_var.exp())",
                    "-0.5 * (z - mu).square() / log_var.exp()")
    nbformat.write(planted, folder / "planted.ipynb")


def make_ch07_submissions(folder: Path, set_build: Path) -> None:
    """Set ch07: the reference solution (full marks), an untouched notebook (zero) and three planted
    mistakes that pass the public checks but not the hidden tests (partial marks): the kept
    coordinates' log-scales counted in the coupling's log-determinant (q2), the inverse's networks
    fed z instead of b * z (q3), and D read from the channel dimension of an image (q5)."""
    solution = nbformat.read(set_build / "solution.ipynb", as_version=4)
    student = nbformat.read(set_build / "student.ipynb", as_version=4)
    folder.mkdir()
    nbformat.write(solution, folder / "reference.ipynb")
    nbformat.write(student, folder / "untouched.ipynb")
    planted = _edit(solution, "def affine_coupling(", "log_det = ((1 - b) * s).sum(dim=1)", "log_det = s.sum(dim=1)")
    planted = _edit(planted, "def affine_coupling_inverse", "s, t = s_net(z_kept), t_net(z_kept)",
                    "s, t = s_net(z), t_net(z)")
    planted = _edit(planted, "def bits_per_dim", "D = y[0].numel()", "D = y.shape[1]")
    nbformat.write(planted, folder / "planted.ipynb")


def make_ch08_submissions(folder: Path, set_build: Path) -> None:
    """Set ch08: the reference solution (full marks), an untouched notebook (zero) and three planted
    mistakes that pass the public checks but not the hidden tests (partial marks): coefficients
    reshaped for points only, not images (q1), alpha_bar_{t-1} read as alpha_bar[t - 2], which wraps
    round to the last step at t = 1 (q2), and noise added at the last step too (q3)."""
    solution = nbformat.read(set_build / "solution.ipynb", as_version=4)
    student = nbformat.read(set_build / "student.ipynb", as_version=4)
    folder.mkdir()
    nbformat.write(solution, folder / "reference.ipynb")
    nbformat.write(student, folder / "untouched.ipynb")
    planted = _edit(solution, "def q_sample", "alpha_bar = alpha_bar.view(-1, *[1] * (x0.dim() - 1))",
                    "alpha_bar = alpha_bar[:, None]")
    planted = _edit(planted, "def q_posterior", "torch.cat([beta.new_ones(1), alpha_bar])[t - 1]", "alpha_bar[t - 2]")
    planted = _edit(planted, "def ancestral_step", "(t > 1).to(x_t.dtype).view(shape) * beta_t.sqrt() * z",
                    "beta_t.sqrt() * z")
    nbformat.write(planted, folder / "planted.ipynb")
