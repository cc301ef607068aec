"""Failover hold: what a session keeps while its master is away, and the wait for its return.

When a session's master connection is lost (a restart, a Sentinel failover) the session starts a
:class:`FailoverHold`: its reads in flight (safe to resend) and the batches the client sends
meanwhile are kept, and a task waits for the master (or its successor) to be healthy again,
within ``--failover-hold`` seconds. Then the session's ``on_back`` callback resends them; past
the bound, ``on_expired`` answers them with :meth:`FailoverHold.error`. A write in flight when
the connection died is never kept (it may have been applied): the session answers it with an
error before it holds the rest.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from time import monotonic

from podkit.redis_ambassador.resp import Command
from podkit.redis_ambassador.topology import Topology
from podkit.redis_ambassador.upstream import Run

__all__ = ["FailoverHold"]


class FailoverHold:
    """A session's held reads and batches, since when, why, and the task that waits."""

    __slots__ = ("_task", "batches", "reason", "runs", "since")

    def __init__(self) -> None:
        self.since: float | None = None  # None: not holding
        self.reason = ""
        self.runs: list[Run] = []  # reads in flight when the master went, to resend
        self.batches: list[tuple[bytes, list[Command]]] = []  # commands that came meanwhile
        self._task: asyncio.Task[None] | None = None

    @property
    def active(self) -> bool:
        return self.since is not None

    def keep(self, src: bytes, commands: list[Command]) -> None:
        """A batch that arrived while holding: routed when the master is back."""
        self.batches.append((src, commands))

    def start(
        self,
        reason: str,
        runs: list[Run],
        topology: Topology,
        bound: float,
        on_back: Callable[[], None],
        on_expired: Callable[[], None],
    ) -> None:
        """Keep ``runs`` (reads, safe to resend); the first call starts the wait for the master."""
        for run in runs:
            run.data = run.remaining_data()
            run.marks = None
            run.upstream = None
        if self.since is None:
            self.since = monotonic()
            self.reason = reason
            self._task = asyncio.get_running_loop().create_task(
                self._wait(topology, self.since + bound, on_back, on_expired)
            )
        self.runs.extend(runs)

    async def _wait(
        self,
        topology: Topology,
        deadline: float,
        on_back: Callable[[], None],
        on_expired: Callable[[], None],
    ) -> None:
        """Call ``on_back`` once the master is healthy again, or ``on_expired`` at the deadline."""
        while True:
            left = deadline - monotonic()
            if left <= 0:
                self._task = None
                on_expired()
                return
            if topology.master.healthy:
                break
            try:
                await asyncio.wait_for(topology.master_up.wait(), min(left, 0.5))
            except TimeoutError:
                continue
        self._task = None
        on_back()

    def release(self) -> tuple[list[Run], list[tuple[bytes, list[Command]]]]:
        """Stop holding: the kept runs and batches, handed over once."""
        runs, self.runs = self.runs, []
        batches, self.batches = self.batches, []
        self.since = None
        return runs, batches

    def cancel(self) -> None:
        """The session closes: stop waiting."""
        if self._task is not None:
            self._task.cancel()
            self._task = None

    def error(self) -> bytes:
        """The reply to each held command once the bound has passed."""
        return b"-ERR upstream " + self.reason.encode(errors="replace") + b"\r\n"
