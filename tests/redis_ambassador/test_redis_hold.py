"""The failover hold on its own: what it keeps, and when it calls back (no servers)."""

from __future__ import annotations

import asyncio

from podkit.core import HostPort
from podkit.redis_ambassador.hold import FailoverHold
from podkit.redis_ambassador.resp.python import PyCommand
from podkit.redis_ambassador.topology import Topology
from podkit.redis_ambassador.upstream import Run


def _topology() -> Topology:
    return Topology(HostPort("127.0.0.1", 1), [])


async def test_the_master_coming_back_resumes_what_was_held() -> None:
    topology = _topology()
    hold = FailoverHold()
    events: list[str] = []
    run = Run(None, 2, b"*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPING\r\n", marks=[14, 28])
    run.got = 1  # one reply in: only the second command is resent
    hold.start(
        "lost",
        [run],
        topology,
        30.0,
        lambda: events.append("back"),
        lambda: events.append("expired"),
    )
    assert hold.active
    assert run.data == b"*1\r\n$4\r\nPING\r\n" and run.marks is None
    hold.keep(b"src", [PyCommand([b"GET", b"k"], 0, 3)])
    hold.start(
        "again",
        [],
        topology,
        30.0,
        lambda: events.append("twice"),
        lambda: events.append("expired"),
    )
    await asyncio.sleep(0.05)
    assert events == []
    topology.master.healthy = True
    topology.master_up.set()
    await asyncio.sleep(0.05)
    assert events == ["back"]  # one wait, however often the hold is extended
    runs, batches = hold.release()
    assert runs == [run] and [src for src, _ in batches] == [b"src"]
    assert not hold.active and hold.release() == ([], [])


async def test_past_the_bound_the_hold_expires_with_its_reason() -> None:
    hold = FailoverHold()
    events: list[str] = []
    hold.start(
        "master lost",
        [],
        _topology(),
        0.05,
        lambda: events.append("back"),
        lambda: events.append("expired"),
    )
    await asyncio.sleep(0.3)
    assert events == ["expired"]
    assert hold.error() == b"-ERR upstream master lost\r\n"


async def test_cancel_stops_the_wait() -> None:
    hold = FailoverHold()
    events: list[str] = []
    hold.start(
        "x", [], _topology(), 0.05, lambda: events.append("back"), lambda: events.append("expired")
    )
    hold.cancel()
    await asyncio.sleep(0.2)
    assert events == []
