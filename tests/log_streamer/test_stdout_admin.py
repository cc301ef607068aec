"""The stdout output as Kubernetes reads it, and the admin endpoints a kubelet and Prometheus use."""

from __future__ import annotations

import json
import signal
import urllib.request
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from tests.log_streamer.streamer import append, check_numbered, numbered, streamer_process
from tests.support.ports import free_port
from tests.support.waits import wait_until


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_raw_stdout_from_many_files_never_interleaves(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    names = [f"f{i}" for i in range(8)]
    for name in names:
        append(logs / f"{name}.log", (numbered(name, i) for i in range(2000)))
    with streamer_process("--path", str(logs / "*.log"), "--admin-listen", "") as proc:
        wait_until(lambda: proc.stdout.count("\n") >= 16000, 60, "16000 lines")
        proc.signal(signal.SIGTERM)
        assert proc.wait() == 0
        out = proc.stdout
    check_numbered(out.splitlines(), dict.fromkeys(names, 2000))


def test_json_stdout_carries_metadata_and_keeps_invalid_utf8(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "a.log").write_bytes(b'{"level": "warn", "t": "2024-05-01T10:00:00Z"}\ncaf\xe9\n')
    env = {"POD_NAME": "web-0", "POD_NAMESPACE": "shop", "NODE_NAME": "n1", "CONTAINER_NAME": "app"}
    with streamer_process(
        "--path", str(logs / "*.log"), "--format", "json", "--parser", "json", "--time-key", "t",
        "--label", "team=core", "--admin-listen", "", env=env,
    ) as proc:  # fmt: skip
        wait_until(lambda: proc.stdout.count("\n") >= 2, 30, "2 lines")
        proc.signal(signal.SIGTERM)
        assert proc.wait() == 0
        first, second = (json.loads(line) for line in proc.stdout.splitlines())
    assert first["fields"] == {"level": "warn", "t": "2024-05-01T10:00:00Z"}
    assert first["time"] == "2024-05-01T10:00:00.000000Z"
    assert (first["pod"], first["namespace"], first["node"], first["container"]) == (
        "web-0",
        "shop",
        "n1",
        "app",
    )
    assert first["labels"] == {"team": "core"}
    assert first["path"] == str(logs / "a.log")
    assert first["id"].endswith(":0")
    assert second["message"] == "caf\\xe9"
    assert "fields" not in second


def test_metrics_health_and_readiness(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    port = free_port()
    log = logs / "a.log"
    append(log, (numbered("a", i) for i in range(10)))
    refused = free_port()  # nothing listens here: the RELP output is down
    with streamer_process(
        "--path", str(logs / "*.log"), "--admin-listen", f"127.0.0.1:{port}",
        "--output", "stdout", "--output", f"relp://127.0.0.1:{refused}",
        "--retry-max-backoff", "200ms", "--buffer-records", "5",
    ) as proc:  # fmt: skip
        proc.wait_for_output("started")
        assert get(f"http://127.0.0.1:{port}/healthz")[0] == 200
        _status, body = wait_until(
            lambda: (r := get(f"http://127.0.0.1:{port}/readyz"))[0] == 503 and r, 30, "not ready"
        )
        assert "relp://127.0.0.1" in body
        wait_until(lambda: proc.stdout.count("\n") >= 5, 30, "lines on stdout")
        text = get(f"http://127.0.0.1:{port}/metrics")[1]
        proc.signal(signal.SIGTERM)
        assert proc.wait() == 0
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    path = (("path", str(log)),)
    assert samples[("log_streamer_read_lines_total", path)] == 10
    assert samples[("log_streamer_read_bytes_total", path)] == 10 * (len(numbered("a", 0)) + 1)
    assert ("log_streamer_behind_bytes", path) in samples
    relp = (("output", f"relp://127.0.0.1:{refused}"),)
    assert samples[("log_streamer_output_up", relp)] == 0
    assert samples[("log_streamer_records_failed_total", relp)] > 0
    assert samples[("log_streamer_records_sent_total", (("output", "stdout"),))] >= 5
    assert ("log_streamer_rotations_total", path) in samples
    assert ("log_streamer_dropped_bytes_total", (("reason", "truncated_unread"),)) in samples
