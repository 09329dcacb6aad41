"""Graded exercises: check answers in the notebook, grade a folder of submissions.

Every exercise set has one source, ``exercises/src/<set>_<topic>.py`` in the repository (a
notebook in jupytext's percent format, written in otter-grader's assignment format). From it,
``make exercises`` (``python -m gencourse.exercises build``) generates

- the student notebook ``exercises/<set>_<topic>.ipynb`` (no solutions, no hidden tests);
- the public checks ``gencourse/exercises/public_checks/<set>/q*.py``, shipped with this
  package so that ``grader.check("q1")`` works anywhere the package is installed, Colab and
  offline included;
- the autograder ``build/exercises/<set>/autograder.zip`` (all tests, for the instructor);
- the book's list of exercise sets, ``book/exercises.md``.

In a student notebook::

    grader = gencourse.exercises.grader("ch01")
    grader.check("q1")

and an instructor grades a folder of submissions with ``make grade SUBMISSIONS=dir``
(``python -m gencourse.exercises grade dir``); see :mod:`gencourse.exercises.grading`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

PUBLIC_CHECKS = Path(__file__).parent / "public_checks"


def available_sets() -> list[str]:
    """The names of the exercise sets whose public checks ship with this package."""
    if not PUBLIC_CHECKS.is_dir():
        return []
    return sorted(p.name for p in PUBLIC_CHECKS.iterdir() if p.is_dir() and any(p.glob("q*.py")))


def public_checks_dir(set_name: str) -> Path:
    """The folder of the public checks of ``set_name``; a clear error if there is no such set."""
    folder = PUBLIC_CHECKS / set_name
    if not folder.is_dir():
        known = ", ".join(available_sets()) or "none"
        raise ValueError(f"there is no exercise set {set_name!r} in this version of gencourse (known sets: {known}); "
                         "upgrade the package if your notebook is newer than it")
    return folder


def grader(set_name: str) -> Any:
    """An ``otter.Notebook`` that checks the questions of ``set_name`` against its public checks.

    When an instructor grades the notebook, otter-grader points the same object at the full
    (public and hidden) tests instead.
    """
    folder = public_checks_dir(set_name)
    try:
        import otter
    except ImportError as error:
        raise ImportError(
            "checking exercises needs otter-grader: install the course with its exercise extra, "
            "pip install 'gencourse[exercises]' (on Colab the notebook's first cell does this)"
        ) from error
    return otter.Notebook(tests_dir=str(folder))
