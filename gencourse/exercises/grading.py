"""Grade a folder of submitted notebooks into a score sheet and one feedback file each.

    make grade SUBMISSIONS=folder            # or: python -m gencourse.exercises grade folder

Every ``*.ipynb`` in the folder is graded by otter-grader against the set's autograder (public
and hidden tests), each in a process and folder of its own, killed with its kernel when the time
limit is up. A submission that is not a notebook, is empty, crashes, loops forever, or lost a
check cell or a function the tests call still gets a row, with the reason in its ``error``
column, and the batch carries on. Submissions are only ever read: grading works on copies.
``scores.csv`` has one row per submission, sorted by file name, and nothing that changes from
one run to the next, so grading the same folder twice gives the same file.
"""

from __future__ import annotations

import ast
import csv
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from gencourse.exercises.worker import KERNEL_START_ATTEMPTS, kernel_failed_to_start

ANSWER_TAG = "otter_answer_cell"


@dataclass
class Template:
    """What the graded notebook must contain, read from the set's student notebook."""

    set_name: str
    questions: dict[str, float]  # name -> points
    functions: list[str]  # names defined in answer cells: the tests call them
    check_cells: dict[str, str]  # question -> its check cell's source

    @classmethod
    def read(cls, student_notebook: Path) -> Template:
        nb = nbformat.read(student_notebook, as_version=4)
        meta = nb.metadata.get("gencourse", {})
        functions = []
        for cell in nb.cells:
            if cell.cell_type == "code" and ANSWER_TAG in cell.metadata.get("tags", []):
                functions += [n.name for n in ast.parse(cell.source).body if isinstance(n, ast.FunctionDef)]
        checks = {}
        for cell in nb.cells:
            source = cell.source.strip()
            if cell.cell_type == "code" and source.startswith("grader.check("):
                checks[source.split('"')[1]] = source
        return cls(set_name=meta["exercise_set"], questions=dict(meta["points"]), functions=functions,
                   check_cells=checks)


@dataclass
class Row:
    submission: str
    scores: dict[str, float] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    feedback: str = ""
    seconds: float = 0.0

    @property
    def total(self) -> float:
        return sum(self.scores.values())


def _python_source(source: str) -> str:
    """Cell source as plain Python (IPython magics turned into calls), for parsing only."""
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(source)


def _defined_names(tree: ast.Module) -> set[str]:
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {t.id for t in targets if isinstance(t, ast.Name)}
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return names


def preflight(path: Path, template: Template) -> tuple[nbformat.NotebookNode | None, list[str]]:
    """Read a submission and list what is wrong with it; the notebook is None if it cannot run."""
    data = path.read_bytes()
    if not data.strip():
        return None, [f"the file is empty ({len(data)} bytes): submit the saved .ipynb notebook itself"]
    try:
        json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        return None, [f"not a valid notebook: the file is not JSON ({error}); submit the .ipynb file "
                      "as Jupyter or Colab saves it"]
    try:
        nb = nbformat.reads(data.decode(), as_version=4)
        nbformat.validate(nb)
    except Exception as error:  # nbformat raises several kinds
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return None, [f"not a valid notebook: {first[:200]}"]
    code = [c for c in nb.cells if c.cell_type == "code"]
    if not code or not any(c.source.strip() for c in code):
        return None, ["the notebook has no code: it is empty, or not the exercise notebook"]

    problems = []
    other_set = nb.metadata.get("gencourse", {}).get("exercise_set")
    if other_set and other_set != template.set_name:
        problems.append(f"this notebook is exercise set {other_set}, graded here as {template.set_name}")
    defined: set[str] = set()
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        try:
            defined |= _defined_names(ast.parse(_python_source(cell.source)))
        except SyntaxError as error:
            problems.append(f"cell {index} has a syntax error (line {error.lineno}: {error.msg})")
    for name in template.functions:
        if name not in defined:
            problems.append(f"function {name}() is not defined: it was renamed or its cell deleted, and the tests "
                            "call it by this name")
    sources = {c.source.strip() for c in code}
    for question, check in template.check_cells.items():
        if check not in sources:
            problems.append(f"the check cell of {question}, {check}, was deleted or changed (graded all the same)")
    return nb, problems


def _kill_tree(pid: int) -> None:
    """Kill a process and everything it started (the notebook's kernel included)."""
    import psutil

    try:
        parent = psutil.Process(pid)
        processes = parent.children(recursive=True) + [parent]
    except psutil.NoSuchProcess:
        return
    for process in processes:
        try:
            process.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(processes, timeout=10)


def _run_worker(nb: nbformat.NotebookNode, autograder: Path, timeout: float) -> dict:
    """Grade ``nb`` in a fresh folder and process; ``{"error": ...}`` if it ran out of time."""
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            cell.metadata["gencourse_cell"] = index
    with tempfile.TemporaryDirectory(prefix="gencourse-grade-") as tmp:
        submission, result = Path(tmp) / "submission.ipynb", Path(tmp) / "result.json"
        nbformat.write(nb, submission)
        env = {**os.environ, "MPLBACKEND": "agg", "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": "",
               "PYTHONHASHSEED": "0"}
        for _ in range(KERNEL_START_ATTEMPTS):
            result.unlink(missing_ok=True)
            with open(Path(tmp) / "worker.log", "w") as log:
                process = subprocess.Popen(
                    [sys.executable, "-m", "gencourse.exercises.worker", str(autograder.resolve()), str(submission),
                     str(result)], cwd=tmp, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
                try:
                    process.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    _kill_tree(process.pid)
                    return {"error": f"did not finish within the time limit of {timeout:g} s (an infinite loop, or "
                                     "far too much work?); scored 0"}
            if not result.exists():
                tail = (Path(tmp) / "worker.log").read_text()[-500:]
                outcome = {"error": f"grading crashed (exit code {process.returncode}): {tail.strip()}"}
            else:
                outcome = json.loads(result.read_text())
            if not kernel_failed_to_start(outcome.get("error") or ""):
                break  # a kernel that died before running the submission is the machine's fault: run again
        return outcome


def grade_submission(path: Path, template: Template, autograder: Path, timeout: float) -> Row:
    """One row of the score sheet for one submission (the file itself is only read)."""
    start = time.perf_counter()
    row = Row(submission=path.name, scores={q: 0.0 for q in template.questions})
    outcome: dict = {}
    try:
        _grade_into(row, outcome, path, template, autograder, timeout)
    except Exception as error:  # one bad submission must never stop the batch
        row.scores = {q: 0.0 for q in template.questions}
        row.errors.append(f"could not be graded: {type(error).__name__}: {error}")
    row.feedback = feedback(row, template, outcome)
    row.seconds = time.perf_counter() - start
    return row


def _grade_into(row: Row, outcome: dict, path: Path, template: Template, autograder: Path, timeout: float) -> None:
    nb, problems = preflight(path, template)
    row.errors += problems
    if nb is not None:
        outcome.update(_run_worker(nb, autograder, timeout))
        for question, result in outcome.get("questions", {}).items():
            if question in row.scores:
                row.scores[question] = result["score"]
        for error in outcome.get("execution_errors", []):
            row.errors.append(f"cell {error['cell']} ({error['first_line']!r}) raised {error['ename']}: "
                              f"{error['evalue']}")
        if "error" in outcome:
            row.errors.append(outcome["error"])


def feedback(row: Row, template: Template, outcome: dict) -> str:
    """A student-readable report: the score, what went wrong, and each test's outcome."""
    possible = sum(template.questions.values())
    lines = [f"# Feedback on {row.submission} (exercise set {template.set_name})", "",
             f"Score: {row.total:g} / {possible:g}", ""]
    if row.errors:
        lines += ["## Problems", ""] + [f"- {e}" for e in row.errors] + [""]
    for question, points in template.questions.items():
        lines += [f"## {question}: {row.scores[question]:g} / {points:g}", ""]
        cases = outcome.get("questions", {}).get(question, {}).get("cases", [])
        if not cases:
            lines += ["- not graded (see the problems above)", ""]
            continue
        for case in cases:
            kind = "hidden test" if case["hidden"] else "public check"
            if case["passed"]:
                lines.append(f"- {kind} {case['name']}: passed")
            else:
                message = case["message"].replace("\n", "\n  ")
                lines.append(f"- {kind} {case['name']}: failed. {message}")
                if case.get("hint") and "Hint:" not in message:
                    lines.append(f"  Hint: {case['hint']}")
        lines.append("")
    return "\n".join(lines)


def score_sheet(rows: list[Row], template: Template) -> str:
    """The CSV text: submission, one column per question, total, max, error."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    questions = list(template.questions)
    writer.writerow(["submission", *questions, "total", "max", "error"])
    possible = sum(template.questions.values())
    for row in sorted(rows, key=lambda r: r.submission):
        writer.writerow([row.submission, *(f"{row.scores[q]:g}" for q in questions), f"{row.total:g}",
                         f"{possible:g}", " | ".join(row.errors)])
    return out.getvalue()


def _confirm_overwrite(out: Path, overwrite: bool, ask: Callable[[str], str] | None) -> None:
    existing = [p for p in (out / "scores.csv", out / "feedback") if p.exists()]
    if not existing or overwrite:
        return
    found = ", ".join(p.name for p in existing)
    question = f"{out} already holds the results of an earlier run ({found}). Replace them?"
    if ask is not None and ask(f"{question} [y/N] ").strip().lower() in ("y", "yes"):
        return
    raise FileExistsError(f"{question} Not replaced: pass --overwrite (make grade ... OVERWRITE=1) or choose "
                          "another output folder with --out (make grade ... OUT=folder)")


def grade_folder(submissions: Path, autograder: Path, student_notebook: Path, out: Path, timeout: float = 120,
                 jobs: int = 2, overwrite: bool = False, ask: Callable[[str], str] | None = None,
                 progress: bool = True) -> list[Row]:
    """Grade every ``*.ipynb`` in ``submissions``; write ``out/scores.csv`` and ``out/feedback/*.md``."""
    if not submissions.is_dir():
        raise NotADirectoryError(f"{submissions} is not a folder: pass the folder that holds the submitted notebooks")
    if not autograder.is_file():
        raise FileNotFoundError(f"no autograder at {autograder}: build it first with `make exercises`")
    paths = sorted(p for p in submissions.iterdir() if p.is_file() and p.suffix == ".ipynb")
    if not paths:
        raise FileNotFoundError(f"no .ipynb files in {submissions}")
    skipped = sorted(p.name for p in submissions.iterdir() if p.is_file() and p.suffix != ".ipynb")
    if skipped and progress:
        print(f"not graded (not .ipynb): {', '.join(skipped)}")
    _confirm_overwrite(out, overwrite, ask)
    template = Template.read(student_notebook)

    start = time.perf_counter()

    def one(path: Path) -> Row:
        row = grade_submission(path, template, autograder, timeout)
        if progress:
            status = f" ({row.errors[0][:90]})" if row.errors else ""
            print(f"{row.submission}: {row.total:g} / {sum(template.questions.values()):g} "
                  f"in {row.seconds:.1f} s{status}", flush=True)
        return row

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        rows = list(pool.map(one, paths))

    out.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(out / "feedback", ignore_errors=True)
    (out / "feedback").mkdir()
    for row in rows:
        (out / "feedback" / f"{Path(row.submission).stem}.md").write_text(row.feedback)
    (out / "scores.csv").write_text(score_sheet(rows, template))
    if progress:
        print(f"graded {len(rows)} submissions in {time.perf_counter() - start:.1f} s ({jobs} at a time); "
              f"wrote {out / 'scores.csv'} and {len(rows)} feedback files in {out / 'feedback'}")
    return rows
