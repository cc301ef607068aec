"""Bytes of one file -> records: line split, size bound, multi-line join, held partial line.

A :class:`Record` is the unit every later stage handles: the bytes of one line (or of several
joined lines, or of one piece of an over-long line) with the byte range it came from, so that its
id (``file key:start offset``) is stable and the checkpoint can say "everything up to ``end`` is
delivered". :class:`RecordBuilder` is fed the chunks a follower reads, in file order, and returns
finished records; it holds an unterminated last line until the rest arrives or
``partial_timeout`` passes, and a multi-line record until its next start line, its bounds, or
``multiline_timeout``. Bytes are never decoded here: invalid UTF-8 travels unchanged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

__all__ = ["BuilderStats", "Multiline", "Record", "RecordBuilder"]


class Record:
    """One log record read from a file; ``data`` excludes the line's terminating newline."""

    __slots__ = ("data", "end", "fields", "key", "parsed", "path", "split", "start", "time")

    def __init__(
        self, key: str, path: str, start: int, end: int, data: bytes, split: bool = False
    ) -> None:
        self.key = key
        self.path = path
        self.start = start
        self.end = end
        self.data = data
        self.split = split
        self.parsed = False
        self.fields: dict[str, Any] | None = None
        self.time: float | None = None

    @property
    def id(self) -> str:
        """Stable across restarts and re-sends: the file's identity key and the start offset."""
        return f"{self.key}:{self.start}"

    def text(self) -> str:
        """The record as text; invalid UTF-8 bytes are kept as ``\\xNN`` escapes, never dropped."""
        return self.data.decode("utf-8", "backslashreplace")

    def __repr__(self) -> str:
        return f"Record({self.id}, end={self.end}, data={self.data!r})"


@dataclass(frozen=True)
class Multiline:
    """How lines join: a line matching ``start`` begins a record, or a line matching
    ``continuation`` belongs to the previous one; bounded by ``max_lines`` and ``timeout``."""

    start: re.Pattern[bytes] | None = None
    continuation: re.Pattern[bytes] | None = None
    max_lines: int = 500
    timeout: float = 1.0


@dataclass
class BuilderStats:
    """What the builders of all files did that a user may want to see."""

    split: int = 0
    """Lines longer than the maximum record size, cut into pieces."""
    partial: int = 0
    """Unterminated last lines emitted after ``partial_timeout``."""


class RecordBuilder:
    """Turns one file's bytes, fed in order, into records; see the module docstring."""

    def __init__(
        self,
        key: str,
        path: str,
        offset: int,
        *,
        max_size: int,
        partial_timeout: float,
        multiline: Multiline | None = None,
        stats: BuilderStats | None = None,
    ) -> None:
        self.key = key
        self.path = path
        self.offset = offset
        self.max_size = max_size
        self.partial_timeout = partial_timeout
        self.multiline = (
            multiline if multiline and (multiline.start or multiline.continuation) else None
        )
        self.stats = stats if stats is not None else BuilderStats()
        self._partial = b""
        self._partial_start = offset
        self._partial_since = 0.0
        self._group: list[bytes] = []
        self._group_start = 0
        self._group_end = 0
        self._group_size = 0
        self._group_since = 0.0

    @property
    def held(self) -> bool:
        return bool(self._partial or self._group)

    def feed(self, data: bytes, now: float) -> list[Record]:
        """Add the next ``data`` of the file (starting at :attr:`offset`); return finished records."""
        start = self._partial_start if self._partial else self.offset
        self.offset += len(data)
        if self._partial:
            data = self._partial + data
            self._partial = b""
        if not data:
            return []
        lines = data.split(b"\n")
        tail = lines.pop()
        out: list[Record] = []
        if self.multiline is None:
            key, path, max_size = self.key, self.path, self.max_size
            append = out.append
            for line in lines:
                end = start + len(line) + 1
                if len(line) > max_size:
                    self._line(line, start, end, now, out)
                else:
                    append(Record(key, path, start, end, line))
                start = end
        else:
            for line in lines:
                end = start + len(line) + 1
                self._line(line, start, end, now, out)
                start = end
        if tail:
            if len(tail) >= self.max_size:
                # an over-long unterminated line: emit whole pieces now, hold the rest
                cut = len(tail) - len(tail) % self.max_size
                if cut == len(tail):
                    cut -= self.max_size
                for piece_start in range(0, cut, self.max_size):
                    piece = tail[piece_start : piece_start + self.max_size]
                    self._emit(piece, start, start + len(piece), True, now, out)
                    start += len(piece)
                tail = tail[cut:]
            self._partial = tail
            self._partial_start = start
            self._partial_since = now
        return out

    def _line(self, line: bytes, start: int, end: int, now: float, out: list[Record]) -> None:
        if len(line) > self.max_size:
            self.stats.split += 1
            for cut in range(0, len(line), self.max_size):
                piece = line[cut : cut + self.max_size]
                last = cut + self.max_size >= len(line)
                piece_end = end if last else start + cut + len(piece)
                self._emit(piece, start + cut, piece_end, True, now, out)
            return
        self._emit(line, start, end, False, now, out)

    def _emit(
        self, data: bytes, start: int, end: int, split: bool, now: float, out: list[Record]
    ) -> None:
        ml = self.multiline
        if ml is None:
            out.append(Record(self.key, self.path, start, end, data, split))
            return
        joins = (
            (ml.start is not None and not ml.start.search(data))
            or (ml.continuation is not None and bool(ml.continuation.search(data)))
        ) and not split
        if (
            self._group
            and joins
            and (
                len(self._group) < ml.max_lines
                and self._group_size + 1 + len(data) <= self.max_size
            )
        ):
            self._group.append(data)
            self._group_size += 1 + len(data)
            self._group_end = end
            self._group_since = now
            return
        self._flush_group(out)
        self._group = [data]
        self._group_start = start
        self._group_end = end
        self._group_size = len(data)
        self._group_since = now

    def _flush_group(self, out: list[Record]) -> None:
        if self._group:
            out.append(
                Record(
                    self.key, self.path, self._group_start, self._group_end, b"\n".join(self._group)
                )
            )
            self._group = []

    def due(self, now: float) -> float | None:
        """When :meth:`expire` will next have something to emit (monotonic time), if ever."""
        times = []
        if self._partial:
            times.append(self._partial_since + self.partial_timeout)
        if self._group and self.multiline is not None:
            times.append(self._group_since + self.multiline.timeout)
        return min(times) if times else None

    def expire(self, now: float, force: bool = False) -> list[Record]:
        """Emit what has been held too long (everything with ``force``: end of file, shutdown)."""
        out: list[Record] = []
        if self._partial and (force or now - self._partial_since >= self.partial_timeout):
            data, start = self._partial, self._partial_start
            self._partial = b""
            self.stats.partial += 1
            self._emit(data, start, start + len(data), False, now, out)
        if self._group and (
            force
            or (self.multiline is not None and now - self._group_since >= self.multiline.timeout)
        ):
            self._flush_group(out)
        return out
