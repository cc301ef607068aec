"""Debian's logrotate rotating the files the streamer follows: create, copytruncate, compress
with delaycompress, dateext. Lines written just before each rotation (still unread) must come out
too, once and in order."""

from __future__ import annotations

import asyncio
import shutil
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

LOGROTATE = shutil.which("logrotate") or "/usr/sbin/logrotate"


async def logrotate(conf: Path, state: Path) -> None:
    proc = await asyncio.create_subprocess_exec(
        LOGROTATE,
        "-s",
        str(state),
        "-f",
        str(conf),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await proc.communicate()
    assert proc.returncode == 0, out.decode()


@pytest.mark.parametrize(
    ("directives", "rounds", "pause"),
    [
        pytest.param("create\nrotate 20", 4, 0.0, id="create"),
        pytest.param("copytruncate\nrotate 20", 4, 0.0, id="copytruncate"),
        pytest.param(
            "create\nrotate 20\ncompress\ndelaycompress", 4, 0.0, id="compress-delaycompress"
        ),
        pytest.param(
            "copytruncate\nrotate 20\ncompress\ndelaycompress", 4, 0.0, id="copytruncate-compress"
        ),
        pytest.param("create\nrotate 20\ndateext\ndateformat -%Y%m%d-%s", 3, 1.1, id="dateext"),
    ],
)
async def test_logrotate(tmp_path: Path, directives: str, rounds: int, pause: float) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    conf = tmp_path / "logrotate.conf"
    conf.write_text(f"{logs}/*.log {{\n{directives}\nmissingok\nnotifempty\nnomail\n}}\n")
    conf.chmod(0o644)
    rotate_state = tmp_path / "logrotate.status"
    out = tmp_path / "out.log"
    app = logs / "app.log"
    app.touch()
    total = 0
    async with embedded(settings(logs, tmp_path / "state", out)) as streamer:
        for _ in range(rounds):
            append(app, (numbered("app", i) for i in range(total, total + 100)))
            total += 100
            await wait_lines(out, total)
            # lines the streamer has not read when logrotate runs
            append(app, (numbered("app", i) for i in range(total, total + 100)))
            total += 100
            await logrotate(conf, rotate_state)
            if pause:
                await asyncio.sleep(pause)  # dateext names rotations by the second
        append(app, (numbered("app", i) for i in range(total, total + 100)))
        total += 100
        await wait_lines(out, total)
        assert streamer.tailer is not None
        stats = streamer.tailer.state.files[str(app)]
    check_numbered(read_lines(out), {"app": total})
    rotated = sorted(p.name for p in logs.iterdir() if p.name != "app.log")
    assert len(rotated) == rounds, rotated
    if "copytruncate" in directives:
        assert stats.truncations == rounds
    else:
        assert stats.rotations == rounds
    if "compress" in directives:
        assert any(name.endswith(".gz") for name in rotated), rotated
