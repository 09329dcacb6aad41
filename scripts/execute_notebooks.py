"""Execute notebooks with papermill and stamp them: ``make execute`` calls this.

    python scripts/execute_notebooks.py [NOTEBOOK ...] [--profile cpu|gpu|smoke]

Each notebook is run in place in a fresh kernel with ``GENCOURSE_PROFILE`` set, from the
notebooks folder as its working directory. Its metadata then records the profile and a hash
of its code cells (see ``gencourse.notebook_stamp``); per-cell timing metadata that would
only add noise to diffs is dropped. A notebook that fails is left untouched on disk and the
error is reported; the others still run.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import papermill

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gencourse.notebook_stamp import STAMP_KEY, code_hash  # noqa: E402


def clean_metadata(nb: nbformat.NotebookNode) -> None:
    """Drop papermill's run-time metadata (timings, absolute paths) from the notebook and its cells."""
    nb.metadata.pop("papermill", None)
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)


def execute(path: Path, profile: str, timeout: int) -> float:
    """Run ``path`` in place with papermill under ``profile``; return the wall time in seconds."""
    env_before = os.environ.get("GENCOURSE_PROFILE")
    os.environ["GENCOURSE_PROFILE"] = profile
    start = time.perf_counter()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / path.name
            papermill.execute_notebook(
                str(path), str(out), cwd=str(path.parent), kernel_name="python3",
                execution_timeout=timeout, progress_bar=False, log_output=False,
            )
            nb = nbformat.read(out, as_version=4)
    finally:
        if env_before is None:
            os.environ.pop("GENCOURSE_PROFILE", None)
        else:
            os.environ["GENCOURSE_PROFILE"] = env_before
    seconds = time.perf_counter() - start
    clean_metadata(nb)
    nb.metadata[STAMP_KEY] = {"profile": profile, "code_sha256": code_hash(nb.cells), "seconds": round(seconds)}
    text = nbformat.writes(nb) + "\n"
    if str(ROOT) in text:
        print(f"warning: {path.name}: an output contains this machine's path {ROOT}; print relative paths instead")
    path.write_text(text)
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every notebooks/*.ipynb")
    parser.add_argument("--profile", default=os.environ.get("GENCOURSE_PROFILE") or "cpu",
                        choices=["smoke", "cpu", "gpu"], help="compute profile to run with (default: cpu)")
    parser.add_argument("--timeout", type=int, default=3600, help="per-cell time limit in seconds")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted((ROOT / "notebooks").glob("*.ipynb"))
    if args.profile == "smoke":
        print("note: committed notebooks should carry cpu or gpu outputs; smoke is for checks only")
    failed = []
    for path in paths:
        if not path.exists():
            print(f"error: {path} does not exist")
            failed.append(path)
            continue
        print(f"executing {path.name} (profile {args.profile}) ...", flush=True)
        try:
            seconds = execute(path.resolve(), args.profile, args.timeout)
        except Exception as error:  # noqa: BLE001 - report and go on with the others
            print(f"FAILED {path.name}: {error.__class__.__name__}: {str(error)[-2000:]}")
            failed.append(path)
            continue
        print(f"  done in {seconds:.0f} s")
    if failed:
        print(f"{len(failed)} notebook(s) failed and were left as they were: {[p.name for p in failed]}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
