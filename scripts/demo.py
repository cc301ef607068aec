"""`make demo`: runs every podkit component that exists on embedded defaults, prints where to look,
and stops everything cleanly on Ctrl-C (or SIGTERM).

Each part is a process started from this workspace; parts are added as components land.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "scripts" / "demo"


@dataclass
class Part:
    title: str
    argv: list[str]
    ready_url: str
    urls: dict[str, str] = field(default_factory=dict)
    try_it: list[str] = field(default_factory=list)
    show: tuple[str, str] | None = None
    """(URL, prefix): after start-up, print the lines of that page that start with the prefix."""


def parts() -> list[Part]:
    statsd_web = "http://127.0.0.1:9102"
    return [
        Part(
            title="StatsD adapter (statsd_exporter-compatible), fed by a sample shop app",
            argv=[
                sys.executable,
                "-m",
                "podkit.statsd_adapter.cli",
                f"--statsd.mapping-config={DEMO / 'statsd-mapping.yaml'}",
                "--web.listen-address=127.0.0.1:9102",
                "--web.enable-lifecycle",
                "--log.format=text",
            ],
            ready_url=statsd_web + "/readyz",
            urls={
                "metrics": statsd_web + "/metrics",
                "readiness": statsd_web + "/readyz",
            },
            try_it=[
                "echo 'my.counter:1|c' > /dev/udp/127.0.0.1/9125; curl -s 127.0.0.1:9102/metrics | grep my_counter",
                "curl -X POST 127.0.0.1:9102/-/reload   # reload scripts/demo/statsd-mapping.yaml",
            ],
            show=(statsd_web + "/metrics", "shop_"),
        ),
        Part(
            title="sample app sending StatsD to 127.0.0.1:9125",
            argv=[sys.executable, str(DEMO / "sample_app.py"), "9125"],
            ready_url="",
        ),
    ]


def wait_ready(url: str, timeout: float = 20.0) -> bool:
    if not url:
        return True
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return True
        except OSError:
            time.sleep(0.1)
    return False


def main() -> int:
    running: list[tuple[Part, subprocess.Popen[bytes]]] = []
    stop = False

    def on_signal(signum: int, _frame: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        for part in parts():
            proc = subprocess.Popen(part.argv, cwd=ROOT, start_new_session=True)
            running.append((part, proc))
            if not wait_ready(part.ready_url):
                print(f"demo: {part.title} did not come up", file=sys.stderr)
                return 1
        print("\n=== podkit demo is running; Ctrl-C stops everything ===")
        for part, proc in running:
            print(f"\n* {part.title} (pid {proc.pid})")
            for label, url in part.urls.items():
                print(f"    {label:<10} {url}")
            for line in part.try_it:
                print(f"    try:       {line}")
        print(flush=True)
        time.sleep(2)
        for part, _ in running:
            if part.show is not None:
                url, prefix = part.show
                with urllib.request.urlopen(url, timeout=5) as response:
                    page = response.read().decode()
                shown = [
                    line
                    for line in page.splitlines()
                    if line.startswith(prefix) and "_bucket{" not in line
                ]
                print(f"--- {url} (lines starting with {prefix!r}, buckets left out) ---")
                print("\n".join(shown[:25]), flush=True)
        while not stop:
            for part, proc in running:
                if proc.poll() is not None:
                    print(f"demo: {part.title} exited with {proc.returncode}", file=sys.stderr)
                    return 1
            time.sleep(0.2)
        return 0
    finally:
        for _, proc in running:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for _, proc in running:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        print("demo: stopped", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
