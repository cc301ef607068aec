"""Durable read positions: a SQLite database in ``--state-dir``, one row per output and file.

A row says "output O has acknowledged every record of file K up to byte ``offset``"; the file's
last known path is kept beside it so a file rotated away while the streamer was down can be found
again by its inode. Outputs may keep a small state of their own (the file output's committed
length) that is written in the same transaction, so both always agree. Each :meth:`commit` is
one transaction in WAL mode with ``synchronous=FULL``: a kill at any moment leaves either the old
or the new positions, never a mix. Without a state directory the positions live in memory only.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Checkpoint", "Saved", "Snapshot"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS positions (
    output TEXT NOT NULL,
    key TEXT NOT NULL,
    path TEXT NOT NULL,
    offset INTEGER NOT NULL,
    PRIMARY KEY (output, key)
);
CREATE TABLE IF NOT EXISTS output_state (
    output TEXT PRIMARY KEY,
    state TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""


@dataclass
class Saved:
    """What the checkpoint held at start: positions by output and key, output states."""

    positions: dict[str, dict[str, tuple[str, int]]] = field(default_factory=dict)
    states: dict[str, str] = field(default_factory=dict)
    committed_at: float | None = None
    """Wall-clock time of the last commit (files changed after it were never checkpointed)."""

    def starts(self, outputs: Iterable[str]) -> dict[str, tuple[str, int]]:
        """Where to start each file: the lowest position any of ``outputs`` acknowledged.

        A file some output has no row for starts at 0 for all of them.
        """
        names = list(outputs)
        keys: set[str] = set()
        for name in names:
            keys.update(self.positions.get(name, {}))
        out: dict[str, tuple[str, int]] = {}
        for key in keys:
            rows = [self.positions.get(name, {}).get(key) for name in names]
            path = next(row[0] for row in rows if row is not None)
            offset = 0 if any(row is None for row in rows) else min(r[1] for r in rows if r)
            out[key] = (path, offset)
        return out


@dataclass
class Snapshot:
    """Changes to write in one transaction."""

    upserts: list[tuple[str, str, str, int]] = field(default_factory=list)
    deletes: list[tuple[str, str]] = field(default_factory=list)
    states: dict[str, str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.upserts or self.deletes or self.states)


class Checkpoint:
    """The position store; :meth:`load` and :meth:`commit` block (run them in a thread)."""

    def __init__(self, state_dir: Path | None) -> None:
        self.path = state_dir / "checkpoint.sqlite" if state_dir is not None else None
        self._db: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        self.commits = 0

    def open(self) -> Saved:
        """Open (creating) the database and return what it holds."""
        target = ":memory:" if self.path is None else str(self.path)
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(target, check_same_thread=False, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.executescript(_SCHEMA)
        self._db = db
        saved = Saved()
        for output, key, path, offset in db.execute(
            "SELECT output, key, path, offset FROM positions"
        ):
            saved.positions.setdefault(output, {})[key] = (path, int(offset))
        for output, state in db.execute("SELECT output, state FROM output_state"):
            saved.states[output] = state
        for (value,) in db.execute("SELECT value FROM meta WHERE name = 'committed_at'"):
            saved.committed_at = float(value)
        return saved

    def commit(self, snapshot: Snapshot) -> None:
        """Write ``snapshot`` atomically."""
        if not snapshot:
            return
        with self._lock:
            db = self._db
            if db is None:
                return
            db.execute("BEGIN IMMEDIATE")
            try:
                db.executemany(
                    "INSERT INTO positions (output, key, path, offset) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (output, key) DO UPDATE SET path = excluded.path, "
                    "offset = excluded.offset",
                    snapshot.upserts,
                )
                db.executemany(
                    "DELETE FROM positions WHERE output = ? AND key = ?", snapshot.deletes
                )
                db.executemany(
                    "INSERT INTO output_state (output, state) VALUES (?, ?) "
                    "ON CONFLICT (output) DO UPDATE SET state = excluded.state",
                    list(snapshot.states.items()),
                )
                db.execute(
                    "INSERT INTO meta (name, value) VALUES ('committed_at', ?) "
                    "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                    (repr(time.time()),),
                )
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
            self.commits += 1

    def forget_outputs(self, keep: Iterable[str]) -> None:
        """Drop rows of outputs no longer configured (so they do not hold files back)."""
        with self._lock:
            if self._db is None:
                return
            names = list(keep)
            marks = ",".join("?" * len(names))
            self._db.execute(f"DELETE FROM positions WHERE output NOT IN ({marks})", names)  # noqa: S608
            # (positions rows only exist for outputs; state rows also for their disk buffers)
            self._db.execute(f"DELETE FROM output_state WHERE output NOT IN ({marks})", names)  # noqa: S608

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
