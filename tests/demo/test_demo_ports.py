"""`make demo`'s ports: every one can be moved, and a busy one stops the demo before it starts."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEMO = str(ROOT / "scripts/demo.py")


def run_demo(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, DEMO, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=ROOT,
    )


def test_help_lists_a_flag_and_an_env_var_for_every_port() -> None:
    out = run_demo("--help").stdout
    for name in ("redis", "redis-admin", "statsd", "statsd-web", "jmx", "git-sync-web"):
        assert f"--{name}-port" in out
        assert "PODKIT_DEMO_" + name.upper().replace("-", "_") + "_PORT" in out
    assert "--port-base" in out


def test_a_busy_port_stops_the_demo_before_anything_starts() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run_demo(f"--redis-port={port}")
    assert done.returncode == 2
    assert f"demo: port {port}/TCP for the Redis ambassador" in done.stderr
    assert "--redis-port or PODKIT_DEMO_REDIS_PORT" in done.stderr
    assert "=== podkit demo is running" not in done.stdout


def test_the_same_port_twice_is_refused_and_env_vars_count() -> None:
    env = dict(os.environ, PODKIT_DEMO_STATSD_WEB_PORT="1", PODKIT_DEMO_JMX_PORT="1")
    done = run_demo("--port-base=70000", env=env)
    assert done.returncode == 2
    assert "is out of range" in done.stderr  # the base puts the others past 65535
    assert "port 1 is chosen for both jmx and statsd-web" in done.stderr
