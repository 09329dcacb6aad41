"""The package as Colab installs it: a wheel built from the repository holds every module and checkpoint."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_wheel_holds_every_module_and_checkpoint(tmp_path):
    # Build from a clean copy: a stale *.egg-info or build/ folder in the work tree would hide a gap.
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".git", ".venv", "_build", "build", "*.egg-info",
                                                                  "notebooks", "book", "node_modules"))
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", str(source),
         "-w", str(tmp_path)],
        check=True, capture_output=True,
    )
    (wheel,) = tmp_path.glob("gencourse-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    tracked = subprocess.run(["git", "ls-files", "gencourse"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.split()
    missing = [path for path in tracked if path.endswith((".py", ".pt", ".json")) and path not in names]
    assert not missing, f"files a pip install from the repository would leave out: {missing}"


def test_readme_lists_every_benchmark_and_evaluation_script():
    """The README's table of the scripts that print the course's targets names each of them, and only real ones."""
    readme = (ROOT / "README.md").read_text()
    listed = set(re.findall(r"^\| `(scripts/(?:benchmark|evaluate)_\w+\.py)` \|", readme, flags=re.MULTILINE))
    on_disk = {f"scripts/{p.name}" for p in (ROOT / "scripts").glob("*.py")
               if p.name.startswith(("benchmark_", "evaluate_"))}
    assert listed == on_disk, (f"README lists {sorted(listed - on_disk)}, which do not exist, "
                               f"and misses {sorted(on_disk - listed)}")
