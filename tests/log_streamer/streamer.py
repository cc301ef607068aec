"""Helpers of the log streamer tests: numbered lines, an embedded streamer, a streamer process."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any

from podkit.log_streamer.outputs.spec import parse_output
from podkit.log_streamer.service import LogStreamer
from podkit.log_streamer.settings import LogStreamerSettings
from tests.support.processes import Child
from tests.support.waits import async_wait_until

PAD = "x" * 180


def numbered(name: str, index: int) -> str:
    """One numbered line of a test writer (about 200 bytes with its padding)."""
    return f"{name} {index:08d} {PAD}"


def check_numbered(lines: Iterable[str], expected: dict[str, int]) -> None:
    """Every ``name`` has lines 0..count-1 exactly once and in order; nothing else came out."""
    seen: dict[str, list[int]] = {name: [] for name in expected}
    for line in lines:
        name, number, _ = line.split(" ", 2)
        seen[name].append(int(number))
    for name, count in expected.items():
        got = seen[name]
        if got != list(range(count)):
            dups = len(got) - len(set(got))
            missing = sorted(set(range(count)) - set(got))[:10]
            order = next((i for i in range(1, len(got)) if got[i] <= got[i - 1]), None)
            raise AssertionError(
                f"{name}: {len(got)} lines for {count}: {dups} duplicated, missing {missing}, "
                f"first out of order at {order}"
            )


def read_lines(path: Path) -> list[str]:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    text = data.decode("utf-8", "replace")
    return text.splitlines()


def settings(logs: Path, state: Path | None, out: Path, **changes: Any) -> LogStreamerSettings:
    """Settings for a test: ``logs/*.log`` to ``file:out``, quick polls and rotations."""
    values: dict[str, Any] = {
        "path": [str(logs / "*.log")],
        "state_dir": state,
        "output": [parse_output(f"file:{out}")],
        "admin_listen": None,
        "poll_interval": 0.1,
        "rotate_wait": 0.5,
        "partial_timeout": 0.3,
        "checkpoint_interval": 0.1,
        "shutdown_grace": 10.0,
    }
    values.update(changes)
    return LogStreamerSettings(**values)


@contextlib.asynccontextmanager
async def embedded(s: LogStreamerSettings) -> AsyncIterator[LogStreamer]:
    """A streamer running in this event loop, past its first scan, shut down (flushed) at the
    end. (A pod starts the sidecar first; a file created and rotated away before the streamer
    ever looked cannot be known to it.)"""
    streamer = LogStreamer(s)
    await streamer.start()
    assert streamer.tailer is not None
    await asyncio.wait_for(streamer.tailer.first_pass.wait(), 30)
    try:
        yield streamer
    finally:
        await streamer.shutdown()


def streamer_process(*args: str, env: dict[str, str] | None = None) -> Child:
    """``python -m podkit.log_streamer ARGS`` with JSON logs on stderr."""
    full = {"LOG_STREAMER_LOG_FORMAT": "json", **(env or {})}
    return Child([sys.executable, "-m", "podkit.log_streamer", *args], env=full)


def append(path: Path, lines: Iterable[str]) -> None:
    with path.open("a", encoding="utf-8") as handle:
        for line in lines:
            handle.write(line + "\n")


def inode(path: Path) -> int:
    return os.stat(path).st_ino


async def wait_lines(path: Path, count: int, timeout: float = 30.0) -> list[str]:
    """Wait until ``path`` holds at least ``count`` lines; return them."""
    return await async_wait_until(
        lambda: (lines := read_lines(path)) and len(lines) >= count and lines,
        timeout,
        f"{count} lines in {path.name}",
    )
