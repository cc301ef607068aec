"""The ``podkit-statsd-adapter`` command: podkit-core's ``main`` over :class:`StatsdAdapter`."""

from __future__ import annotations

import sys

from podkit.core import main
from podkit.statsd_adapter.service import StatsdAdapter

__all__ = ["run"]


def run() -> None:
    """Console-script entry point."""
    sys.exit(main(StatsdAdapter))


if __name__ == "__main__":
    run()
