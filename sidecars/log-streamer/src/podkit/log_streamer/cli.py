"""The ``podkit-log-streamer`` command: podkit-core's ``main`` over :class:`LogStreamer`."""

from __future__ import annotations

import sys

from podkit.core import main
from podkit.log_streamer.service import LogStreamer

__all__ = ["run"]


def run() -> None:
    """Console-script entry point."""
    sys.exit(main(LogStreamer))


if __name__ == "__main__":
    run()
