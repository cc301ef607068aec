"""The reading loop: discovery -> followers -> record builders -> channels.

:class:`Tailer` owns every open :class:`~podkit.log_streamer.follower.Follower`. Each pass
(woken by inotify, a held record coming due, or ``poll_interval``) it rescans the globs, notices
rotation (a path now naming another inode: the old file is kept open and marked rotated; a path
gone: deleted or renamed away), reads each file in bounded slices in a worker thread, turns the
bytes into records and hands them to every channel — waiting when a channel is full, so reading
never outruns delivery by more than the channels' buffers. A rotated file is closed once read to
the end and quiet for ``rotate_wait``; its last records are flushed and a ``Finished`` marker
queued behind them.

At start, a file is resumed from the checkpoint when its device, inode and fingerprint match a
saved row; a saved file that no pattern matches any more (rotated away while the streamer was
down: ``app.log`` -> ``app.log.1``) is looked for by inode in its directory and read to its end.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from podkit.core import Logger
from podkit.log_streamer.delivery import Channel, Finished
from podkit.log_streamer.discovery import Discovery, Found, Watcher
from podkit.log_streamer.follower import Follower
from podkit.log_streamer.identity import FileIdentity, matches
from podkit.log_streamer.records import BuilderStats, Multiline, Record, RecordBuilder

__all__ = ["FileStats", "Tailer", "TailerOptions"]

_CLOCK_SLACK = 0.05
_COMPRESSED = (".gz", ".bz2", ".xz", ".zst", ".lz4", ".zip", ".Z")


@dataclass
class FileStats:
    """Counters of one followed path (the path a pattern matched, not a rotated name)."""

    lines: int = 0
    bytes: int = 0
    rotations: int = 0
    truncations: int = 0
    behind: int = 0


@dataclass
class TailerOptions:
    read_slice: int = 256 * 1024
    poll_interval: float = 1.0
    rotate_wait: float = 5.0
    read_from_end: bool = False
    max_record_size: int = 256 * 1024
    partial_timeout: float = 1.0
    multiline: Multiline | None = None


@dataclass
class _Open:
    follower: Follower
    builder: RecordBuilder | None
    stats: FileStats
    path: str
    """The path the file was found under (records and metrics keep it through renames)."""
    predecessor: _Open | None = None
    """The file this path named before a rotation: read to its end before this one."""
    confirmed: float = field(default_factory=time.time)
    """Wall-clock time of the last scan that found the path naming this file."""
    ended: deque[FileIdentity] = field(default_factory=lambda: deque(maxlen=16))
    """The content generations of this file that ended (copytruncate), newest last."""

    def waiting(self) -> bool:
        """Whether the predecessor still has bytes to read (keeps lines in order per path)."""
        before = self.predecessor
        while before is not None and before.follower.closed:
            before = before.predecessor
        self.predecessor = before
        return before is not None and before.follower.behind > 0


@dataclass
class TailerState:
    files: dict[str, FileStats] = field(default_factory=dict)
    builder: BuilderStats = field(default_factory=BuilderStats)
    gone: int = 0
    dropped_bytes: dict[str, int] = field(default_factory=dict)


class Tailer:
    """See the module docstring."""

    def __init__(
        self,
        discovery: Discovery,
        channels: Sequence[Channel],
        starts: dict[str, tuple[str, int]],
        options: TailerOptions,
        log: Logger,
        clock: Callable[[], float] = time.monotonic,
        *,
        since: float | None = None,
        register: Callable[[list[tuple[str, str, int]]], Awaitable[None]] | None = None,
    ) -> None:
        self.discovery = discovery
        self.channels = list(channels)
        self.options = options
        self.log = log
        self.clock = clock
        self.state = TailerState()
        self._starts = dict(starts)
        self._since = since
        self._register = register
        self._new: list[tuple[str, str, int]] = []
        self._saved_paths = {path for path, _ in starts.values()}
        self._by_inode: dict[tuple[int, int], list[FileIdentity]] = {}
        for key in self._starts:
            ident = FileIdentity.from_key(key)
            self._by_inode.setdefault((ident.dev, ident.ino), []).append(ident)
        self._by_path: dict[str, _Open] = {}
        self._open: list[_Open] = []
        self._wake = asyncio.Event()
        self._rescan = True
        self._stopping = False
        self._first = True
        self._lock = asyncio.Lock()
        self.first_pass = asyncio.Event()
        """Set once the files found at start have been opened (and their identities saved)."""
        self._last_rotated: dict[str, _Open] = {}
        self._failed: set[str] = set()
        self._previous_scan: float | None = None
        self._pending_since: dict[str, float] = {}
        self._closed: dict[tuple[int, int], FileIdentity] = {}
        """Identities of files read to their end and let go (not to be read again)."""
        self._registered: set[str] = set(starts)
        self.watcher: Watcher | None = None
        """Told about the directories to watch after each scan."""

    # --- wake-ups --------------------------------------------------------------------------------

    def wake(self, rescan: bool = True) -> None:
        """Something changed (inotify); ``rescan`` when the set of files may have changed."""
        self._rescan = self._rescan or rescan
        self._wake.set()

    @property
    def open_files(self) -> int:
        return len(self._open)

    async def run(self) -> None:
        """Pass after pass until :meth:`stop`."""
        while not self._stopping:
            await self.cycle()
            if self._stopping:
                break
            timeout = self.options.poll_interval
            now = self.clock()
            for entry in self._open:
                if entry.builder is not None:
                    due = entry.builder.due(now)
                    if due is not None:
                        timeout = min(timeout, max(due - now, 0.0))
                if entry.follower.rotated_at is not None:
                    timeout = min(timeout, max(self.options.rotate_wait / 2, 0.05))
            try:
                await asyncio.wait_for(self._wake.wait(), timeout)
            except TimeoutError:
                self._rescan = True
            self._wake.clear()

    async def stop(self) -> None:
        """Read what is in the files now, flush every held record, then stop."""
        self._stopping = True
        self._wake.set()
        self._rescan = True
        await self.cycle(final=True)

    # --- one pass --------------------------------------------------------------------------------

    def _scan(self) -> tuple[list[Found], list[str]]:
        found = self.discovery.scan()
        return found, self.discovery.directories() if self.watcher is not None else []

    async def cycle(self, final: bool = False) -> None:
        """One pass; passes never overlap (the final one waits for the running one)."""
        async with self._lock:
            await self._cycle(final)

    async def _cycle(self, final: bool) -> None:
        now = self.clock()
        if self._rescan or final:
            self._rescan = False
            found, directories = await asyncio.to_thread(self._scan)
            if self.watcher is not None:
                self.watcher.watch(directories)
            await self._reconcile(found, now)
            await self._flush_new()
            self.first_pass.set()
        busy = True
        while busy:
            busy = False
            for entry in list(self._open):
                if entry.waiting():
                    busy = True
                    continue
                if await self._read_once(entry):
                    busy = True
        now = self.clock()
        for entry in list(self._open):
            builder = entry.builder
            if builder is not None and builder.held:
                await self._deliver(builder.expire(now, force=final))
            follower = entry.follower
            if follower.rotated_at is not None and (
                final is False
                and follower.offset >= follower.size
                and now - follower.grew_at >= self.options.rotate_wait
            ):
                await self._close(entry)
        for entry in self._open:
            entry.stats.behind = entry.follower.behind

    async def _reconcile(self, found: list[Found], now: float) -> None:
        scanned = time.time()
        seen: set[str] = set()
        if self._first:
            await self._recover_rotated(now, found)
        for item in found:
            seen.add(item.path)
            entry = self._by_path.get(item.path)
            before = self._last_rotated.get(item.path)
            if entry is not None:
                f = entry.follower
                if (f.dev, f.ino) == (item.dev, item.ino):
                    entry.confirmed = scanned
                    continue
                # the path names another file now: the one we had was rotated away
                self._rotated(entry, now)
                before = await self._catch_missed(entry.path, entry.confirmed, entry, now)
            moved = next(
                (e for e in self._open if (e.follower.dev, e.follower.ino) == (item.dev, item.ino)),
                None,
            )
            if moved is not None:
                # a followed file renamed to another matched name: keep following it by identity
                if self._by_path.get(moved.follower.path) is moved:
                    del self._by_path[moved.follower.path]
                moved.follower.path = item.path
                moved.follower.rotated_at = None
                self._by_path[item.path] = moved
                continue
            since: float | None = None
            if entry is None and not self._first:
                # a path that had vanished, or is new: files may have come and gone under it
                # since it was last looked at
                since = self._pending_since.get(item.path, before.confirmed if before else None)
                since = self._previous_scan if since is None else since
                if since is not None:
                    before = await self._catch_missed(item.path, since, before, now)
            added = await self._add(item, at_start=self._first)
            if added is None and since is not None:
                self._pending_since.setdefault(item.path, since)
            elif added is not None:
                self._pending_since.pop(item.path, None)
            if added is not None and before is not None and before is not added:
                added.predecessor = before
        for path, entry in list(self._by_path.items()):
            if path not in seen:
                self._rotated(entry, now)
                await self._catch_missed(entry.path, entry.confirmed, entry, now)
        self._previous_scan = scanned
        if self._first:
            self._first = False
            for key, (path, offset) in self._starts.items():
                # saved files whose inode now holds other content: they are gone
                self.state.gone += 1
                for channel in self.channels:
                    channel.finish(Finished(key, path, offset))
            self._starts.clear()

    def _rotated(self, entry: _Open, now: float) -> None:
        follower = entry.follower
        if self._by_path.get(follower.path) is entry:
            del self._by_path[follower.path]
        self._last_rotated[entry.path] = entry
        if follower.rotated_at is None:
            entry.stats.rotations += 1
            follower.mark_rotated(now)
            self.log.info("file rotated; reading the old one to its end", path=follower.path)

    async def _catch_missed(
        self, path: str, since: float, last: _Open | None, now: float
    ) -> _Open | None:
        """Rotated generations of ``path`` that appeared and were rotated away between two
        scans (a busy streamer, a fast writer), changed after ``since``: followed after
        ``last``, oldest first. Returns the last file of that chain."""
        known = {(e.follower.dev, e.follower.ino) for e in self._open}
        missed = await asyncio.to_thread(self._unseen_siblings, path, known, since)
        for follower in sorted(missed, key=lambda f: os.fstat(f.fd).st_mtime):
            follower.mark_rotated(now)
            added = _Open(
                follower, None, self._stats(path), path, predecessor=last, confirmed=since
            )
            self._make_builder(added)
            self._open.append(added)
            self._last_rotated[path] = added
            last = added
            self.log.warning(
                "found a rotated file that was never followed; reading it",
                path=path,
                now_at=follower.path,
            )
        return last

    def _stats(self, path: str) -> FileStats:
        stats = self.state.files.get(path)
        if stats is None:
            stats = self.state.files[path] = FileStats()
        return stats

    async def _add(self, item: Found, at_start: bool) -> _Open | None:
        path = item.path
        try:
            follower = await asyncio.to_thread(self._open_resumed, item, at_start)
        except OSError as exc:
            if path not in self._failed:
                self._failed.add(path)
                self.log.warning("cannot open log file", path=path, error=exc.strerror or str(exc))
            return None
        self._failed.discard(path)
        entry = _Open(follower, None, self._stats(path), path)
        self._make_builder(entry)
        self._by_path[path] = entry
        self._open.append(entry)
        self.log.info("following file", path=path, offset=follower.offset, id=follower.key)
        return entry

    def _open_resumed(self, item: Found, at_start: bool) -> Follower:
        follower = Follower.open(item.path, (item.dev, item.ino))
        saved = self._saved_identity(follower)
        if saved is not None:
            follower.identity = saved
            follower.offset = self._starts.pop(saved.key)[1]
        elif at_start and self.options.read_from_end:
            follower.offset = follower.size
        return follower

    def _saved_identity(self, follower: Follower) -> FileIdentity | None:
        for ident in self._by_inode.get((follower.dev, follower.ino), []):
            if ident.key in self._starts and matches(follower.fd, ident):
                return ident
        return None

    async def _recover_rotated(self, now: float, found_files: list[Found]) -> None:
        """Find saved files no pattern matches any more, by inode in their directory.

        Runs before the matched files are opened, so each path's files are chained oldest first
        (by modification time) and read in that order.
        """
        matched = {(item.dev, item.ino) for item in found_files}
        recovered: list[tuple[float, _Open]] = []
        for key, (path, offset) in list(self._starts.items()):
            ident = FileIdentity.from_key(key)
            if (ident.dev, ident.ino) in matched:
                continue
            found = await asyncio.to_thread(self._find_by_inode, path, ident)
            del self._starts[key]
            if found is None:
                self.state.gone += 1
                self.log.info("checkpointed file is gone", path=path, offset=offset)
                for channel in self.channels:
                    channel.finish(Finished(key, path, offset))
                continue
            follower = found
            follower.identity = ident
            follower.offset = offset
            follower.mark_rotated(now)
            entry = _Open(follower, None, self._stats(path), path)
            self._make_builder(entry)
            recovered.append((os.fstat(follower.fd).st_mtime, entry))
            self.log.info(
                "resuming a file rotated away while stopped", path=path, now_at=follower.path
            )
        if self._since is not None:
            known = matched | {(i.dev, i.ino) for i in map(FileIdentity.from_key, self._starts)}
            known |= {(e.follower.dev, e.follower.ino) for _, e in recovered}
            for path in sorted(self._saved_paths):
                unseen = await asyncio.to_thread(self._unseen_siblings, path, known, self._since)
                for follower in unseen:
                    follower.mark_rotated(now)
                    entry = _Open(follower, None, self._stats(path), path)
                    self._make_builder(entry)
                    recovered.append((os.fstat(follower.fd).st_mtime, entry))
                    known.add((follower.dev, follower.ino))
                    self.log.info(
                        "reading a rotated file written while stopped",
                        path=path,
                        now_at=follower.path,
                    )
        for _, entry in sorted(recovered, key=lambda item: item[0]):
            entry.predecessor = self._last_rotated.get(entry.path)
            self._last_rotated[entry.path] = entry
            self._open.append(entry)

    def _unseen_siblings(
        self,
        path: str,
        known: set[tuple[int, int]],
        since: float,
        until: float | None = None,
    ) -> list[Follower]:
        """Rotated generations of ``path`` written after the last checkpoint and not known.

        A file created and rotated away while the streamer was down was never seen: it is
        found by its name (``app.log`` -> ``app.log.1``, ``app.log-20240501``: the name plus
        ``.``, ``-`` or ``_`` and more) and by having changed after the last checkpoint commit.
        Compressed files are skipped: they can only be copies of what was already there.
        """
        directory, base = os.path.split(path)
        out: list[Follower] = []
        try:
            entries = list(os.scandir(directory or "."))
        except OSError:
            return out
        for item in entries:
            name = item.name
            if (
                not name.startswith(base)
                or len(name) <= len(base)
                or name[len(base)] not in ".-_"
                or name.endswith(_COMPRESSED)
                or self.discovery.excluded(item.path)
            ):
                continue
            try:
                if item.is_symlink() or not item.is_file():
                    continue
                st = item.stat()
                # modification times come from the kernel's coarse clock: allow it to lag
                if (
                    (st.st_dev, st.st_ino) in known
                    or st.st_mtime <= since - _CLOCK_SLACK
                    or st.st_size == 0
                ):
                    continue
                if until is not None and st.st_mtime > until:
                    continue  # made after the content being read now: a later generation
                follower = Follower.open(item.path)
            except OSError:
                continue
            done = self._closed.get((follower.dev, follower.ino))
            if done is not None and matches(follower.fd, done):
                follower.close()
                continue
            follower.path = path
            out.append(follower)
        return out

    def _find_by_inode(self, path: str, ident: FileIdentity) -> Follower | None:
        directory = os.path.dirname(path) or "."
        try:
            entries = list(os.scandir(directory))
        except OSError:
            return None
        for item in entries:
            try:
                if item.inode() != ident.ino or item.is_symlink() or not item.is_file():
                    continue
                if not self.discovery.allowed_target(item.path):
                    continue
                follower = Follower.open(item.path)
            except OSError:
                continue
            if follower.dev == ident.dev and matches(follower.fd, ident):
                follower.path = path
                return follower
            follower.close()
        return None

    def _make_builder(self, entry: _Open, offset: int | None = None) -> None:
        f = entry.follower
        o = self.options
        key = f.key
        entry.builder = (
            RecordBuilder(
                key,
                entry.path,
                f.offset if offset is None else offset,
                max_size=o.max_record_size,
                partial_timeout=o.partial_timeout,
                multiline=o.multiline,
                stats=self.state.builder,
            )
            if key is not None
            else None
        )
        if key is not None and key not in self._registered:
            self._registered.add(key)
            self._new.append((key, entry.path, entry.builder.offset if entry.builder else 0))

    async def _flush_new(self) -> None:
        """Make newly opened files known to the checkpoint before any of their records go out,
        so a file rotated away during a later outage is found again."""
        if self._new and self._register is not None:
            new, self._new = self._new, []
            await self._register(new)

    # --- reading ---------------------------------------------------------------------------------

    async def _read_once(self, entry: _Open) -> bool:
        """Read one slice; True when the slice was full (more to read)."""
        follower = entry.follower
        limit = self.options.read_slice
        piece = await asyncio.to_thread(follower.read, limit)
        entry.stats.behind = follower.behind
        if piece.truncated is not None:
            entry.stats.truncations += 1
            self.log.info("file truncated; reading it from the start", path=follower.path)
            recovered = await self._read_copy(entry, piece.truncated)
            await self._read_missed_copies(entry, piece.truncated)
            entry.ended.append(piece.truncated)
            lost = piece.unread - recovered
            if lost > 0:
                drops = self.state.dropped_bytes
                drops["truncated_unread"] = drops.get("truncated_unread", 0) + lost
                self.log.warning(
                    "file truncated before it was read to the end and no copy was found",
                    path=follower.path,
                    lost_bytes=lost,
                )
            await self._end_generation(entry, piece.truncated)
            self._make_builder(entry, piece.offset)
        elif piece.fresh:
            # seen empty before (just truncated, or new): whole generations may have come and
            # gone through copytruncate copies since
            await self._read_missed_copies(entry, None)
        if follower.identity is not None and (
            entry.builder is None or entry.builder.key != follower.key
        ):
            if entry.builder is not None:  # replaced before a byte of it was read
                for channel in self.channels:
                    channel.finish(Finished(entry.builder.key, entry.path, 0))
            self._make_builder(entry, piece.offset)
        if not piece.data:
            return False
        now = self.clock()
        follower.grew_at = now
        builder = entry.builder
        assert builder is not None
        records = builder.feed(piece.data, now)
        entry.stats.bytes += len(piece.data)
        entry.stats.lines += piece.data.count(b"\n")
        await self._deliver(records)
        return len(piece.data) >= limit

    async def _read_copy(self, entry: _Open, ended: FileIdentity) -> int:
        """After a truncation, read what was not read yet from ``copytruncate``'s copy.

        logrotate copies the file before it truncates it, so lines the streamer had not read
        yet are in the copy (``app.log.1``, uncompressed at least until the next rotation with
        ``delaycompress``): found by its first bytes, read from where the old file was left.
        """
        builder = entry.builder
        if builder is None:
            return 0
        copy = await asyncio.to_thread(
            self._find_copy, entry.follower.path, ended, builder.offset, entry.follower.ino
        )
        if copy is None:
            return 0
        recovered = 0
        try:
            copy.identity = ended
            copy.offset = builder.offset
            while True:
                piece = await asyncio.to_thread(copy.read, self.options.read_slice)
                if not piece.data or piece.truncated is not None:
                    break
                entry.stats.bytes += len(piece.data)
                entry.stats.lines += piece.data.count(b"\n")
                recovered += len(piece.data)
                await self._deliver(builder.feed(piece.data, self.clock()))
        finally:
            copy.close()
        return recovered

    async def _read_missed_copies(self, entry: _Open, ended: FileIdentity | None) -> None:
        """Copies of whole generations the streamer never saw (the file was truncated more
        than once between two reads): read each, oldest first, as a file of its own."""
        follower = entry.follower
        missed = await asyncio.to_thread(
            self._unseen_siblings,
            entry.path,
            {(e.follower.dev, e.follower.ino) for e in self._open},
            follower.checked_before,
            follower.checked,
        )
        done = [*entry.ended, *([ended] if ended is not None else [])]
        if follower.identity is not None:
            done.append(follower.identity)
        for copy in sorted(missed, key=lambda f: os.fstat(f.fd).st_mtime):
            if copy.identity is None or any(matches(copy.fd, ident) for ident in done):
                copy.close()  # a copy of a generation read already (or being read now)
                continue
            self.log.warning(
                "found a copytruncate copy that was never read; reading it",
                path=entry.path,
                now_at=copy.path,
            )
            builder = RecordBuilder(
                copy.identity.key,
                entry.path,
                0,
                max_size=self.options.max_record_size,
                partial_timeout=self.options.partial_timeout,
                multiline=self.options.multiline,
                stats=self.state.builder,
            )
            self._registered.add(copy.identity.key)
            self._new.append((copy.identity.key, entry.path, 0))
            try:
                while True:
                    piece = await asyncio.to_thread(copy.read, self.options.read_slice)
                    if not piece.data:
                        break
                    entry.stats.bytes += len(piece.data)
                    entry.stats.lines += piece.data.count(b"\n")
                    await self._deliver(builder.feed(piece.data, self.clock()))
                await self._deliver(builder.expire(self.clock(), force=True))
                for channel in self.channels:
                    channel.finish(Finished(copy.identity.key, entry.path, builder.offset))
                entry.ended.append(copy.identity)
            finally:
                copy.close()

    def _find_copy(self, path: str, ended: FileIdentity, offset: int, ino: int) -> Follower | None:
        directory = os.path.dirname(path) or "."
        best: tuple[float, Follower] | None = None
        try:
            entries = list(os.scandir(directory))
        except OSError:
            return None
        for item in entries:
            try:
                if item.inode() == ino or item.is_symlink() or not item.is_file():
                    continue
                st = item.stat()
                if st.st_size <= offset:
                    continue
                candidate = Follower.open(item.path)
            except OSError:
                continue
            if matches(candidate.fd, ended) and (best is None or st.st_mtime > best[0]):
                if best is not None:
                    best[1].close()
                best = (st.st_mtime, candidate)
            else:
                candidate.close()
        return best[1] if best is not None else None

    async def _deliver(self, records: list[Record]) -> None:
        await self._flush_new()
        if records:
            for channel in self.channels:
                await channel.put(records)

    async def _end_generation(self, entry: _Open, ended: FileIdentity) -> None:
        builder = entry.builder
        end = 0
        if builder is not None:
            await self._deliver(builder.expire(self.clock(), force=True))
            end = builder.offset
        for channel in self.channels:
            channel.finish(Finished(ended.key, entry.path, end))

    async def _close(self, entry: _Open) -> None:
        follower = entry.follower
        if follower.identity is not None:
            await self._end_generation(entry, follower.identity)
        if follower.identity is not None:
            self._closed[(follower.dev, follower.ino)] = follower.identity
            while len(self._closed) > 10_000:
                del self._closed[next(iter(self._closed))]
        follower.close()
        self._open.remove(entry)
        if self._by_path.get(follower.path) is entry:
            del self._by_path[follower.path]
        if self._last_rotated.get(entry.path) is entry:
            del self._last_rotated[entry.path]
        self.log.info("done with rotated file", path=follower.path)

    def close(self) -> None:
        """Close every file (at shutdown, after the last pass)."""
        for entry in self._open:
            entry.follower.close()
        self._open.clear()
        self._by_path.clear()
