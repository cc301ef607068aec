"""Reply ordering: a client's replies go back in request order, however its commands were split.

A :class:`ReplyOrder` is the FIFO of a session's :class:`~.upstream.Run` objects, one per batch
of commands sent to one upstream (or one local reply), in the order the client sent them. Each
upstream fills its own runs as its replies arrive, in its own order; :meth:`ReplyOrder.take`
hands over every complete run at the head, so replies leave in request order with one write per
batch. Out-of-band frames (RESP3 pushes) go out with the next write; a pass-through run never
completes and passes its bytes on as they come. A run's ``check`` sees its reply before it
leaves; a ``discard`` run's reply (a replayed state command) is not the client's.
"""

from __future__ import annotations

from collections import deque

from podkit.redis_ambassador.upstream import FOREVER, Run

__all__ = ["ReplyOrder"]


class ReplyOrder:
    """The runs a client is owed replies for, in request order."""

    __slots__ = ("fifo", "oob")

    def __init__(self) -> None:
        self.fifo: deque[Run] = deque()
        self.oob: list[bytes] = []

    def __bool__(self) -> bool:
        return bool(self.fifo)

    def append(self, run: Run) -> None:
        self.fifo.append(run)

    def local(self, reply: bytes) -> None:
        """A reply the ambassador makes itself, in its place in the order."""
        run = Run(None, 0)
        run.chunks.append(reply)
        self.fifo.append(run)

    def out_of_band(self, frame: bytes) -> None:
        self.oob.append(frame)

    def head_ready(self) -> bool:
        fifo = self.fifo
        return bool(fifo) and fifo[0].got >= fifo[0].need

    def owed(self, route: str | None = None) -> bool:
        """Whether an upstream (on ``route``, if given) still owes a reply of a run here."""
        for run in self.fifo:
            upstream = run.upstream
            if (
                run.got < run.need
                and upstream is not None
                and (route is None or upstream.route == route)
            ):
                return True
        return False

    def take(self) -> list[bytes]:
        """The bytes ready to go, in order: out-of-band frames, then every complete run."""
        out = self.oob
        fifo = self.fifo
        while fifo:
            run = fifo[0]
            if run.got < run.need:
                if run.need == FOREVER and run.chunks:
                    out.extend(run.chunks)
                    run.chunks.clear()
                break
            fifo.popleft()
            if run.check is not None:
                run.check(b"".join(run.chunks))
            if not run.discard:
                out.extend(run.chunks)
        if out:
            self.oob = []
        return out
