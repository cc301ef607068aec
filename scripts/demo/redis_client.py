"""The demo's Redis client: talks to the ambassador as to one Redis and shows where each command
landed, from INFO commandstats on the master and on the replica."""

from __future__ import annotations

import sys
import time

import redis

ambassador, master, replica = (int(port) for port in sys.argv[1:4])
app = redis.Redis(port=ambassador, protocol=3)  # redis-py's RESP3 HELLO goes through too


def calls(port: int, command: str) -> int:
    stats = redis.Redis(port=port).info("commandstats")
    return int(stats.get(f"cmdstat_{command}", {}).get("calls", 0))


round_ = 0
while True:
    round_ += 1
    app.set("demo:greeting", f"hello #{round_}")
    for _ in range(3):
        app.get("demo:greeting")
    print(
        f"redis client: round {round_}: SET -> master {calls(master, 'set')} / replica-side "
        f"reads {calls(replica, 'get')}, master reads {calls(master, 'get')}",
        flush=True,
    )
    time.sleep(2)
