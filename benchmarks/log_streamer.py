"""Log streamer throughput and CPU, beside ``tail -F`` and rsyslog's ``imfile`` on the same files.

Run: ``uv run python benchmarks/log_streamer.py [--lines N] [--quick]``. Writes N numbered
200-byte lines to two files first, then times each reader catching up from the start of the
same files, in one run on one machine:

* ``tail -F`` (GNU coreutils) writing to a file — the pattern people use today;
* rsyslog ``imfile`` -> ``omfile`` (``%msg%`` only) — rsyslog's own file tail;
* podkit-log-streamer -> stdout (redirected to a file), raw;
* podkit-log-streamer -> RELP -> rsyslog ``imrelp`` -> ``omfile`` (acknowledged delivery).

For each: lines per second (until the last byte is out) and CPU-seconds per million lines of
the reader process itself (user + system from ``wait4``; for the RELP row the streamer only).
Then the streamer's resident memory while its RELP output is down for good (reading stops at
the memory buffer). Nothing is asserted; the numbers are for people.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.support.ports import free_port, wait_for_port  # noqa: E402 - the tests' port helpers

PAD = "x" * 186  # "f0 00000001 " + PAD + "\n" is 200 bytes
RSYSLOGD = shutil.which("rsyslogd") or "/usr/sbin/rsyslogd"


def write_files(directory: Path, lines: int) -> tuple[list[Path], int]:
    files = [directory / "f0.log", directory / "f1.log"]
    total = 0
    for index, path in enumerate(files):
        with path.open("w", encoding="ascii") as handle:
            chunk = []
            for i in range(lines // len(files)):
                chunk.append(f"f{index} {i:08d} {PAD}\n")
                if len(chunk) == 10000:
                    handle.write("".join(chunk))
                    chunk = []
            handle.write("".join(chunk))
        total += path.stat().st_size
    return files, total


def wait_size(path: Path, size: int, proc: subprocess.Popen[bytes], timeout: float = 600) -> float:
    """Seconds until ``path`` holds ``size`` bytes."""
    start = time.monotonic()
    while True:
        try:
            if path.stat().st_size >= size:
                return time.monotonic() - start
        except FileNotFoundError:
            pass
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args!r} exited with {proc.returncode}")
        if time.monotonic() - start > timeout:
            raise TimeoutError(f"{path} did not reach {size} bytes")
        time.sleep(0.01)


def stop(proc: subprocess.Popen[bytes]) -> float:
    """Stop ``proc`` with SIGTERM and return its CPU seconds (user + system)."""
    os.kill(proc.pid, signal.SIGTERM)
    _, _, usage = os.wait4(proc.pid, 0)
    proc.returncode = 0
    return usage.ru_utime + usage.ru_stime


def rsyslog_conf(work: Path, body: str) -> Path:
    (work / "work").mkdir(parents=True, exist_ok=True)
    conf = work / "rsyslog.conf"
    conf.write_text(
        f'global(workDirectory="{work / "work"}" maxMessageSize="64k")\n'
        'template(name="msgonly" type="string" string="%msg%\\n")\n' + body
    )
    return conf


def start_rsyslog(conf: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [RSYSLOGD, "-n", "-f", str(conf), "-i", str(conf.with_suffix(".pid"))],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def streamer(args: list[str], stdout: object, state: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "podkit.log_streamer", "--state-dir", str(state),
         "--admin-listen", "", "--log-format", "json", *args],
        stdout=stdout,  # type: ignore[arg-type]
        stderr=subprocess.DEVNULL,
    )  # fmt: skip


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help="200,000 lines")
    options = parser.parse_args()
    lines = 200_000 if options.quick else options.lines
    tmp = Path(tempfile.mkdtemp(prefix="podkit-bench-logs-"))
    try:
        logs = tmp / "logs"
        logs.mkdir()
        files, size = write_files(logs, lines)
        glob = str(logs / "*.log")
        rows: list[tuple[str, float, float | None]] = []

        out = tmp / "tail.out"
        with out.open("wb") as sink:
            proc = subprocess.Popen(
                ["tail", "-q", "-n", "+1", "-F", *map(str, files)],
                stdout=sink,
                stderr=subprocess.DEVNULL,
            )
            seconds = wait_size(out, size, proc)
            rows.append(("tail -F -> file", seconds, stop(proc)))

        out = tmp / "imfile.out"
        conf = rsyslog_conf(
            tmp / "imfile",
            'module(load="imfile")\n'
            f'input(type="imfile" File="{glob}" Tag="app")\n'
            f'action(type="omfile" file="{out}" template="msgonly")\n',
        )
        proc = start_rsyslog(conf)
        seconds = wait_size(out, size, proc)
        rows.append(("rsyslog imfile -> omfile", seconds, stop(proc)))

        out = tmp / "stdout.out"
        with out.open("wb") as sink:
            proc = streamer(["--path", glob], sink, tmp / "state-stdout")
            seconds = wait_size(out, size, proc)
            rows.append(("podkit-log-streamer -> stdout", seconds, stop(proc)))

        out = tmp / "relp.out"
        relp_port = free_port()
        conf = rsyslog_conf(
            tmp / "relp",
            'module(load="imrelp")\n'
            f'input(type="imrelp" port="{relp_port}" address="127.0.0.1")\n'
            f'action(type="omfile" file="{out}" template="msgonly")\n',
        )
        server = start_rsyslog(conf)
        wait_for_port(relp_port)
        proc = streamer(
            ["--path", glob, "--output", f"relp://127.0.0.1:{relp_port}"],
            subprocess.DEVNULL,
            tmp / "state-relp",
        )
        seconds = wait_size(out, size, proc)
        rows.append(("podkit-log-streamer -> RELP -> rsyslog", seconds, stop(proc)))
        stop(server)

        dead = free_port()
        proc = streamer(
            ["--path", glob, "--output", f"relp://127.0.0.1:{dead}"],
            subprocess.DEVNULL,
            tmp / "state-dead",
        )
        time.sleep(3.0)
        rss_dead = rss_kib(proc.pid)
        stop(proc)

        print(f"{lines:,} lines of 200 bytes in 2 files ({size / 1e6:.0f} MB), read from the start")
        print(f"{'reader':<42} {'lines/s':>12} {'CPU s per 1M lines':>20}")
        for name, secs, cpu in rows:
            cpu_text = f"{cpu / lines * 1e6:.2f}" if cpu is not None else "-"
            print(f"{name:<42} {lines / secs:>12,.0f} {cpu_text:>20}")
        imfile = lines / rows[1][1]
        print(f"ratio podkit -> stdout / imfile: {lines / rows[2][1] / imfile:.2f}")
        print(f"ratio podkit -> stdout / tail -F: {lines / rows[2][1] / (lines / rows[0][1]):.2f}")
        print(f"streamer RSS with its RELP output down (buffer full): {rss_dead / 1024:.0f} MiB")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
