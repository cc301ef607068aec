"""The optional disk buffer of one output: records kept on disk while the output is down.

Without it, a down output stops the reader once the memory buffer is full, and files keep their
place — but a file rotated away and deleted, or truncated, meanwhile is lost. With
``--disk-buffer-size``, every record read for that output is appended (and fsynced) to
``<state-dir>/buffer/<output>.spool`` and counts as acknowledged for the files from then on (the
checkpoint moves on, rotation can proceed); the output sends from the spool, oldest first.
Going through the disk for every record (rather than only once memory is full) keeps the
checkpoint a plain prefix of each file: nothing acknowledged can sit behind something that is
not. The spool's read and write offsets are checkpointed in the same transaction
as the positions, so a kill neither loses nor repeats what it holds: at start the file is cut
back to the committed write offset and read from the committed read offset. The file is
emptied whenever everything in it is sent; it never grows past the configured size (the reader
waits instead, as without a spool).

Record frame: ``u32 size`` then ``u64 start, u64 end, u8 split, u16 key length, u16 path
length``, the key, the path and the record's bytes.
"""

from __future__ import annotations

import os
import re
import struct
from collections.abc import Sequence
from pathlib import Path

from podkit.log_streamer.records import Record

__all__ = ["Spool"]

_HEAD = struct.Struct(">IQQBHH")


class Spool:
    """A bounded FIFO of records in one file; blocking methods run in a worker thread."""

    def __init__(self, directory: Path, output: str, max_bytes: int) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        safe = re.sub(r"[^A-Za-z0-9._-]+", "_", output).strip("_")
        self.path = directory / f"{safe}.spool"
        self.max_bytes = max_bytes
        self.read_at = 0
        self.write_at = 0
        self.fd = -1

    def open(self, state: str | None) -> None:
        """Open the file and resume from the checkpointed ``read:write`` offsets."""
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        size = os.fstat(self.fd).st_size
        read_at, write_at = 0, 0
        if state:
            read_text, _, write_text = state.partition(":")
            read_at, write_at = int(read_text), int(write_text)
        write_at = min(write_at, size)
        read_at = min(read_at, write_at)
        if size > write_at:
            os.ftruncate(self.fd, write_at)
        self.read_at, self.write_at = read_at, write_at
        if self.read_at == self.write_at:
            self._reset()

    @property
    def pending(self) -> bool:
        return self.write_at > self.read_at

    def state(self) -> str:
        return f"{self.read_at}:{self.write_at}"

    def fits(self, records: Sequence[Record]) -> bool:
        """Whether ``records`` fit under the size bound (an empty spool takes any one batch)."""
        need = sum(_HEAD.size + len(r.key) + len(r.path.encode()) + len(r.data) for r in records)
        return self.write_at == 0 or self.write_at + need <= self.max_bytes

    def append(self, records: Sequence[Record]) -> None:
        """Write ``records`` at the end and make them durable."""
        parts: list[bytes] = []
        for r in records:
            key = r.key.encode()
            path = r.path.encode("utf-8", "surrogateescape")
            size = _HEAD.size - 4 + len(key) + len(path) + len(r.data)
            parts.append(_HEAD.pack(size, r.start, r.end, int(r.split), len(key), len(path)))
            parts.extend((key, path, r.data))
        data = b"".join(parts)
        view = memoryview(data)
        offset = self.write_at
        while view:
            written = os.pwrite(self.fd, view, offset)
            view = view[written:]
            offset += written
        os.fsync(self.fd)
        self.write_at += len(data)

    def read(self, limit: int) -> tuple[list[Record], int]:
        """Up to ``limit`` records from the read offset, and the offset after them."""
        out: list[Record] = []
        at = self.read_at
        chunk = os.pread(self.fd, min(self.write_at - at, 4 * 1024 * 1024), at)
        pos = 0
        while len(out) < limit and pos + _HEAD.size <= len(chunk):
            size, start, end, split, key_len, path_len = _HEAD.unpack_from(chunk, pos)
            total = 4 + size
            if pos + total > len(chunk):
                if not out:  # one record bigger than the chunk (pos is still 0)
                    chunk = os.pread(self.fd, total, at)
                    continue
                break
            body = pos + _HEAD.size
            key = chunk[body : body + key_len].decode()
            path = chunk[body + key_len : body + key_len + path_len].decode(
                "utf-8", "surrogateescape"
            )
            data = bytes(chunk[body + key_len + path_len : pos + total])
            out.append(Record(key, path, start, end, data, bool(split)))
            pos += total
        return out, at + pos

    def consume(self, offset: int) -> None:
        """Everything before ``offset`` was delivered; empty the file when all was."""
        self.read_at = offset
        if self.read_at >= self.write_at:
            self._reset()

    def _reset(self) -> None:
        os.ftruncate(self.fd, 0)
        self.read_at = self.write_at = 0

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
