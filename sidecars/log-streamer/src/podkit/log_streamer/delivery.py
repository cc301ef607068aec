"""One output's buffer, batching, retries and acknowledged positions: a :class:`Channel`.

The tailer hands each channel the records it reads, in file order. :meth:`Channel.put` waits
while the channel already holds ``buffer_records`` (back-pressure: the tailer stops reading and
the files keep their place), so a slow or dead output never makes the streamer drop a line or
grow without bound. The channel's sender takes up to ``batch_records`` at a time, calls the
output's ``send`` until it succeeds (backing off from 100 ms to ``retry_max_backoff``), and only
then advances :attr:`Channel.acked`, the positions the checkpoint writes for this output. A
:class:`Finished` marker, queued behind a file's last records, says the file is done once they are
acknowledged, so its checkpoint row can go. With a disk buffer (:mod:`.spool`) every record
goes through it instead of the memory queue.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from podkit.core import one_line
from podkit.log_streamer.outputs.base import Output, OutputError
from podkit.log_streamer.records import Record
from podkit.log_streamer.spool import Spool

__all__ = ["Channel", "ChannelStats", "Finished"]


@dataclass(frozen=True, slots=True)
class Finished:
    """Queued after a file's last record: the file (content generation ``key``) is done."""

    key: str
    path: str
    end: int


@dataclass
class ChannelStats:
    sent: int = 0
    failed: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    up: bool = True
    last_error: str = ""


class Channel:
    """See the module docstring."""

    def __init__(
        self,
        output: Output,
        *,
        batch_records: int,
        buffer_records: int,
        max_backoff: float,
        skip: dict[str, int] | None = None,
        spool: Spool | None = None,
    ) -> None:
        self.output = output
        self.name = output.name
        self.batch_records = batch_records
        self.buffer_records = buffer_records
        self.max_backoff = max_backoff
        self.skip = dict(skip or {})
        """Per file key, the offset this output had already acknowledged before a restart."""
        self.spool = spool
        self._spool_lock = asyncio.Lock()
        self.spool_state: str | None = spool.state() if spool is not None else None
        self.stats = ChannelStats()
        self.acked: dict[str, tuple[str, int]] = {}
        self.acked_state: str | None = None
        self.dirty: set[str] = set()
        self.finished: list[str] = []
        self._queue: deque[list[Record] | Finished] = deque()
        """Chunks of records (as the tailer handed them) and end-of-file markers, in order."""
        self._records = 0
        self._sending = 0
        self._space = asyncio.Event()
        self._space.set()
        self._ready = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def buffered(self) -> int:
        """Records held in memory (queued or being sent)."""
        return self._records + self._sending

    @property
    def spooled_bytes(self) -> int:
        return self.spool.write_at - self.spool.read_at if self.spool is not None else 0

    async def put(self, records: Sequence[Record]) -> None:
        """Queue ``records``; waits while the buffer is full."""
        if self.skip:
            records = self._unskipped(records)
        if not records:
            return
        if self.spool is not None:
            await self._spill(records)
            return
        while self._records + self._sending >= self.buffer_records:
            self._space.clear()
            await self._space.wait()
        self._queue.append(list(records))
        self._records += len(records)
        self._idle.clear()
        self._ready.set()

    async def _spill(self, records: Sequence[Record]) -> None:
        """Append to the disk buffer (waiting while it is full); the records count as
        acknowledged for the files from then on."""
        spool = self.spool
        assert spool is not None
        while not spool.fits(records):
            self._space.clear()
            await self._space.wait()
        async with self._spool_lock:
            await asyncio.to_thread(spool.append, records)
            self._ack(records)
            self.spool_state = spool.state()
        self._idle.clear()
        self._ready.set()

    def finish(self, marker: Finished) -> None:
        """Queue the end of a file (never waits: markers are tiny and few)."""
        self.skip.pop(marker.key, None)
        self._queue.append(marker)
        self._idle.clear()
        self._ready.set()

    async def drained(self) -> None:
        """Wait until everything queued is acknowledged."""
        await self._idle.wait()

    def _unskipped(self, records: Sequence[Record]) -> Sequence[Record]:
        """Drop records this output acknowledged before a restart (others may not have)."""
        skip = self.skip
        if records[0].key not in skip and records[-1].key not in skip:
            return records  # (a chunk comes from one file)
        out = [r for r in records if r.end > skip.get(r.key, -1)]
        for r in out:
            skip.pop(r.key, None)  # past the old position: nothing more to skip in this file
        return out

    def _take(self) -> list[list[Record] | Finished]:
        batch: list[list[Record] | Finished] = []
        count = 0
        queue = self._queue
        room = self.batch_records
        while queue and count < room:
            item = queue.popleft()
            if isinstance(item, list) and count + len(item) > room:
                cut = room - count
                queue.appendleft(item[cut:])
                item = item[:cut]
            batch.append(item)
            if isinstance(item, list):
                count += len(item)
        self._records -= count
        self._sending = count
        return batch

    async def run(self) -> None:
        """The sender loop; runs until cancelled."""
        output = self.output
        while True:
            if not self._queue and self.spool is not None and self.spool.pending:
                await self._send_spooled()
                continue
            if not self._queue:
                self._sending = 0
                self._idle.set()
                self._ready.clear()
                await self._ready.wait()
                if output.linger and self._records < self.batch_records:
                    await asyncio.sleep(output.linger)
            batch = self._take()
            records = [r for item in batch if isinstance(item, list) for r in item]
            if records:
                await self._deliver(records)
            for item in batch:
                if isinstance(item, Finished):
                    self.acked.pop(item.key, None)
                    self.dirty.discard(item.key)
                    self.finished.append(item.key)
            self._sending = 0
            if self._records < self.buffer_records:
                self._space.set()

    async def _send_spooled(self) -> None:
        spool = self.spool
        assert spool is not None
        async with self._spool_lock:
            records, after = await asyncio.to_thread(spool.read, self.batch_records)
        if records:
            await self._deliver(records, ack=False)
        async with self._spool_lock:
            await asyncio.to_thread(spool.consume, after)
            self.spool_state = spool.state()
        self._space.set()

    async def _deliver(self, records: list[Record], ack: bool = True) -> None:
        backoff = 0.1
        while True:
            try:
                dropped = await self.output.send(records)
            except (OutputError, OSError) as exc:
                self.stats.failed += len(records)
                error = one_line(exc)
                if self.stats.up or error != self.stats.last_error:
                    self.output.log.warning(
                        "output failed; retrying",
                        output=self.name,
                        error=error,
                        records=len(records),
                        retry_in_seconds=round(backoff, 2),
                    )
                self.stats.up = False
                self.stats.last_error = error
                hint = getattr(exc, "retry_after", None)
                await asyncio.sleep(max(backoff, min(hint, self.max_backoff)) if hint else backoff)
                backoff = min(backoff * 2, max(self.max_backoff, 0.1))
                continue
            break
        if not self.stats.up:
            self.output.log.info("output recovered", output=self.name)
        self.stats.up = True
        self.stats.sent += len(records) - dropped
        if dropped:
            self.stats.dropped["rejected"] = self.stats.dropped.get("rejected", 0) + dropped
        if ack:
            self._ack(records)
        self.acked_state = self.output.state()

    def _ack(self, records: Sequence[Record]) -> None:
        acked, dirty = self.acked, self.dirty
        previous: Record | None = None
        for record in records:
            if previous is not None and record.key != previous.key:
                acked[previous.key] = (previous.path, previous.end)
                dirty.add(previous.key)
            previous = record
        if previous is not None:
            acked[previous.key] = (previous.path, previous.end)
            dirty.add(previous.key)

    def take_changes(
        self,
    ) -> tuple[list[tuple[str, str, int]], list[str], str | None, str | None]:
        """Positions changed and files finished since the last call, the output's state and the
        disk buffer's, all as of the same moment."""
        rows = [(key, *self.acked[key]) for key in self.dirty if key in self.acked]
        self.dirty.clear()
        finished, self.finished = self.finished, []
        return rows, finished, self.acked_state, self.spool_state

    def seed(self, positions: Iterable[tuple[str, str, int]]) -> None:
        """Positions from the checkpoint (not dirty: they are already written)."""
        for key, path, offset in positions:
            self.acked[key] = (path, offset)
