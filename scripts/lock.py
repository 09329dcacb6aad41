"""Print the pinned toolchain (``make lock`` writes it to requirements/constraints.txt).

The versions come from the current environment. Left out: the course package itself, and
the CUDA runtime wheels that torch pulls in on Linux (they follow from torch's own pin and do
not exist on other platforms).
"""

from __future__ import annotations

import subprocess
import sys

SKIP_PREFIXES = ("gencourse", "nvidia-", "triton", "cuda-", "pip", "setuptools", "wheel")


def main() -> None:
    frozen = subprocess.run(
        [sys.executable, "-m", "pip", "freeze", "--exclude-editable"], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    print("# The toolchain that builds and tests the course, pinned. Regenerate with `make lock`.")
    print("# The gencourse package itself only has lower bounds (pyproject.toml).")
    for line in sorted(frozen, key=str.lower):
        name = line.split("==")[0].lower()
        if "==" in line and not name.startswith(SKIP_PREFIXES):
            print(line)


if __name__ == "__main__":
    main()
