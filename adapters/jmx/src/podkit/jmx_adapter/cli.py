"""The ``podkit-jmx-adapter`` command: ``podkit-jmx-adapter [HOST:]PORT CONFIG.yaml [flags]``."""

from __future__ import annotations

import sys

from podkit.core import main
from podkit.jmx_adapter.service import JmxAdapter

__all__ = ["run"]


def run() -> None:
    sys.exit(main(JmxAdapter))


if __name__ == "__main__":
    run()
