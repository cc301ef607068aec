"""Which files to follow: glob patterns, excludes, the symlink rule, and change notification.

:meth:`Discovery.scan` (blocking; run it in a thread) expands the ``--path`` globs, drops what
an ``--exclude`` glob matches, and keeps only regular files. A symlink is followed only when its
target stays inside the directory its pattern names (the pattern's part before the first glob
character), unless ``follow_symlinks`` allows any target: a sidecar that reads a shared volume
must not be talked into reading ``/etc/shadow`` by a link the app put there.

:class:`Watcher` wakes the tailer when something changes in the watched directories: inotify
through ``ctypes`` where the kernel has it, else nothing (the tailer polls every
``poll_interval`` either way, so a missed or unavailable event only costs latency).
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import fnmatch
import glob
import os
import stat
import struct
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Discovery", "Found", "Watcher"]

_GLOB_CHARS = frozenset("*?[")


@dataclass(frozen=True, slots=True)
class Found:
    """A file a pattern matched, with the device and inode ``stat`` saw."""

    path: str
    dev: int
    ino: int
    size: int


def _base(pattern: str) -> str:
    """The directory part of ``pattern`` before its first glob character."""
    parts = Path(pattern).parts
    fixed: list[str] = []
    for part in parts[:-1]:
        if _GLOB_CHARS & set(part):
            break
        fixed.append(part)
    return os.path.join(*fixed) if fixed else "."


class Discovery:
    """Expands globs into the regular files to follow; see the module docstring."""

    def __init__(
        self,
        patterns: Iterable[str],
        excludes: Iterable[str] = (),
        *,
        follow_symlinks: bool = False,
    ) -> None:
        self.patterns = list(patterns)
        self.excludes = list(excludes)
        self.follow_symlinks = follow_symlinks
        self.bases = [os.path.realpath(_base(p)) for p in self.patterns]

    def directories(self) -> list[str]:
        """Directories to watch: every existing directory a pattern's files may be in."""
        dirs: set[str] = set()
        for pattern in self.patterns:
            for match in glob.glob(os.path.dirname(pattern) or "."):
                if os.path.isdir(match):
                    dirs.add(match)
        return sorted(dirs)

    def excluded(self, path: str) -> bool:
        name = os.path.basename(path)
        return any(
            fnmatch.fnmatchcase(path, ex) or fnmatch.fnmatchcase(name, ex) for ex in self.excludes
        )

    def _inside(self, target: str, base: str) -> bool:
        return target == base or target.startswith(base.rstrip(os.sep) + os.sep)

    def scan(self) -> list[Found]:
        """The files to follow now, in a stable order (blocking: run it in a thread)."""
        out: dict[str, Found] = {}
        for pattern, base in zip(self.patterns, self.bases, strict=True):
            for path in sorted(glob.glob(pattern)):
                if path in out or self.excluded(path):
                    continue
                try:
                    lst = os.lstat(path)
                    if stat.S_ISLNK(lst.st_mode):
                        target = os.path.realpath(path)
                        if not self.follow_symlinks and not self._inside(target, base):
                            continue
                        st = os.stat(path)
                    else:
                        st = lst
                except OSError:
                    continue
                if stat.S_ISREG(st.st_mode):
                    out[path] = Found(path, st.st_dev, st.st_ino, st.st_size)
        return list(out.values())

    def allowed_target(self, path: str) -> bool:
        """Whether ``path`` (a rotated sibling found again at start) may be opened."""
        if self.follow_symlinks or not os.path.islink(path):
            return True
        target = os.path.realpath(path)
        return any(self._inside(target, base) for base in self.bases)


# --- inotify ---------------------------------------------------------------------------------

_IN_MODIFY = 0x2
_IN_ATTRIB = 0x4
_IN_CLOSE_WRITE = 0x8
_IN_MOVED_FROM = 0x40
_IN_MOVED_TO = 0x80
_IN_CREATE = 0x100
_IN_DELETE = 0x200
_IN_DELETE_SELF = 0x400
_IN_MOVE_SELF = 0x800
_MASK = (
    _IN_MODIFY
    | _IN_ATTRIB
    | _IN_CLOSE_WRITE
    | _IN_MOVED_FROM
    | _IN_MOVED_TO
    | _IN_CREATE
    | _IN_DELETE
    | _IN_DELETE_SELF
    | _IN_MOVE_SELF
)
_IN_Q_OVERFLOW = 0x4000
_NAMES_CHANGED = (
    _IN_MOVED_FROM
    | _IN_MOVED_TO
    | _IN_CREATE
    | _IN_DELETE
    | _IN_DELETE_SELF
    | _IN_MOVE_SELF
    | _IN_Q_OVERFLOW
)
_IN_NONBLOCK = os.O_NONBLOCK
_IN_CLOEXEC = os.O_CLOEXEC
_EVENT = struct.Struct("iIII")


class Watcher:
    """inotify on directories, as an ``on_change(rescan)`` callback on the event loop; ``rescan``
    is true when names changed (created, moved, deleted), false when files were only written."""

    def __init__(self, on_change: Callable[[bool], None]) -> None:
        self.on_change = on_change
        self.fd: int | None = None
        self._libc: ctypes.CDLL | None = None
        self._watched: dict[str, int] = {}
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def active(self) -> bool:
        return self.fd is not None

    def start(self, loop: asyncio.AbstractEventLoop) -> bool:
        """Start inotify; ``False`` when it is not available (polling only)."""
        name = ctypes.util.find_library("c")
        try:
            libc = ctypes.CDLL(name or "libc.so.6", use_errno=True)
            fd = int(libc.inotify_init1(_IN_NONBLOCK | _IN_CLOEXEC))
        except (OSError, AttributeError):
            return False
        if fd < 0:
            return False
        self._libc, self.fd, self._loop = libc, fd, loop
        loop.add_reader(fd, self._readable)
        return True

    def watch(self, directories: Iterable[str]) -> None:
        """Watch every directory in ``directories`` not watched yet (one that vanished is dropped)."""
        if self.fd is None or self._libc is None:
            return
        for directory in directories:
            if directory in self._watched:
                continue
            wd = int(self._libc.inotify_add_watch(self.fd, os.fsencode(directory), _MASK))
            if wd >= 0:
                self._watched[directory] = wd

    def _readable(self) -> None:
        assert self.fd is not None
        try:
            data = os.read(self.fd, 65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        gone = False
        rescan = not data  # an overflowed or broken queue: look at everything
        pos = 0
        while pos + _EVENT.size <= len(data):
            _wd, mask, _cookie, length = _EVENT.unpack_from(data, pos)
            pos += _EVENT.size + length
            if mask & (_IN_DELETE_SELF | _IN_MOVE_SELF):
                gone = True
            if mask & _NAMES_CHANGED:
                rescan = True
        if gone:
            # a watched directory went away; re-add watches on the next scan
            self._watched = {d: w for d, w in self._watched.items() if os.path.isdir(d)}
        self.on_change(rescan)

    def close(self) -> None:
        if self.fd is not None:
            if self._loop is not None:
                self._loop.remove_reader(self.fd)
            os.close(self.fd)
            self.fd = None
