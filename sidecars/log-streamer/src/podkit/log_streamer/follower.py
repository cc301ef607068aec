"""One open log file followed by identity, through renames, truncation and deletion.

A :class:`Follower` keeps the file descriptor it opened, so a file that is renamed
(``logrotate``'s ``create``, log4j rolling) or deleted stays readable to its end; the
:class:`~podkit.log_streamer.tailer.Tailer` tells it when its path has moved on
(:meth:`Follower.mark_rotated`) and lets it go once it has been read to the end and has not grown
for ``rotate_wait`` (a writer may keep writing to the renamed file for a while). Reads are
bounded slices meant to run in a worker thread (:meth:`Follower.read`), so the event loop never
waits on the disk. Truncation (``copytruncate``, or ``> file``) is detected by the size falling
below the read position or the first bytes changing; the follower then starts a new content
generation (new identity key) at offset 0.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from podkit.log_streamer.identity import FileIdentity, identify, matches

__all__ = ["Follower", "Slice"]


@dataclass(slots=True)
class Slice:
    """What one :meth:`Follower.read` found."""

    data: bytes
    offset: int
    """File offset of ``data[0]``."""
    size: int
    """The file's size when read."""
    truncated: FileIdentity | None = None
    """Set when the file was truncated or rewritten: the identity that ended."""
    unread: int = 0
    """With ``truncated``: bytes the old content had (as last seen) beyond what was read."""
    fresh: bool = False
    """The file was seen empty before and has content now (its identity was just taken)."""


class Follower:
    """An open file, its identity and its read position."""

    def __init__(self, path: str, fd: int, identity: FileIdentity | None, offset: int) -> None:
        self.path = path
        self.fd = fd
        st = os.fstat(fd)
        self.dev = st.st_dev
        self.ino = st.st_ino
        self.identity = identity
        self.offset = offset
        self.size = st.st_size
        self.rotated_at: float | None = None
        self.grew_at = 0.0
        self.closed = False
        self.checked = time.time()
        """Wall-clock time just after the last :meth:`read` looked at the file (or the open)."""
        self.checked_before = self.checked
        """Wall-clock time of the read before that: what the file held then was seen."""

    @classmethod
    def open(cls, path: str, expect: tuple[int, int] | None = None) -> Follower:
        """Open ``path`` read-only (raises OSError).

        A final symlink is followed only when ``expect`` gives the device and inode that
        discovery approved, and the file opened must be that one (no swap in between).
        """
        flags = os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK
        fd = os.open(path, flags if expect is not None else flags | os.O_NOFOLLOW)
        try:
            follower = cls(path, fd, identify(fd), 0)
            if expect is not None and (follower.dev, follower.ino) != expect:
                raise FileNotFoundError(f"{path} changed while it was opened")
            return follower
        except BaseException:
            os.close(fd)
            raise

    @property
    def key(self) -> str | None:
        return self.identity.key if self.identity is not None else None

    @property
    def behind(self) -> int:
        """Bytes written to the file that are not read yet, as of the last read."""
        return max(self.size - self.offset, 0)

    def mark_rotated(self, now: float) -> None:
        if self.rotated_at is None:
            self.rotated_at = now
            self.grew_at = max(self.grew_at, now)

    def read(self, limit: int) -> Slice:
        """Read up to ``limit`` bytes from the read position (blocking: run it in a thread)."""
        st = os.fstat(self.fd)
        size = st.st_size
        ended: FileIdentity | None = None
        unread = 0
        fresh = False
        if self.identity is None:
            self.identity = identify(self.fd)
            fresh = self.identity is not None
        elif size < self.offset or not matches(self.fd, self.identity):
            # (also when nothing was read yet: the content seen at open went to a copy)
            ended = self.identity
            unread = max(self.size - self.offset, 0)
            self.identity = identify(self.fd)
            self.offset = 0
        self.size = size
        self.checked_before, self.checked = self.checked, time.time()
        if size <= self.offset or self.identity is None:
            return Slice(b"", self.offset, size, ended, unread, fresh)
        data = os.pread(self.fd, min(limit, size - self.offset), self.offset)
        start = self.offset
        self.offset += len(data)
        return Slice(data, start, size, ended, unread, fresh)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            os.close(self.fd)
