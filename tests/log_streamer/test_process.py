"""The streamer as a process: SIGTERM flushes and exits 0, restarts resume where the output
acknowledged, and kill -9 at random moments during heavy writing and rotation loses and repeats
nothing for the file output."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.log_streamer.streamer import (
    append,
    check_numbered,
    numbered,
    read_lines,
    streamer_process,
)
from tests.support.waits import wait_until

WRITER = Path(__file__).with_name("writer.py")


def args(logs: Path, state: Path, out: Path, *more: str) -> list[str]:
    return [
        "--path", str(logs / "*.log"),
        "--state-dir", str(state),
        "--output", f"file:{out}",
        "--admin-listen", "",
        "--poll-interval", "100ms",
        "--rotate-wait", "500ms",
        "--checkpoint-interval", "50ms",
        *more,
    ]  # fmt: skip


def test_sigterm_reads_what_is_there_flushes_and_exits_0(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    out = tmp_path / "out.log"
    # a long poll and no inotify: only the shutdown pass can see the last lines
    with streamer_process(
        *args(logs, tmp_path / "state", out, "--inotify=false", "--poll-interval", "1h")
    ) as proc:
        proc.wait_for_output("started")
        append(logs / "a.log", (numbered("a", i) for i in range(500)))
        with (logs / "a.log").open("a") as handle:
            handle.write("unterminated")
        proc.signal(signal.SIGTERM)
        assert proc.wait() == 0, proc.stderr
    lines = read_lines(out)
    assert lines[-1] == "unterminated"
    check_numbered(lines[:-1], {"a": 500})


def test_restart_resumes_after_the_last_acknowledged_line(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    out = tmp_path / "out.log"
    state = tmp_path / "state"
    append(logs / "a.log", (numbered("a", i) for i in range(100)))
    for start in (100, 200):
        with streamer_process(*args(logs, state, out)) as proc:
            wait_until(lambda n=start: len(read_lines(out)) >= n, what=f"{start} lines")
            proc.signal(signal.SIGTERM)
            assert proc.wait() == 0
        append(logs / "a.log", (numbered("a", i) for i in range(start, start + 100)))
    with streamer_process(*args(logs, state, out)) as proc:
        wait_until(lambda: len(read_lines(out)) >= 300, what="300 lines")
        proc.signal(signal.SIGTERM)
        assert proc.wait() == 0
    check_numbered(read_lines(out), {"a": 300})


def test_rotations_while_stopped_are_caught_up_from_the_renamed_files(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    out = tmp_path / "out.log"
    state = tmp_path / "state"
    app = logs / "app.log"
    append(app, (numbered("app", i) for i in range(100)))
    with streamer_process(*args(logs, state, out)) as proc:
        wait_until(lambda: len(read_lines(out)) >= 100, what="100 lines")
        proc.signal(signal.SIGKILL)
        proc.wait()
    # while it is down: more lines, then two rename rotations, then a new file
    append(app, (numbered("app", i) for i in range(100, 150)))
    app.rename(logs / "app.log.1")
    append(app, (numbered("app", i) for i in range(150, 200)))
    (logs / "app.log.1").rename(logs / "app.log.2")
    app.rename(logs / "app.log.1")
    append(app, (numbered("app", i) for i in range(200, 250)))
    with streamer_process(*args(logs, state, out)) as proc:
        wait_until(lambda: len(read_lines(out)) >= 250, what="250 lines")
        proc.signal(signal.SIGTERM)
        assert proc.wait() == 0
    # app.log.2 is found by its inode, app.log.1 (never seen: created and rotated while the
    # streamer was down) by its name and its modification time; both before the new app.log
    check_numbered(read_lines(out), {"app": 250})


@pytest.mark.timeout(300)
def test_kill_9_at_random_moments_during_writing_and_rotation(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    out = tmp_path / "out.log"
    state = tmp_path / "state"
    count = 40_000
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    writer: subprocess.Popen[bytes] | None = None
    kills = 0
    try:
        while writer is None or writer.poll() is None or kills < 3:
            proc = streamer_process(*args(logs, state, out, "--read-slice", "16KiB"))
            try:
                if writer is None:
                    # the app starts writing once the sidecar is up, as in a pod
                    proc.wait_for_output("started")
                    command = [str(logs), "a,b", str(count), "4000", "rename", "30", "10"]
                    writer = subprocess.Popen([sys.executable, str(WRITER), *command])
                time.sleep(rng.uniform(0.5, 2.0))
            finally:
                proc.signal(signal.SIGKILL)
                proc.wait()
                proc.stop()
            kills += 1
        assert writer.wait(timeout=120) == 0
        with streamer_process(*args(logs, state, out)) as proc:
            proc.wait_for_output("started")
            wait_until(lambda: len(read_lines(out)) >= 2 * count, timeout=120, what="every line")
            proc.signal(signal.SIGTERM)
            assert proc.wait() == 0, proc.stderr
    finally:
        if writer is not None and writer.poll() is None:
            writer.kill()
            writer.wait()
    try:
        check_numbered(read_lines(out), {"a": count, "b": count})
    except AssertionError as exc:
        raise AssertionError(f"{exc} (seed {seed}, {kills} kills)") from None
    assert kills >= 3
