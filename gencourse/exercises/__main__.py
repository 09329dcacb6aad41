"""Command line: ``python -m gencourse.exercises build`` and ``python -m gencourse.exercises grade FOLDER``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat


def _infer_set(submissions: Path, build_dir: Path) -> str:
    """The set named in the submissions' metadata, or the only set built; else a clear error."""
    built = sorted(p.name for p in build_dir.glob("*") if (p / "autograder.zip").is_file())
    named = set()
    for path in sorted(submissions.glob("*.ipynb")):
        try:
            named.add(nbformat.read(path, as_version=4).metadata["gencourse"]["exercise_set"])
        except Exception:  # unreadable submissions are reported when graded
            continue
    if len(named) == 1:
        return named.pop()
    if not named and len(built) == 1:
        return built[0]
    raise SystemExit(f"cannot tell which exercise set {submissions} holds (found {sorted(named) or 'none'} in the "
                     f"notebooks; built: {built or 'none'}): pass --set NAME (make grade ... SET=NAME)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m gencourse.exercises", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="generate student notebooks, public checks, autograders, book page")
    build.add_argument("--repo", type=Path, default=Path("."), help="the course repository (default: .)")
    grade = commands.add_parser("grade", help="grade a folder of submitted notebooks")
    grade.add_argument("submissions", type=Path, help="folder of submitted .ipynb files (only read, never changed)")
    grade.add_argument("--set", dest="set_name", help="exercise set, e.g. ch01 (default: from the notebooks)")
    grade.add_argument("--out", type=Path, help="results folder (default: <submissions>-graded beside it)")
    grade.add_argument("--timeout", type=float, default=120.0, help="seconds allowed per submission (default 120)")
    grade.add_argument("--jobs", type=int, default=2, help="submissions graded at once (default 2)")
    grade.add_argument("--overwrite", action="store_true", help="replace the results of an earlier run")
    grade.add_argument("--build-dir", type=Path, default=Path("build/exercises"),
                       help="where `make exercises` put the autograders (default build/exercises)")
    args = parser.parse_args(argv)

    if args.command == "build":
        from gencourse.exercises.build import build_all

        for s in build_all(args.repo):
            print(f"{s.name}: {len(s.questions)} questions, {s.points:g} points -> exercises/{s.stem}.ipynb")
        return

    from gencourse.exercises.grading import grade_folder

    submissions = args.submissions
    if not submissions.is_dir():
        raise SystemExit(f"{submissions} is not a folder: pass the folder that holds the submitted notebooks")
    set_name = args.set_name or _infer_set(submissions, args.build_dir)
    set_build = args.build_dir / set_name
    if not (set_build / "autograder.zip").is_file():
        raise SystemExit(f"no autograder for set {set_name!r} in {args.build_dir}: run `make exercises` first")
    out = args.out or submissions.resolve().parent / f"{submissions.resolve().name}-graded"
    ask = input if sys.stdin.isatty() else None
    try:
        grade_folder(submissions, set_build / "autograder.zip", set_build / "student.ipynb", out,
                     timeout=args.timeout, jobs=args.jobs, overwrite=args.overwrite, ask=ask)
    except (FileExistsError, FileNotFoundError, NotADirectoryError) as error:
        raise SystemExit(str(error)) from None


if __name__ == "__main__":
    main()
