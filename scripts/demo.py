"""`make demo`: runs every podkit component that exists on embedded defaults, prints where to look,
and stops everything cleanly on Ctrl-C (or SIGTERM).

Each part is a process started from this workspace; parts are added as components land. Until the
first component is runnable, the demo runs the podkit-core example service.
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


@dataclass
class Part:
    title: str
    argv: list[str]
    ready_url: str
    urls: dict[str, str] = field(default_factory=dict)
    try_it: list[str] = field(default_factory=list)


def parts() -> list[Part]:
    admin = "http://127.0.0.1:9797"
    return [
        Part(
            title="podkit-core example service (a slow TCP job server)",
            argv=[
                sys.executable,
                str(ROOT / "tests/core/example_service.py"),
                "--log-format=text",
                "--ready-after=2s",
            ],
            ready_url=admin + "/healthz",
            urls={
                "liveness": admin + "/healthz",
                "readiness": admin + "/readyz",
                "metrics": admin + "/metrics",
                "about": admin + "/",
            },
            try_it=[
                "bash -c 'exec 3<>/dev/tcp/127.0.0.1/9798; echo \"sleep 5\" >&3; cat <&3'  # Ctrl-C the demo: the job drains",
                "curl -s 127.0.0.1:9797/metrics | grep example_",
            ],
        )
    ]


def wait_ready(url: str, timeout: float = 20.0) -> bool:
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
