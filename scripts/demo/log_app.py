"""The log streamer demo's app: numbered lines to DIR/a.log and DIR/b.log, rotated by renaming.

``python log_app.py DIR [INTERVAL] [ROTATE_EVERY]``: one line per file every INTERVAL seconds,
``a.log`` -> ``a.log.1`` -> ``a.log.2`` -> ``a.log.3`` every ROTATE_EVERY lines (the oldest
deleted), the way logback or logrotate rotate. Runs until killed.
"""

from __future__ import annotations

import os
import sys
import time

KEEP = 3


def main() -> None:
    directory = sys.argv[1]
    interval = float(sys.argv[2]) if len(sys.argv) > 2 else 1.0
    every = int(sys.argv[3]) if len(sys.argv) > 3 else 10
    names = ("a", "b")
    files = {name: open(f"{directory}/{name}.log", "a", buffering=1) for name in names}  # noqa: SIM115
    n = 0
    while True:
        for name in names:
            files[name].write(f"{name} {n:08d} an order was placed\n")
        n += 1
        if n % every == 0:
            for name in names:
                base = f"{directory}/{name}.log"
                for generation in range(KEEP, 0, -1):
                    if os.path.exists(f"{base}.{generation}"):
                        if generation == KEEP:
                            os.remove(f"{base}.{generation}")
                        else:
                            os.rename(f"{base}.{generation}", f"{base}.{generation + 1}")
                os.rename(base, f"{base}.1")
                files[name].close()
                files[name] = open(base, "a", buffering=1)  # noqa: SIM115
        time.sleep(interval)


if __name__ == "__main__":
    main()
