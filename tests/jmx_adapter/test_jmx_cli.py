"""The console script as a process: jmx_exporter's command line, /metrics, SIGHUP, SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.support.ports import free_port, wait_for_port
from tests.support.waits import wait_until

CONFIG = """
hostPort: {host_port}
includeObjectNames: ["podkit.test:type=Simple,*"]
rules:
  - pattern: 'podkit.test<type=Simple, name=alpha><>Count'
    name: {name}
"""


def _get(url: str) -> str:
    """The body of a 200 answer; "" for the 500 of /metrics before the first scrape."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.read().decode()
    except urllib.error.HTTPError as exc:
        if exc.code != 500:
            raise
        return ""


def _start(config: Path, port: int, helper_cache: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "podkit.jmx_adapter.cli",
            f"127.0.0.1:{port}",
            str(config),
            "--config-poll-interval=0",
            f"--helper-cache-dir={helper_cache}",
            *extra,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_cli_serves_reloads_on_sighup_and_stops(jvm, helper_cache: Path, tmp_path: Path) -> None:
    config = tmp_path / "jmx.yaml"
    config.write_text(CONFIG.format(host_port=jvm.host_port, name="first"))
    port = free_port()
    proc = _start(config, port, helper_cache, "--scrape-interval=200ms")
    try:
        wait_for_port(port)
        url = f"http://127.0.0.1:{port}/metrics"
        wait_until(lambda: "\nfirst 42.0\n" in _get(url), what="the first config's metric")
        config.write_text(CONFIG.format(host_port=jvm.host_port, name="second"))
        os.kill(proc.pid, signal.SIGHUP)
        wait_until(lambda: "\nsecond 42.0\n" in _get(url), what="the reloaded metric")
        assert "jmx_config_reload_success_total 1.0" in _get(url)
        os.kill(proc.pid, signal.SIGTERM)
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(10)


def test_catastrophic_pattern_cannot_wedge_it(jvm, helper_cache: Path, tmp_path: Path) -> None:
    """A pattern that backtracks for ages: scrapes fail with the reason at the scrape timeout,
    /healthz answers meanwhile, and SIGTERM in the middle of one ends the process at once."""
    config = tmp_path / "jmx.yaml"
    config.write_text(
        f"hostPort: {jvm.host_port}\n"
        'includeObjectNames: ["podkit.test:type=Simple,*"]\n'
        "rules:\n"
        "  - pattern: '([a-zA-Z.<>=, ]+)+X'\n"  # the example (linear in Java 9+)
        "    name: never\n"
        "  - pattern: '(.*.){12}@'\n"  # exponential in java.util.regex too
        "    name: never_either\n"
    )
    port = free_port()
    proc = _start(config, port, helper_cache, "--scrape-interval=100ms", "--scrape-timeout=2s")
    try:
        wait_for_port(port)
        base = f"http://127.0.0.1:{port}"
        wait_until(lambda: "jmx_scrape_error 1.0" in _get(f"{base}/metrics"), timeout=60)
        for _ in range(5):  # the helper is busy backtracking most of the time now
            assert _get(f"{base}/healthz")
            time.sleep(0.2)
        os.kill(proc.pid, signal.SIGTERM)
        assert proc.wait(30) == 0
        assert proc.stderr is not None
        log = proc.stderr.read()
        assert "(.*.){12}@" in log  # the reason names the pattern
        assert "scrape timeout ran out" in log
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(10)
