"""The ``--touch-file``: touched after every sync that publishes (and the first), for probes."""

from __future__ import annotations

import os
from pathlib import Path


def touch(path: Path) -> None:
    """Create ``path`` or update its access and modification times to now."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.utime(path)
    except FileNotFoundError:
        path.touch()
