"""The console script as a process: jmx_exporter's command line, /metrics, SIGHUP, SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
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
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read().decode()


def test_cli_serves_reloads_on_sighup_and_stops(jvm, helper_cache: Path, tmp_path: Path) -> None:
    config = tmp_path / "jmx.yaml"
    config.write_text(CONFIG.format(host_port=jvm.host_port, name="first"))
    port = free_port()
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "cache"))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "podkit.jmx_adapter.cli",
            f"127.0.0.1:{port}",
            str(config),
            "--scrape-interval=200ms",
            "--config-poll-interval=0",
            f"--helper-cache-dir={helper_cache}",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
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
