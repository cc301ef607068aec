"""The ``podkit-redis-ambassador`` command: podkit-core's ``main`` over :class:`RedisAmbassador`."""

from __future__ import annotations

import sys

from podkit.core import main
from podkit.redis_ambassador.service import RedisAmbassador

__all__ = ["run"]


def run() -> None:
    """Console-script entry point."""
    sys.exit(main(RedisAmbassador))


if __name__ == "__main__":
    run()
