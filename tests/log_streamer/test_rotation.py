"""Following real files through every kind of rotation, in-process, to the file output."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from tests.log_streamer.streamer import (
    append,
    check_numbered,
    embedded,
    numbered,
    read_lines,
    settings,
    wait_lines,
)
from tests.support.waits import async_wait_until

WRITER = Path(__file__).with_name("writer.py")


@pytest.fixture
def dirs(tmp_path: Path) -> tuple[Path, Path, Path]:
    logs = tmp_path / "logs"
    logs.mkdir()
    return logs, tmp_path / "state", tmp_path / "out.log"


async def run_writer(
    logs: Path,
    names: str,
    count: int,
    every: int,
    method: str,
    late: int = 0,
    rotate_pause: float = 0.0,
) -> None:
    args = [names, str(count), str(every), method, str(late), "200", str(rotate_pause)]
    proc = await asyncio.create_subprocess_exec(sys.executable, str(WRITER), str(logs), *args)
    assert await proc.wait() == 0


async def test_rename_and_create_with_a_late_writer_loses_and_repeats_nothing(
    dirs: tuple[Path, Path, Path],
) -> None:
    logs, state, out = dirs
    async with embedded(settings(logs, state, out)) as streamer:
        await run_writer(logs, "a,b", 3000, 700, "rename", late=50)
        await wait_lines(out, 6000)
        files = streamer.tailer.state.files if streamer.tailer else {}
    check_numbered(read_lines(out), {"a": 3000, "b": 3000})
    assert files[str(logs / "a.log")].rotations >= 1


async def test_copytruncate_is_detected_and_read_from_the_start(
    dirs: tuple[Path, Path, Path],
) -> None:
    logs, state, out = dirs
    log = logs / "a.log"
    async with embedded(settings(logs, state, out)) as streamer:
        total = 0
        for _ in range(4):
            append(log, (numbered("a", i) for i in range(total, total + 100)))
            total += 100
            await wait_lines(out, total)
            os.truncate(log, 0)  # what copytruncate does after its copy
        append(log, (numbered("a", i) for i in range(total, total + 100)))
        total += 100
        await wait_lines(out, total)
        assert streamer.tailer is not None
        assert streamer.tailer.state.files[str(log)].truncations == 4
    check_numbered(read_lines(out), {"a": total})


async def test_truncation_is_seen_even_when_the_file_regrew_past_the_old_offset(
    dirs: tuple[Path, Path, Path],
) -> None:
    logs, state, out = dirs
    log = logs / "a.log"
    s = settings(logs, state, out, inotify=False, poll_interval=0.5)
    append(log, (numbered("a", i) for i in range(10)))
    async with embedded(s):
        await wait_lines(out, 10)
        # truncate and write more than was there before, faster than the next poll
        with log.open("r+", encoding="utf-8") as handle:
            handle.truncate(0)
            handle.writelines(numbered("a", i) + "\n" for i in range(10, 40))
        await wait_lines(out, 40)
    check_numbered(read_lines(out), {"a": 40})


async def test_delete_and_create_even_on_the_same_inode(dirs: tuple[Path, Path, Path]) -> None:
    logs, state, out = dirs
    log = logs / "a.log"
    async with embedded(settings(logs, state, out)):
        total = 0
        for _ in range(5):
            append(log, (numbered("a", i) for i in range(total, total + 50)))
            total += 50
            await wait_lines(out, total)
            log.unlink()  # the next file often gets the freed inode back
        append(log, (numbered("a", i) for i in range(total, total + 50)))
        total += 50
        await wait_lines(out, total)
    check_numbered(read_lines(out), {"a": total})


async def test_copytruncate_writer_process_reads_unread_lines_from_the_copy(
    dirs: tuple[Path, Path, Path],
) -> None:
    """A writer copying and truncating while it writes (a rotation a second, far more often
    than logrotate): what the streamer had not read before a truncation is read from the copy,
    so every line comes out once and in order."""
    logs, state, out = dirs
    async with embedded(settings(logs, state, out)) as streamer:
        await run_writer(logs, "a,b", 3000, 600, "copytruncate", rotate_pause=1.0)
        await wait_lines(out, 6000)
        assert streamer.tailer is not None
        truncations = streamer.tailer.state.files[str(logs / "a.log")].truncations
    check_numbered(read_lines(out), {"a": 3000, "b": 3000})
    assert truncations == 4


async def test_new_files_excludes_and_symlinks(
    dirs: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    logs, state, out = dirs
    outside = tmp_path / "secret.log"
    outside.write_text("secret line\n")
    (logs / "escape.log").symlink_to(outside)
    sub = logs / "inside"
    sub.mkdir()
    (sub / "real.txt").write_text("inside line\n")
    (logs / "link.log").symlink_to(sub / "real.txt")
    s = settings(logs, state, out, exclude=["skip-*.log"])
    async with embedded(s):
        append(logs / "skip-me.log", ["skipped"])
        append(logs / "late.log", ["late 00000000 x"])
        await async_wait_until(
            lambda: "late 00000000 x" in read_lines(out), what="the new file's line"
        )
        await async_wait_until(
            lambda: "inside line" in read_lines(out), what="the symlinked file's line"
        )
    lines = read_lines(out)
    assert "secret line" not in lines
    assert "skipped" not in lines
