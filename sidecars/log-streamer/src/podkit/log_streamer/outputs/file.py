"""The ``file:PATH`` output: records appended to a file, exactly once across kills.

Each batch is written with one ``write`` and the file's new length becomes the output's
checkpointed :meth:`~podkit.log_streamer.outputs.base.Output.state`, committed in the same
transaction as its positions. At start the file is cut back to the committed length, so what
was written after the last checkpoint (and will be read again) is not there twice.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence

from podkit.log_streamer.outputs.base import Output
from podkit.log_streamer.outputs.stdout import write_all
from podkit.log_streamer.records import Record

__all__ = ["FileOutput"]


class FileOutput(Output):
    """Appends lines to :attr:`path`."""

    fd: int | None = None
    length = 0

    @property
    def path(self) -> str:
        return self.spec.target

    async def open(self, state: str | None) -> None:
        await asyncio.to_thread(self._open, state)

    def _open(self, state: str | None) -> None:
        directory = os.path.dirname(self.path)
        if directory:
            os.makedirs(directory, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o644)
        size = os.fstat(fd).st_size
        committed = int(state) if state is not None else None
        if committed is not None and size > committed:
            os.ftruncate(fd, committed)
            self.log.info(
                "file output cut back to its checkpointed length",
                path=self.path,
                removed_bytes=size - committed,
            )
            size = committed
        self.fd = fd
        self.length = size

    async def send(self, batch: Sequence[Record]) -> int:
        data = self.context.formatter.lines(batch, self.context.settings.format)
        await asyncio.to_thread(self._write, data)
        return 0

    def _write(self, data: bytes) -> None:
        assert self.fd is not None
        os.lseek(self.fd, self.length, os.SEEK_SET)
        write_all(self.fd, data)
        self.length += len(data)

    def state(self) -> str | None:
        return str(self.length)

    async def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
