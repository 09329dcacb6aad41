"""The stamp a committed notebook carries: the profile it ran with and a hash of its code.

``make execute`` runs every notebook with papermill and writes this stamp into the
notebook's metadata under ``"gencourse"``. A test recomputes the hash: a notebook whose code
was edited without re-running it no longer matches its stored outputs, and fails.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

STAMP_KEY = "gencourse"
SKIPPED_TAGS = {"injected-parameters"}  # papermill's cell holds run-time values, not code


def cell_source(cell: Mapping[str, Any]) -> str:
    """A cell's source as one string (nbformat stores it as a string or a list of lines)."""
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def code_hash(cells: Sequence[Mapping[str, Any]]) -> str:
    """sha256 of the sources of the code cells, in order, ignoring papermill's injected cell."""
    sources = [
        cell_source(cell)
        for cell in cells
        if cell.get("cell_type") == "code" and not SKIPPED_TAGS & set(cell.get("metadata", {}).get("tags", []))
    ]
    return hashlib.sha256(json.dumps(sources).encode()).hexdigest()


def read_stamp(notebook: Mapping[str, Any]) -> dict[str, Any] | None:
    """The stamp of a notebook (as a JSON-like dict), or None when it was never executed by ``make execute``."""
    return notebook.get("metadata", {}).get(STAMP_KEY)
