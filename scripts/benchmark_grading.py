"""Time the grading of a class: 20 submissions of the chapter-1 exercise set.

    make exercises && python scripts/benchmark_grading.py [--jobs 2] [--timeout 120]

The 20 notebooks are the ten sample submissions of tests/exercise_submissions.py (reference
solution, untouched, planted mistakes, invalid JSON, an empty file, a notebook without cells,
an infinite loop, a crash in the first cell, a deleted check cell, a renamed function) and ten
more copies of the reference, untouched and planted ones. The infinite loop costs one worker
the whole time limit. Prints the wall time of the batch and the mean time per submission that
ran to the end.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from exercise_submissions import make_submissions  # noqa: E402

from gencourse.exercises.grading import grade_folder  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--build-dir", type=Path, default=ROOT / "build" / "exercises" / "ch01")
    args = parser.parse_args()
    if not (args.build_dir / "autograder.zip").is_file():
        raise SystemExit(f"no autograder in {args.build_dir}: run `make exercises` first")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "submissions"
        make_submissions(folder, args.build_dir)
        extra = ["reference.ipynb", "untouched.ipynb", "planted.ipynb"]
        for i in range(20 - len(list(folder.iterdir()))):
            name = extra[i % len(extra)]
            shutil.copyfile(folder / name, folder / f"{Path(name).stem}_{i:02d}.ipynb")
        n = len(list(folder.iterdir()))
        start = time.perf_counter()
        rows = grade_folder(folder, args.build_dir / "autograder.zip", args.build_dir / "student.ipynb",
                            Path(tmp) / "results", timeout=args.timeout, jobs=args.jobs, progress=False)
        seconds = time.perf_counter() - start
    stopped = ("not a valid notebook", "file is empty", "has no code", "time limit")
    ran = [r for r in rows if not any(reason in e for e in r.errors for reason in stopped)]
    print(f"machine: {os.cpu_count()} cores; jobs={args.jobs}; time limit {args.timeout:g} s per submission")
    print(f"graded {n} chapter-1 submissions in {seconds:.1f} s ({seconds / n:.1f} s per submission on average)")
    print(f"mean time of a submission that ran to the end: {sum(r.seconds for r in ran) / len(ran):.1f} s "
          f"({len(ran)} of them; the infinite loop alone took {max(r.seconds for r in rows):.1f} s)")


if __name__ == "__main__":
    main()
