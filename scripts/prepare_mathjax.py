"""Copy a local MathJax 3 into the book's static files, so the website typesets offline.

The book sets Sphinx's ``mathjax_path`` to ``mathjax/tex-chtml.js``, a path inside
``book/_static/``; by default Jupyter Book would load MathJax from a CDN instead, and a
reader (or a browser test) without internet would see raw ``\\( ... \\)`` text.

The MathJax files come from the PyPI package ``django-static-mathjax`` (it ships MathJax's
``es5/`` build as package data under ``mathjax/static/mathjax/``; the package is installed
without its Django dependency, ``pip install --no-deps django-static-mathjax==3.2.2.1``).
The copy goes to ``book/_static/mathjax/``, which is gitignored, and is skipped when it is
already up to date (same files, same sizes, same MathJax version), so the Makefile can run
this script before every build::

    python scripts/prepare_mathjax.py            # copy if needed
    python scripts/prepare_mathjax.py --force    # copy again
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEST = REPO / "book" / "_static" / "mathjax"
STAMP = ".gencourse-mathjax-stamp"  # a dotfile: Sphinx does not copy it into the site
PACKAGE = "django-static-mathjax"
ENTRY = "tex-chtml.js"  # what _config.yml's mathjax_path points at


def find_source() -> tuple[Path, str]:
    """The installed MathJax ``es5/`` folder and MathJax's version, or exit with a clear message."""
    spec = importlib.util.find_spec("mathjax")  # finds the package without importing Django
    roots = list(spec.submodule_search_locations or []) if spec else []
    for root in roots:
        es5 = Path(root) / "static" / "mathjax" / "es5"
        if (es5 / ENTRY).is_file():
            package_json = es5.parent / "package.json"
            version = "unknown"
            if package_json.is_file():
                version = json.loads(package_json.read_text(encoding="utf8")).get("version", version)
            return es5, version
    sys.exit(
        f"prepare_mathjax: no MathJax 3 found (looked for mathjax/static/mathjax/es5/{ENTRY} "
        f"in the Python package 'mathjax').\n"
        f"Install it into this environment with:\n"
        f"    {sys.executable} -m pip install --no-deps '{PACKAGE}==3.2.2.1'"
    )


def fingerprint(folder: Path, version: str) -> str:
    """A hash of MathJax's version and every file's relative path and size."""
    digest = hashlib.sha256(version.encode())
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.name != STAMP):
        digest.update(f"{path.relative_to(folder).as_posix()}\0{path.stat().st_size}\n".encode())
    return digest.hexdigest()


def prepare(dest: Path = DEST, force: bool = False) -> bool:
    """Copy MathJax to ``dest`` unless it is already there; return whether anything was copied."""
    source, version = find_source()
    wanted = fingerprint(source, version)
    stamp = dest / STAMP
    if not force and stamp.is_file() and stamp.read_text().strip() == wanted:
        if fingerprint(dest, version) == wanted:  # nobody deleted or truncated a file since
            print(f"prepare_mathjax: MathJax {version} already in {dest.relative_to(REPO)}")
            return False
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(source, dest)
    stamp.write_text(wanted + "\n")
    print(f"prepare_mathjax: copied MathJax {version} from {source} to {dest.relative_to(REPO)}")
    return True


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="copy even if the copy looks up to date")
    args = parser.parse_args(argv)
    prepare(force=args.force)


if __name__ == "__main__":
    main()
