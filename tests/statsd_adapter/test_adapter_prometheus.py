"""A real Prometheus (Debian's ``prometheus`` package) scrapes a real adapter process.

The adapter gets the traffic that used to break the page (names with no name left, a
``__name__`` tag, one name with different label sets, clashes with its own families); the page
must pass ``promtool check metrics`` without a parse error, and Prometheus must report the
target up with the series stored, read back through its HTTP query API.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.ports import free_port, wait_for_port
from tests.support.processes import Child
from tests.support.waits import wait_until

TRAFFIC = (
    b",k=v:1|c\n[k=v]:1|c\n#k=v:1|c\np:1|c|#__name__:zz\n"
    b"p:1|c|#a:1\np:2|c|#b:1\np:3|c\nstatsd_exporter_lines_total:1|c\n"
    b"lat:250|ms|#route:home\nusers:5|g"
)


def binary(name: str) -> str:
    path = shutil.which(name)
    assert path, (
        f"{name} is missing: install Debian's prometheus package (scripts/system-packages.txt)"
    )
    return path


def get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read()


@pytest.fixture
def adapter() -> Iterator[tuple[int, int]]:
    udp, web = free_port(socket.SOCK_DGRAM), free_port()
    command = shutil.which("podkit-statsd-adapter")
    assert command, "podkit-statsd-adapter is not installed: run `uv sync --all-packages`"
    with Child(
        [
            command,
            f"--statsd.listen-udp=127.0.0.1:{udp}",
            "--statsd.listen-tcp=",
            f"--web.listen-address=127.0.0.1:{web}",
        ]
    ) as child:
        wait_for_port(web)
        yield udp, web
        assert child.proc.poll() is None, child.stderr


def test_prometheus_scrapes_every_series_and_promtool_parses_the_page(
    adapter: tuple[int, int], tmp_path: Path
) -> None:
    udp, web = adapter
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.sendto(TRAFFIC, ("127.0.0.1", udp))
    page = wait_until(
        lambda: (
            (text := get(f"http://127.0.0.1:{web}/metrics")) and b"\nusers 5\n" in text and text
        ),
        what="the traffic showing on /metrics",
    )
    lint = subprocess.run(
        [binary("promtool"), "check", "metrics"], input=page, capture_output=True, check=False
    )
    # 0: clean; 3: only lint advice (statsd_exporter's counters have no _total); 1: parse error
    assert lint.returncode in (0, 3), lint.stdout + lint.stderr
    assert b"error while linting" not in lint.stdout + lint.stderr

    port = free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 1s, scrape_timeout: 1s}\n"
        "scrape_configs:\n"
        f"- job_name: statsd\n  static_configs: [{{targets: ['127.0.0.1:{web}']}}]\n"
    )
    with Child(
        [
            binary("prometheus"),
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        ]
    ) as prometheus:
        wait_for_port(port)

        def ready() -> bool:
            try:
                get(f"http://127.0.0.1:{port}/-/ready")
            except OSError:  # 503 while the storage opens
                return False
            return True

        wait_until(ready, timeout=60, what="Prometheus being ready")

        def query(expr: str) -> list[dict[str, Any]]:
            url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
            answer = json.loads(get(url))
            assert answer["status"] == "success", answer
            return list(answer["data"]["result"])

        up = wait_until(
            lambda: query('up{job="statsd"} == 1'), timeout=60, what="the adapter scraped as up"
        )
        assert up[0]["value"][1] == "1", prometheus.stderr
        series = wait_until(lambda: query("p"), timeout=60, what="the p series stored")
        assert sorted(json.dumps(s["metric"], sort_keys=True) for s in series) == sorted(
            json.dumps({"__name__": "p", "instance": f"127.0.0.1:{web}", "job": "statsd", **labels},
                       sort_keys=True)
            for labels in ({}, {"a": "1"}, {"b": "1"})
        )  # fmt: skip
        assert query('lat_count{route="home"}')[0]["value"][1] == "1"
        assert query("statsd_exporter_events_error_total")  # the rejects are counted and stored
        targets = json.loads(get(f"http://127.0.0.1:{port}/api/v1/targets"))
        assert targets["data"]["activeTargets"][0]["lastError"] == ""
