"""The ``podkit-statsd-adapter`` command as a process: flags, --check-config, signals."""

from __future__ import annotations

import shutil
import signal
import socket
import urllib.request
from pathlib import Path

from tests.support.ports import free_port, wait_for_port
from tests.support.processes import Child
from tests.support.waits import wait_until


def command() -> list[str]:
    path = shutil.which("podkit-statsd-adapter")
    assert path, "podkit-statsd-adapter is not installed: run `uv sync --all-packages`"
    return [path]


def page(port: int, path: str) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
        return str(response.read().decode())


def run(*args: str) -> Child:
    child = Child([*command(), *args])
    child.wait()
    return child


def test_check_config_accepts_a_good_file_and_rejects_a_bad_one(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text("mappings:\n- match: a.*\n  name: a\n")
    child = run(f"--statsd.mapping-config={good}", "--check-config")
    assert child.proc.returncode == 0
    assert "1 mappings, configuration check successful" in child.stdout
    child.stop()
    bad = tmp_path / "bad.yaml"
    bad.write_text("mappings:\n- match: a.*\n  name: a\n  lables: {x: y}\n")
    child = run(f"--statsd.mapping-config={bad}", "--check-config")
    assert child.proc.returncode == 1
    assert "invalid mapping" in child.stderr
    assert "lables" in child.stderr
    child.stop()


def test_bad_flags_exit_two_with_one_line() -> None:
    child = run("--statsd.listen-udp=nowhere")
    assert child.proc.returncode == 2
    lines = child.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(
        "podkit-statsd-adapter: invalid value 'nowhere' for --statsd.listen-udp "
        "(env STATSD_ADAPTER_LISTEN_UDP) from flag --statsd.listen-udp"
    )
    child.stop()


def test_a_bad_mapping_file_at_start_exits_one(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("mappings: nope\n")
    child = run(f"--statsd.mapping-config={bad}", "--statsd.listen-tcp=")
    assert child.proc.returncode == 1
    assert len(child.stderr.splitlines()) == 1
    child.stop()


def test_help_lists_statsd_exporter_flags() -> None:
    child = run("--help")
    text = " ".join(child.stdout.split())
    child.stop()
    for flag in (
        "--statsd.listen-udp",
        "--statsd.listen-tcp",
        "--statsd.listen-unixgram",
        "--statsd.mapping-config",
        "--statsd.cache-size",
        "--statsd.event-queue-size",
        "--statsd.parse-dogstatsd-tags",
        "--statsd.relay.address",
        "--web.listen-address",
        "--web.telemetry-path",
        "--web.enable-lifecycle",
        "--check-config",
    ):
        assert flag in text, flag
    assert "env STATSD_ADAPTER_LISTEN_UDP; default 127.0.0.1:9125" in text


def test_runs_serves_and_stops_on_sigterm() -> None:
    udp, web = free_port(socket.SOCK_DGRAM), free_port()
    child = Child(
        [
            *command(),
            f"--statsd.listen-udp=127.0.0.1:{udp}",
            "--statsd.listen-tcp=",
            f"--web.listen-address=127.0.0.1:{web}",
            "--web.telemetry-path=/stats",
            "--no-statsd.parse-dogstatsd-tags",
        ]
    )
    try:
        wait_for_port(web)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.sendto(b"cli.hits:4|c|#env:prod", ("127.0.0.1", udp))

        def counted() -> str:
            text = page(web, "/stats")
            return text if "statsd_exporter_udp_packets_total 1.0" in text else ""

        body = wait_until(counted, what="the packet counted on /stats")
        # DogStatsD tags are off: the |#env:prod part is not read as labels
        assert "\ncli_hits 4\n" in body
        assert 'env="prod"' not in body
        child.signal(signal.SIGTERM)
        assert child.wait() == 0
    finally:
        child.stop()


def test_check_config_refuses_an_empty_or_truncated_file(tmp_path: Path) -> None:
    for text in ("", "mappings:\n"):
        path = tmp_path / "mapping.yaml"
        path.write_text(text)
        child = run(f"--statsd.mapping-config={path}", "--check-config")
        assert child.proc.returncode == 1, child.stderr
        assert "invalid mapping" in child.stderr
        child.stop()


def test_statsd_exporter_flags_from_charts_are_accepted_and_the_series_cap_logs_once() -> None:
    udp, web = free_port(socket.SOCK_DGRAM), free_port()
    child = Child(
        [
            *command(),
            f"--statsd.listen-udp=127.0.0.1:{udp}",
            "--statsd.listen-tcp=",
            f"--web.listen-address=127.0.0.1:{web}",
            "--statsd.udp-packet-queue-size=256",
            "--statsd.event-queue-size=2048",
            "--log.level=warn",
            "--log.format=json",
            "--statsd.max-series=3",
        ]
    )
    try:
        wait_for_port(web)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            for batch in range(3):
                lines = (f"flood.b{batch}.n{i}:1|c" for i in range(10))
                sock.sendto("\n".join(lines).encode(), ("127.0.0.1", udp))
        wait_until(
            lambda: 'events_dropped_total{reason="series_limit"} 27.0' in page(web, "/metrics"),
            what="27 events dropped at the series cap",
        )
        child.signal(signal.SIGTERM)
        assert child.wait() == 0
        log = child.stderr
        assert log.count("series limit reached") == 1, log
        assert "listening for StatsD" not in log  # an info line: --log.level=warn hides it
    finally:
        child.stop()
