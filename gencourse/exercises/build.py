"""Generate everything an exercise set needs from its one source (``make exercises``).

A source ``exercises/src/<set>_<topic>.py`` is a notebook in jupytext's percent format, written
in otter-grader's assignment format: a raw ``# ASSIGNMENT CONFIG`` cell, then per question a
raw ``# BEGIN QUESTION`` cell (name, points), the prompt, the reference solution between raw
``# BEGIN SOLUTION`` / ``# END SOLUTION`` cells, and the tests between ``# BEGIN TESTS`` /
``# END TESTS`` (a test whose config says ``hidden: true`` is for the grader only).

``otter assign`` turns it into a student notebook and an autograder, after checking that the
reference solution passes every test. This module then makes the student notebook
reproducible (fixed cell ids, no tool metadata), checks that no line of a solution reached it,
copies the public tests into the package, and writes the book's list of sets.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import yaml

from gencourse.exercises.worker import KERNEL_START_ATTEMPTS, kernel_failed_to_start

REPOSITORY = "gencourse/gencourse"
BRANCH = "main"
COLAB = "https://colab.research.google.com/github"
QUESTION_HEADING = re.compile(r"^##\s+Question\s+\d+\s+\((\d+(?:\.\d+)?) points?\):\s*(.+)$", re.M)


@dataclass
class Question:
    name: str
    title: str
    points: float


@dataclass
class ExerciseSet:
    """One exercise set as its source describes it."""

    name: str  # e.g. "ch01", the argument of gencourse.exercises.grader
    source: Path
    title: str
    questions: list[Question] = field(default_factory=list)

    @property
    def stem(self) -> str:
        return self.source.stem  # e.g. "ch01_latent_variable_models"

    @property
    def points(self) -> float:
        return sum(q.points for q in self.questions)


# What every set shares, added by the build so that a source holds only its own questions.
OTTER_CONFIG = {"init_cell": False, "check_all_cell": False, "export_cell": False, "run_tests": True,
                "tests": {"files": True, "ok_format": False}}
INTRO = """Each question asks you to write one function in place of the `...`; the cell after it checks
your answer against the public tests and tells you which check failed, what it expected, what it
got, and a hint. The grade comes from these checks and from further hidden ones, so an answer that
passes the public checks is likely, not certain, to be right.

Work in float64 (`torch.float64`) and do not rename the functions or delete the check cells: the
grader calls the functions by their names. To hand in, save the notebook and submit the `.ipynb`
file (on Colab: *File > Download > Download .ipynb*)."""
SETUP = (
    "# Setup: on Colab, install the course package with its exercise checker; elsewhere this cell does nothing.\n"
    "import sys\n"
    "\n"
    'if "google.colab" in sys.modules:\n'
    '    %pip install -q "gencourse[exercises] @ git+https://github.com/{repository}@{branch}"'
)
IMPORTS = """import math

import torch

import gencourse.exercises

grader = gencourse.exercises.grader("{name}")"""
CLOSING = """## Before you hand in

Run every cell from the top (*Runtime > Restart and run all* on Colab, *Kernel > Restart & Run All*
in Jupyter) and check that each check cell shows the result you expect. Then submit the `.ipynb`
file."""


def read_source(source: Path) -> nbformat.NotebookNode:
    """The source as a notebook, completed with the cells every set shares.

    The source holds a raw ``# ASSIGNMENT CONFIG`` cell with the set's ``name`` (otter's other
    settings default to :data:`OTTER_CONFIG`), a markdown cell with the title and one sentence,
    and the questions. Added here: the standard instructions, the Colab setup cell, the cell that
    creates ``grader``, and the closing "Before you hand in" cell.
    """
    import jupytext

    nb = jupytext.read(source, fmt="py:percent")
    config_index = next((i for i, cell in enumerate(nb.cells) if _raw_config(cell, "# ASSIGNMENT CONFIG") is not None),
                        None)
    intro_index = next((i for i, cell in enumerate(nb.cells) if cell.cell_type == "markdown"), None)
    if config_index is None or intro_index is None:
        raise ValueError(f"{source}: needs a raw '# ASSIGNMENT CONFIG' cell and a markdown cell with the title")
    config = {**OTTER_CONFIG, **_raw_config(nb.cells[config_index], "# ASSIGNMENT CONFIG")}
    if "name" not in config:
        raise ValueError(f"{source}: the '# ASSIGNMENT CONFIG' cell needs the set's name (e.g. name: ch01)")
    nb.cells[config_index].source = "# ASSIGNMENT CONFIG\n" + yaml.safe_dump(config, sort_keys=False).strip()
    nb.cells[intro_index].source = nb.cells[intro_index].source.rstrip() + "\n\n" + INTRO
    nb.cells[intro_index + 1:intro_index + 1] = [
        nbformat.v4.new_code_cell(SETUP.format(repository=REPOSITORY, branch=BRANCH), metadata={"tags": ["setup"]}),
        nbformat.v4.new_code_cell(IMPORTS.format(name=config["name"])),
    ]
    nb.cells.append(nbformat.v4.new_markdown_cell(CLOSING))
    return nb


def _raw_config(cell: nbformat.NotebookNode, marker: str) -> dict | None:
    lines = cell.source.strip().splitlines()
    if cell.cell_type != "raw" or not lines or lines[0].strip().upper() != marker:
        return None
    return yaml.safe_load("\n".join(lines[1:])) or {}


def describe(source: Path, nb: nbformat.NotebookNode | None = None) -> ExerciseSet:
    """Read the set's name, title and questions (with points) from its source, checking them."""
    nb = read_source(source) if nb is None else nb
    config = next((c for c in (_raw_config(cell, "# ASSIGNMENT CONFIG") for cell in nb.cells) if c is not None), None)
    if config is None or "name" not in config:
        raise ValueError(f"{source}: no raw '# ASSIGNMENT CONFIG' cell with a 'name'")
    title = next((c.source.splitlines()[0].lstrip("# ").strip() for c in nb.cells if c.cell_type == "markdown"), "")
    exercise_set = ExerciseSet(name=str(config["name"]), source=source, title=title)
    for i, cell in enumerate(nb.cells):
        question = _raw_config(cell, "# BEGIN QUESTION")
        if question is None:
            continue
        prompt = next((c for c in nb.cells[i + 1:] if c.cell_type == "markdown"), None)
        match = QUESTION_HEADING.search(prompt.source) if prompt is not None else None
        if match is None:
            raise ValueError(f"{source}: question {question.get('name')} needs a heading "
                             "'## Question N (P points): title' in its prompt")
        points, heading = float(match.group(1)), match.group(2).strip()
        if float(question.get("points", -1)) != points:
            raise ValueError(f"{source}: question {question['name']} is worth {question.get('points')} points "
                             f"in its config but {match.group(1)} in its heading")
        exercise_set.questions.append(Question(name=str(question["name"]), title=heading, points=points))
    if not exercise_set.questions:
        raise ValueError(f"{source}: no question found")
    return exercise_set


def solution_lines(nb: nbformat.NotebookNode) -> set[str]:
    """Every non-trivial line between ``# BEGIN SOLUTION`` and ``# END SOLUTION`` markers."""
    lines, inside = set(), False
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for line in cell.source.splitlines():
            if line.strip() == "# BEGIN SOLUTION":
                inside = True
            elif line.strip() == "# END SOLUTION":
                inside = False
            elif inside and len(line.strip()) > 8:
                lines.add(line.strip())
    return lines


def _normalise(nb: nbformat.NotebookNode, exercise_set: ExerciseSet) -> nbformat.NotebookNode:
    """Fixed cell ids and metadata, so that building twice gives the same file."""
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"{exercise_set.name}-{i:02d}"
        keep = {k: v for k, v in cell.metadata.items() if k in ("tags", "deletable", "editable")}
        if keep.get("tags") == []:
            del keep["tags"]
        cell["metadata"] = keep
        if cell.cell_type == "code":
            cell["outputs"], cell["execution_count"] = [], None
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
        "gencourse": {"exercise_set": exercise_set.name,
                      "points": {q.name: q.points for q in exercise_set.questions}},
        "otter": {"assignment_name": exercise_set.name},
    }
    nb.nbformat, nb.nbformat_minor = 4, 5
    return nb


def build_set(source: Path, student_dir: Path, public_dir: Path, build_dir: Path) -> ExerciseSet:
    """Run ``otter assign`` on one source and write the student notebook, public checks and autograder."""
    master = read_source(source)
    exercise_set = describe(source, master)
    with tempfile.TemporaryDirectory() as tmp:
        master_path = Path(tmp) / f"{exercise_set.stem}.ipynb"
        nbformat.write(master, master_path)
        for _ in range(KERNEL_START_ATTEMPTS):
            shutil.rmtree(Path(tmp) / "dist", ignore_errors=True)
            done = subprocess.run([sys.executable, "-m", "otter", "assign", "--no-pdfs", master_path.name, "dist"],
                                  cwd=tmp, capture_output=True, text=True)
            if done.returncode == 0 or not kernel_failed_to_start(done.stdout + done.stderr):
                break
        if done.returncode != 0:
            raise RuntimeError(f"otter assign failed on {source} (does every test pass on the reference "
                               f"solution?):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
        dist = Path(tmp) / "dist"
        student = nbformat.read(dist / "student" / master_path.name, as_version=4)
        student = _normalise(student, exercise_set)
        text = "\n".join(cell.source for cell in student.cells)
        leaked = sorted(line for line in solution_lines(master) if line in text)
        if leaked or "# BEGIN SOLUTION" in text or "BEGIN TEST CONFIG" in text:
            raise RuntimeError(f"{source}: the student notebook would show solution or test lines: {leaked[:3]}; "
                               "put every solution cell between raw '# BEGIN SOLUTION' / '# END SOLUTION' cells")
        student_dir.mkdir(parents=True, exist_ok=True)
        nbformat.write(student, student_dir / master_path.name)

        set_public = public_dir / exercise_set.name
        shutil.rmtree(set_public, ignore_errors=True)
        set_public.mkdir(parents=True)
        for test in sorted((dist / "student" / "tests").glob("*.py")):
            shutil.copyfile(test, set_public / test.name)

        set_build = build_dir / exercise_set.name
        shutil.rmtree(set_build, ignore_errors=True)
        set_build.mkdir(parents=True)
        (zip_path,) = (dist / "autograder").glob("*.zip")
        shutil.copyfile(zip_path, set_build / "autograder.zip")
        shutil.copyfile(dist / "autograder" / master_path.name, set_build / "solution.ipynb")
        nbformat.write(student, set_build / "student.ipynb")
    return exercise_set


def colab_url(path: str) -> str:
    return f"{COLAB}/{REPOSITORY}/blob/{BRANCH}/{path}"


def book_page(sets: list[ExerciseSet], student_dir: str = "exercises") -> str:
    """The book's list of exercise sets: questions, points, and where to open each."""
    rows = []
    for s in sets:
        questions = "<br>".join(f"{q.name}: {q.title} ({q.points:g})" for q in s.questions)
        notebook = f"{student_dir}/{s.stem}.ipynb"
        rows.append(f"| [{s.title}](../{notebook}) | {questions} | {s.points:g} | "
                    f"[Open in Colab]({colab_url(notebook)}) |")
    return "\n".join([
        "# Graded exercises",
        "",
        "<!-- Generated by `make exercises` from exercises/src/; edit the sources, not this page. -->",
        "",
        "Each chapter comes with a set of graded exercises: short functions to write, each checked",
        "the moment you run the cell below it. A check that fails says which check it was, what it",
        "expected, what it got, and gives a hint. Those public checks travel with the `gencourse`",
        "package, so they work on Colab and offline alike; your instructor grades with further,",
        "hidden tests, so passing the public checks is a good sign, not a guarantee.",
        "",
        "| Exercise set | Questions (points) | Points | Run it |",
        "|---|---|---|---|",
        *rows,
        "",
        "## Working on a set",
        "",
        "1. Open the set in Colab (link above; save a copy to your Drive first, or your work is",
        "   lost when the session ends), or run it locally after `pip install 'gencourse[exercises]'`.",
        "2. Run the cells from the top. Replace each `...` with your code, then run the check cell",
        "   below it, `grader.check(\"q1\")`.",
        "3. Do not rename the functions or delete the check cells: the grader calls the functions",
        "   by their names.",
        "4. Hand in the `.ipynb` file (on Colab: *File > Download > Download .ipynb*).",
        "",
        "## Grading a class (instructors)",
        "",
        "`make exercises` builds the autograders (with the hidden tests) in `build/exercises/`;",
        "`make grade SUBMISSIONS=folder` grades every `.ipynb` file in `folder`, each in its own",
        "process with a time limit, and writes `scores.csv` (one row per submission: each",
        "question's score, the total, and any error) and one feedback file per submission.",
        "",
    ])


def build_all(repo: Path, out: Path | None = None, jobs: int = 2) -> list[ExerciseSet]:
    """Build every set under ``repo/exercises/src`` and the book's list of sets.

    The outputs go to the same places under ``out`` (by default ``repo`` itself):
    ``exercises/*.ipynb``, ``gencourse/exercises/public_checks/``, ``build/exercises/`` and
    ``book/exercises.md``.
    """
    out = repo if out is None else out
    sources = sorted((repo / "exercises" / "src").glob("*.py"))
    if not sources:
        raise FileNotFoundError(f"no exercise sources in {repo / 'exercises' / 'src'}")
    print(f"building {len(sources)} exercise sets (otter assign runs every test on each reference solution) ...",
          flush=True)

    def one(source: Path) -> ExerciseSet:
        return build_set(source, out / "exercises", out / "gencourse" / "exercises" / "public_checks",
                         out / "build" / "exercises")

    with ThreadPoolExecutor(max_workers=jobs) as pool:  # each set runs in its own otter process
        sets = list(pool.map(one, sources))
    names = [s.name for s in sets]
    if len(set(names)) != len(names):
        raise ValueError(f"two exercise sources have the same name: {names}")
    (out / "book").mkdir(parents=True, exist_ok=True)
    (out / "book" / "exercises.md").write_text(book_page(sets))
    return sets
