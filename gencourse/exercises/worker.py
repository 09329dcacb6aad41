"""Grade one submission with otter-grader and write the result as JSON (run as a subprocess).

    python -m gencourse.exercises.worker AUTOGRADER_ZIP SUBMISSION_IPYNB RESULT_JSON

:mod:`gencourse.exercises.grading` starts one of these per submission, in a folder of its own,
and kills it (with the notebook's kernel) when the time limit is up. The submission's code cells
carry ``metadata.gencourse_cell`` (their index in the submitted notebook), so that an error
raised while it ran can be reported against the student's own cell numbers.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import sys
from typing import Any

FAILURE_LINE = re.compile(r"^(\w+(?:Error|Exception)|AssertionError):\s?(.*)$", re.S | re.M)


def _test_message(message: str) -> str:
    """The exception line(s) of otter's failure message, without the test's source code."""
    match = FAILURE_LINE.search(message)
    return match.group(0).strip() if match else message.strip()


def execution_errors(notebook: Any) -> list[dict[str, Any]]:
    """Errors raised by the submission's own cells while it ran, in the order of the cells."""
    errors = []
    for cell in notebook.cells:
        index = cell.get("metadata", {}).get("gencourse_cell")
        if cell.cell_type != "code" or index is None:
            continue
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                first_line = next((line for line in cell.source.splitlines() if line.strip()), "")
                errors.append({"cell": index, "first_line": first_line[:80],
                               "ename": output.get("ename", ""), "evalue": str(output.get("evalue", ""))[:300]})
    return errors


def summarise(results: Any) -> dict[str, Any]:
    """Per question: score, possible, and each test case's outcome (message without test source)."""
    questions = {}
    for name in sorted(results.results):
        result = results.results[name]
        cases = [{"name": r.test_case.name, "hidden": bool(r.test_case.hidden), "passed": bool(r.passed),
                  "points": r.test_case.points, "hint": r.test_case.failure_message,
                  "message": "" if r.passed else _test_message(r.message)}
                 for r in result.test_case_results]
        questions[name] = {"score": float(results.get_score(name)), "possible": float(result.possible),
                           "cases": cases}
    return questions


# A kernel can die while it starts, before it runs a line of the notebook: jupyter_client picks free ports,
# releases them and hands them to the kernel, and another process starting at the same moment may take
# one first (the known race of concurrent kernel starts). Nothing of the notebook has run, so the run is
# simply repeated, a few times at most.
KERNEL_START_FAILURE = "Kernel died before replying to kernel_info"
KERNEL_START_ATTEMPTS = 3


def kernel_failed_to_start(text: str) -> bool:
    """Whether a run's output says that its kernel died before it ran anything (worth running again)."""
    return KERNEL_START_FAILURE in text


def main(autograder: str, submission: str, result_path: str) -> None:
    import otter.run

    log = io.StringIO()
    outcome: dict[str, Any] = {}
    try:
        with contextlib.redirect_stdout(log):
            results = otter.run.main(submission, autograder=autograder, output_dir=None, no_logo=True)
        outcome["questions"] = summarise(results)
        outcome["execution_errors"] = execution_errors(results.notebook)
        if results.catastrophic_error is not None:
            outcome["error"] = f"grading failed: {results.catastrophic_error}"
    except Exception as error:  # reported in the score sheet, never raised past the batch
        outcome["error"] = f"grading failed: {type(error).__name__}: {error}"
    outcome["log"] = log.getvalue()[-5000:]
    with open(result_path, "w") as f:
        json.dump(outcome, f, indent=1)


if __name__ == "__main__":
    main(*sys.argv[1:4])
