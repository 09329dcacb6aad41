"""Graded exercises: generated files in sync with their sources, checks that work offline, and
grading a folder of submissions (full marks, zero, partial marks, every kind of broken file)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from exercise_submissions import (  # tests/ is on sys.path under pytest
    make_ch06_submissions,
    make_ch07_submissions,
    make_ch08_submissions,
    make_submissions,
)

import gencourse.exercises
from gencourse.exercises import build, grading

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted((ROOT / "exercises" / "src").glob("*.py"))
# Seconds per submission in these tests. A correct ch01 notebook needs about 10 s on an idle
# machine, but several times that on a busy one, so the limit is generous; only the infinite loop
# reaches it, and that one is graded on its own with a short limit.
TIMEOUT = 600.0
LOOP_TIMEOUT = 10.0


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, list[build.ExerciseSet]]:
    """Every exercise set built from its source into a fresh folder, as `make exercises` would."""
    out = tmp_path_factory.mktemp("built")
    return out, build.build_all(ROOT, out=out)


# --- authoring: one source, generated files in sync ------------------------------------------

def test_every_set_has_at_least_three_questions():
    assert SOURCES, "no exercise sources in exercises/src"
    for source in SOURCES:
        exercise_set = build.describe(source)
        assert len(exercise_set.questions) >= 3, f"{source.name} has {len(exercise_set.questions)} questions"
        assert all(q.points > 0 for q in exercise_set.questions)


def test_committed_student_notebooks_are_in_sync_with_their_sources(built):
    out, sets = built
    for s in sets:
        committed = ROOT / "exercises" / f"{s.stem}.ipynb"
        assert committed.exists(), f"{committed.name} is missing: run `make exercises` and commit it"
        assert committed.read_text() == (out / "exercises" / f"{s.stem}.ipynb").read_text(), (
            f"{committed.name} is out of sync with exercises/src/{s.source.name}: run `make exercises` and commit")


def test_shipped_public_checks_are_in_sync_with_their_sources(built):
    out, sets = built
    shipped = gencourse.exercises.PUBLIC_CHECKS
    assert sorted(gencourse.exercises.available_sets()) == sorted(s.name for s in sets)
    for s in sets:
        fresh = out / "gencourse" / "exercises" / "public_checks" / s.name
        assert sorted(p.name for p in (shipped / s.name).glob("*.py")) == sorted(p.name for p in fresh.glob("*.py"))
        for test in fresh.glob("*.py"):
            assert (shipped / s.name / test.name).read_text() == test.read_text(), (
                f"public check {s.name}/{test.name} is out of date: run `make exercises` and commit")


def test_book_list_of_sets_is_in_sync(built):
    out, _ = built
    assert (ROOT / "book" / "exercises.md").read_text() == (out / "book" / "exercises.md").read_text(), (
        "book/exercises.md is out of date: run `make exercises` and commit")


def test_book_lists_every_set_with_points_and_a_colab_link(built):
    _, sets = built
    page = (ROOT / "book" / "exercises.md").read_text()
    toc = (ROOT / "_toc.yml").read_text()
    tracked = subprocess.run(["git", "ls-files", "exercises"], cwd=ROOT, capture_output=True, text=True).stdout
    for s in sets:
        notebook = f"exercises/{s.stem}.ipynb"
        assert build.colab_url(notebook) in page
        assert f"| {s.points:g} |" in page
        assert f"exercises/{s.stem}" in toc, f"{notebook} is not in _toc.yml"
        if tracked:  # in a git checkout, the Colab link must point at a committed file
            assert notebook in tracked.split(), f"{notebook} is not committed, so its Colab link would 404"


def test_student_notebooks_hold_no_solution_and_no_hidden_test(built):
    out, sets = built
    for s in sets:
        student = nbformat.read(ROOT / "exercises" / f"{s.stem}.ipynb", as_version=4)
        text = "\n".join(c.source for c in student.cells)
        lines = build.solution_lines(build.read_source(s.source))
        assert lines, "the solution-line collector found nothing: it is broken"
        assert not [line for line in lines if line in text]
        public = "\n".join(p.read_text() for p in (gencourse.exercises.PUBLIC_CHECKS / s.name).glob("*.py"))
        assert "hidden=True" not in public and "hidden=False" in public
        autograder = (out / "build" / "exercises" / s.name / "autograder.zip")
        assert autograder.is_file()


def test_a_solution_cell_outside_solution_markers_is_refused(tmp_path):
    """A solution written in a plain cell would reach students: the build must stop."""
    source = (ROOT / "exercises" / "src" / "ch01_latent_variable_models.py").read_text()
    leaky = source.replace("# %% [raw]\n# # BEGIN SOLUTION\n", "", 1).replace("# %% [raw]\n# # END SOLUTION\n", "", 1)
    assert leaky != source
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "ch01_leaky.py").write_text(leaky)
    with pytest.raises(RuntimeError, match="solution"):
        build.build_set(tmp_path / "src" / "ch01_leaky.py", tmp_path / "student", tmp_path / "public",
                        tmp_path / "build")


def test_a_reference_solution_that_fails_its_tests_is_refused(tmp_path):
    """otter assign runs every test on the reference solution; a wrong one stops the build."""
    source = (ROOT / "exercises" / "src" / "ch01_latent_variable_models.py").read_text()
    wrong = source.replace("return (K - 1) + K * D + K * D * (D + 1) // 2", "return K * D")
    assert wrong != source
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "ch01_wrong.py").write_text(wrong)
    with pytest.raises(RuntimeError, match="does every test pass on the reference solution"):
        build.build_set(tmp_path / "src" / "ch01_wrong.py", tmp_path / "student", tmp_path / "public",
                        tmp_path / "build")


# --- students: checks that say what is wrong, offline ------------------------------------------

def test_public_checks_say_which_check_failed_expected_got_and_a_hint(tmp_path, monkeypatch):
    import torch

    monkeypatch.chdir(tmp_path)  # otter writes its log, .OTTER_LOG, to the working directory

    grader = gencourse.exercises.grader("ch01")

    def bernoulli_nll(x_logits, x):  # forgets to sum over pixels
        return torch.nn.functional.softplus(x_logits) - x * x_logits

    result = grader.check("q3", global_env={"bernoulli_nll": bernoulli_nll})
    assert not result.passed_all
    message = str(result)
    assert "bernoulli_nll on two rows of three pixels" in message
    assert "expected shape (2,), got shape (2, 3)" in message
    assert "Hint:" in message

    def right(x_logits, x):
        return (torch.nn.functional.softplus(x_logits) - x * x_logits).sum(1)

    assert grader.check("q3", global_env={"bernoulli_nll": right}).passed_all


def test_unknown_set_is_a_clear_error():
    with pytest.raises(ValueError, match="no exercise set 'ch99'.*known sets: ch01"):
        gencourse.exercises.grader("ch99")


# --- instructors: grading a folder ------------------------------------------------------------

def digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def graded(built, tmp_path_factory):
    out, _ = built
    set_build = out / "build" / "exercises" / "ch01"
    folder = tmp_path_factory.mktemp("class") / "submissions"
    make_submissions(folder, set_build)
    loop = folder.parent / "loop"
    loop.mkdir()
    (folder / "infinite_loop.ipynb").rename(loop / "infinite_loop.ipynb")
    before = digest(folder)
    results = folder.parent / "results"
    rows = grading.grade_folder(folder, set_build / "autograder.zip", set_build / "student.ipynb", results,
                                timeout=TIMEOUT, jobs=2, progress=False)
    rows += grading.grade_folder(loop, set_build / "autograder.zip", set_build / "student.ipynb",
                                 loop.parent / "loop_results", timeout=LOOP_TIMEOUT, progress=False)
    return folder, before, results, {row.submission: row for row in rows}, set_build


FULL = {"q1": 3, "q2": 3, "q3": 2, "q4": 2}


@pytest.mark.slow
def test_reference_solution_scores_full_marks(graded):
    rows = graded[3]
    assert rows["reference.ipynb"].scores == FULL
    assert rows["reference.ipynb"].errors == []


@pytest.mark.slow
def test_untouched_student_notebook_scores_zero(graded):
    rows = graded[3]
    assert rows["untouched.ipynb"].scores == {q: 0 for q in FULL}
    assert rows["untouched.ipynb"].errors == []


@pytest.mark.slow
def test_planted_wrong_answers_lose_marks_on_exactly_those_questions(graded):
    row = graded[3]["planted.ipynb"]
    assert row.scores["q1"] == FULL["q1"] and row.scores["q3"] == FULL["q3"]
    assert 0 < row.scores["q2"] < FULL["q2"]  # public check passes, hidden test fails
    assert 0 < row.scores["q4"] < FULL["q4"]


@pytest.mark.slow
@pytest.mark.parametrize("name, error", [
    ("invalid_json.ipynb", "not a valid notebook: the file is not JSON"),
    ("empty.ipynb", "the file is empty"),
    ("no_cells.ipynb", "the notebook has no code"),
    ("infinite_loop.ipynb", "did not finish within the time limit"),
    ("first_cell_raises.ipynb", "raised RuntimeError: the first cell fails"),
    ("deleted_check_cell.ipynb", 'the check cell of q3, grader.check("q3"), was deleted'),
    ("renamed_function.ipynb", "function bernoulli_nll() is not defined"),
])
def test_broken_submissions_get_a_row_with_a_clear_error(graded, name, error):
    rows = graded[3]
    assert error in " | ".join(rows[name].errors)
    if name in ("invalid_json.ipynb", "empty.ipynb", "no_cells.ipynb", "infinite_loop.ipynb"):
        assert rows[name].total == 0
    if name == "deleted_check_cell.ipynb":  # the hidden tests run all the same
        assert rows[name].scores == FULL
    if name == "renamed_function.ipynb":
        assert rows[name].scores["q3"] == 0 and rows[name].scores["q1"] == FULL["q1"]


@pytest.mark.slow
def test_score_sheet_has_a_row_for_every_submission_and_feedback_files(graded):
    folder, _, results, rows, _ = graded
    with open(results / "scores.csv") as f:
        table = list(csv.DictReader(f))
    assert [r["submission"] for r in table] == sorted(p.name for p in folder.iterdir())
    assert list(table[0]) == ["submission", "q1", "q2", "q3", "q4", "total", "max", "error"]
    reference = next(r for r in table if r["submission"] == "reference.ipynb")
    assert (reference["total"], reference["max"], reference["error"]) == ("10", "10", "")
    for name in table:
        assert (results / "feedback" / f"{Path(name['submission']).stem}.md").is_file()
    feedback = (results / "feedback" / "planted.md").read_text()
    assert "Score: 7 / 10" in feedback and "hidden test q2 - 2: failed" in feedback and "expected" in feedback


@pytest.mark.slow
def test_submissions_are_never_modified(graded):
    folder, before = graded[0], graded[1]
    assert digest(folder) == before


@pytest.mark.slow
def test_grading_is_deterministic(graded, tmp_path):
    folder, _, results, _, set_build = graded
    subset = tmp_path / "subset"
    subset.mkdir()
    for name in ("planted.ipynb", "invalid_json.ipynb", "renamed_function.ipynb"):
        shutil.copyfile(folder / name, subset / name)
    first = grading.grade_folder(subset, set_build / "autograder.zip", set_build / "student.ipynb", tmp_path / "a",
                                 timeout=TIMEOUT, progress=False)
    second = grading.grade_folder(subset, set_build / "autograder.zip", set_build / "student.ipynb", tmp_path / "b",
                                  timeout=TIMEOUT, progress=False)
    assert (tmp_path / "a" / "scores.csv").read_text() == (tmp_path / "b" / "scores.csv").read_text()
    assert [r.feedback for r in first] == [r.feedback for r in second]
    # ... and the same rows as in the full batch
    with open(results / "scores.csv") as f:
        batch = {r["submission"]: r for r in csv.DictReader(f)}
    for r in csv.DictReader(io.StringIO((tmp_path / "a" / "scores.csv").read_text())):
        assert r == batch[r["submission"]]


# Sets graded on a reference, an untouched notebook and planted mistakes that pass the public checks:
# (full marks per question, the planted notebook's scores, the function that writes the three).
PARTIAL_MARKS = {
    "ch06": ({"q1": 3, "q2": 2, "q3": 3, "q4": 2}, {"q1": 3, "q2": 1, "q3": 1, "q4": 2}, make_ch06_submissions),
    "ch07": ({"q1": 2, "q2": 2, "q3": 2, "q4": 2, "q5": 2}, {"q1": 2, "q2": 1, "q3": 1, "q4": 2, "q5": 1},
             make_ch07_submissions),
    "ch08": ({"q1": 2, "q2": 3, "q3": 3, "q4": 2}, {"q1": 1, "q2": 2, "q3": 2, "q4": 2}, make_ch08_submissions),
}


@pytest.mark.slow
@pytest.mark.parametrize("stem", sorted(PARTIAL_MARKS))
def test_scores_full_zero_and_partial_marks(built, tmp_path, stem):
    """The reference scores full marks, an untouched notebook zero, and planted mistakes that pass the public
    checks lose exactly the points of their hidden tests."""
    full, planted, make = PARTIAL_MARKS[stem]
    out, _ = built
    set_build = out / "build" / "exercises" / stem
    make(tmp_path / "submissions", set_build)
    rows = grading.grade_folder(tmp_path / "submissions", set_build / "autograder.zip", set_build / "student.ipynb",
                                tmp_path / "results", timeout=TIMEOUT, jobs=2, progress=False)
    rows = {row.submission: row for row in rows}
    assert rows["reference.ipynb"].scores == full and rows["reference.ipynb"].errors == []
    assert rows["untouched.ipynb"].scores == {q: 0 for q in full}
    assert rows["planted.ipynb"].scores == planted  # public checks passed, hidden tests failed


def test_an_earlier_run_is_never_overwritten_without_asking(built, tmp_path):
    out, _ = built
    set_build = out / "build" / "exercises" / "ch01"
    folder = tmp_path / "subs"
    folder.mkdir()
    (folder / "broken.ipynb").write_text("not json")  # graded without running anything
    results = tmp_path / "results"

    def grade(**kwargs):
        return grading.grade_folder(folder, set_build / "autograder.zip", set_build / "student.ipynb", results,
                                    progress=False, **kwargs)

    grade()
    (results / "scores.csv").write_text("an earlier run\n")
    with pytest.raises(FileExistsError, match="--overwrite"):
        grade()
    with pytest.raises(FileExistsError):
        grade(ask=lambda question: "n")
    assert (results / "scores.csv").read_text() == "an earlier run\n"
    grade(ask=lambda question: "y")
    assert "broken.ipynb" in (results / "scores.csv").read_text()
    (results / "scores.csv").write_text("an earlier run\n")
    grade(overwrite=True)
    assert "broken.ipynb" in (results / "scores.csv").read_text()


def test_command_line_errors_are_clear(tmp_path):
    def run(*args):
        return subprocess.run([sys.executable, "-m", "gencourse.exercises", *args], capture_output=True, text=True,
                              cwd=tmp_path)

    done = run("grade", str(tmp_path / "missing"))
    assert done.returncode != 0 and "is not a folder" in done.stderr
    (tmp_path / "subs").mkdir()
    done = run("grade", str(tmp_path / "subs"), "--set", "ch01", "--build-dir", str(tmp_path / "nothing"))
    assert done.returncode != 0 and "run `make exercises` first" in done.stderr


REAL_POPEN = subprocess.Popen  # taken at import, before any test replaces it


class FakeWorker:
    """Stands in for the grading subprocess: writes the given outcomes to result.json, one per run."""

    def __init__(self, outcomes: list[dict]) -> None:
        self.outcomes, self.runs = outcomes, 0

    def __call__(self, args, **kwargs):
        Path(args[-1]).write_text(json.dumps(self.outcomes[min(self.runs, len(self.outcomes) - 1)]))
        self.runs += 1
        return REAL_POPEN([sys.executable, "-c", "pass"])


def test_a_kernel_that_dies_while_starting_is_started_again_and_nothing_else_is(monkeypatch, tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    died = {"error": "grading failed: RuntimeError: Kernel died before replying to kernel_info"}
    graded = {"questions": {"q1": {"score": 1}}}
    fake = FakeWorker([died, graded])
    monkeypatch.setattr(grading.subprocess, "Popen", fake)
    assert grading._run_worker(nb, tmp_path / "autograder.zip", timeout=60) == graded and fake.runs == 2
    fake = FakeWorker([died])  # dies every time: reported after a bounded number of attempts
    monkeypatch.setattr(grading.subprocess, "Popen", fake)
    assert grading._run_worker(nb, tmp_path / "autograder.zip", timeout=60) == died
    assert fake.runs == grading.KERNEL_START_ATTEMPTS
    other = {"error": "grading failed: NameError: name 'x' is not defined"}
    fake = FakeWorker([other, graded])  # the submission's own failure is its result, not a reason to rerun
    monkeypatch.setattr(grading.subprocess, "Popen", fake)
    assert grading._run_worker(nb, tmp_path / "autograder.zip", timeout=60) == other and fake.runs == 1
