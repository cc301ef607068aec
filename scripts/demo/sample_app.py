"""A sample app for `make demo`: sends StatsD traffic to the adapter like an instrumented shop."""

from __future__ import annotations

import random
import socket
import sys
import time

port = int(sys.argv[1]) if len(sys.argv) > 1 else 9125
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
handlers = ["home", "cart", "checkout"]
while True:
    lines = []
    for handler in handlers:
        lines.append(f"shop.{handler}.requests:1|c")
        lines.append(f"shop.{handler}.latency:{random.expovariate(1 / 80):.1f}|ms")
    lines.append(f"shop.queue.depth:{random.randint(0, 20)}|g")
    lines.append(f"shop.visitors:user{random.randint(1, 50)}|s")
    lines.append("shop.debug.noise:1|c")
    sock.sendto("\n".join(lines).encode(), ("127.0.0.1", port))
    time.sleep(0.2)
