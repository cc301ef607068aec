"""Find and load the statsd_exporter conformance vectors (shared/compat/statsd beside the repo).

The vectors live outside the repository, in ``shared/compat/statsd`` next to the clone (here
``/work/shared`` beside ``/work/main``; in CI the same layout). Missing vectors are a failure,
never a skip: a green run must mean every case was checked.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

_RELATIVE = Path("shared") / "compat" / "statsd"


def compat_dir() -> Path | None:
    """The first ``shared/compat/statsd`` found walking up from this file, or None."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent / _RELATIVE
        if candidate.is_dir():
            return candidate
    return None


def load(name: str) -> tuple[list[dict[str, Any]], str | None]:
    """Load one vector file; on failure return ([], a clear reason) so the test can fail on it."""
    directory = compat_dir()
    if directory is None:
        return [], (
            f"conformance vectors not found: no {_RELATIVE} directory in any parent of "
            f"{Path(__file__).resolve().parent} (expected the shared/ folder beside the repository)"
        )
    path = directory / name
    if not path.is_file():
        return [], f"conformance vectors not found: {path} is missing"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return [], f"conformance vectors unreadable: {path}: {exc}"
    if not isinstance(data, list) or not data:
        return [], f"conformance vectors malformed: {path} is not a non-empty JSON list"
    return data, None
