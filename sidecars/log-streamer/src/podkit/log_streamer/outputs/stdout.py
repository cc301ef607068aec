"""The ``stdout`` output: each record as one line on the streamer's standard output.

Kubernetes' documented pattern for log files: the node's log agent and ``kubectl logs POD -c
CONTAINER`` see what the sidecar prints. A batch is rendered to one buffer and written by one
thread with ``os.write`` until every byte is out, so records never interleave (with each other or
with the streamer's own logs, which go to stderr) and a slow reader of the pipe never blocks the
event loop. Acknowledged when the kernel took the bytes.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence

from podkit.log_streamer.outputs.base import Output
from podkit.log_streamer.records import Record

__all__ = ["StdoutOutput", "write_all"]


def write_all(fd: int, data: bytes) -> None:
    """Write every byte of ``data`` to ``fd`` (blocking; waits out a non-blocking pipe)."""
    view = memoryview(data)
    while view:
        try:
            written = os.write(fd, view)
        except BlockingIOError:
            import select

            select.select([], [fd], [], 1.0)
            continue
        view = view[written:]


class StdoutOutput(Output):
    """Writes lines to file descriptor 1 (or ``fd``)."""

    fd = 1

    async def send(self, batch: Sequence[Record]) -> int:
        data = self.context.formatter.lines(batch, self.context.settings.format)
        await asyncio.to_thread(write_all, self.fd, data)
        return 0
