"""The example service as a real process: probes, metrics, signals, draining and exit codes."""

from __future__ import annotations

import json
import signal
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.ports import free_port, port_refuses, wait_for_port
from tests.support.processes import Child

SCRIPT = Path(__file__).with_name("example_service.py")


def http(url: str, accept: str | None = None) -> tuple[int, str, dict[str, str]]:
    request = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read().decode(), dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(), dict(exc.headers)


def json_lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


class Running:
    def __init__(self, child: Child, admin: int, work: int) -> None:
        self.child = child
        self.admin = admin
        self.work = work
        self.base = f"http://127.0.0.1:{admin}"


@pytest.fixture
def start() -> Iterator[object]:
    children: list[Child] = []

    def _start(*args: str, env: dict[str, str] | None = None, wait: bool = True) -> Running:
        admin, work = free_port(), free_port()
        child = Child.python(
            SCRIPT,
            f"--admin-listen=127.0.0.1:{admin}",
            f"--listen=127.0.0.1:{work}",
            *args,
            env=env,
        )
        children.append(child)
        if wait:
            wait_for_port(work)
        return Running(child, admin, work)

    yield _start
    for child in children:
        child.stop()


def begin_job(port: int, seconds: float) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=20)
    sock.sendall(f"sleep {seconds}\n".encode())
    assert sock.recv(8, socket.MSG_WAITALL) == b"started\n"
    return sock


def read_reply(sock: socket.socket) -> bytes:
    chunks = []
    while chunk := sock.recv(100):
        chunks.append(chunk)
        if chunk.endswith(b"\n"):
            break
    return b"".join(chunks)


def test_probes_metrics_and_index(start, tmp_path: Path) -> None:
    flag = tmp_path / "warm"
    svc = start(f"--ready-file={flag}")
    status, body, _ = http(svc.base + "/healthz")
    assert (status, body) == (200, "ok\n")
    status, body, _ = http(svc.base + "/readyz")
    assert status == 503
    assert "ready-file: warm does not exist" in body
    status, body, _ = http(svc.base + "/readyz", accept="application/json")
    assert status == 503
    assert json.loads(body)["reasons"] == {"ready-file": "warm does not exist"}
    flag.touch()
    assert http(svc.base + "/readyz")[:2] == (200, "ok\n")

    sock = begin_job(svc.work, 0)
    assert read_reply(sock) == b"done 0\n"
    sock.close()

    status, body, headers = http(svc.base + "/metrics")
    assert status == 200
    assert headers["Content-Type"].startswith("text/plain; version=0.0.4")
    assert "example_jobs_total 1.0" in body
    assert 'example_build_info{python="' in body and 'version="1.2.3"' in body
    assert "process_resident_memory_bytes" in body

    status, body, headers = http(
        svc.base + "/metrics", accept="application/openmetrics-text; version=1.0.0"
    )
    assert headers["Content-Type"].startswith("application/openmetrics-text")
    assert body.rstrip().endswith("# EOF")

    status, body, _ = http(svc.base + "/")
    info = json.loads(body)
    assert info["name"] == "podkit-example"
    assert info["version"] == "1.2.3"
    assert info["event_loop"].startswith("uvloop")
    assert {"/healthz", "/readyz", "/metrics", "/"} <= set(info["endpoints"])


def test_sigterm_drains_in_flight_work_and_exits_zero(start) -> None:
    svc = start()
    sock = begin_job(svc.work, 1.5)
    svc.child.signal(signal.SIGTERM)
    # new work is refused while the old work drains
    deadline = time.monotonic() + 10
    while not port_refuses(svc.work):
        assert time.monotonic() < deadline, "listener still open after SIGTERM"
        time.sleep(0.02)
    assert svc.child.proc.poll() is None, "exited before the in-flight job finished"
    assert read_reply(sock) == b"done 1.5\n"
    assert svc.child.wait() == 0
    events = json_lines(svc.child.stderr)
    messages = [event["msg"] for event in events]
    assert "received SIGTERM; draining in-flight work" in messages
    assert messages[-1] == "podkit-example stopped"
    assert events[-1]["exit_code"] == 0
    assert all(set(event) >= {"ts", "level", "logger", "msg"} for event in events)


def test_grace_period_bounds_the_drain(start) -> None:
    svc = start("--shutdown-grace=300ms")
    sock = begin_job(svc.work, 60)
    svc.child.signal(signal.SIGTERM)
    assert svc.child.wait(timeout=30) == 0
    assert read_reply(sock) == b"", "the abandoned job must not report done"
    events = json_lines(svc.child.stderr)
    abandon = [e for e in events if e["msg"] == "grace period over; abandoning in-flight work"]
    assert abandon and abandon[0]["in_flight"] == 1


def test_second_signal_stops_at_once_with_exit_one(start) -> None:
    svc = start("--shutdown-grace=1m")
    sock = begin_job(svc.work, 60)
    svc.child.signal(signal.SIGINT)
    svc.child.wait_for_output("draining in-flight work")
    svc.child.signal(signal.SIGTERM)
    assert svc.child.wait(timeout=30) == 1
    assert "received SIGTERM again; stopping now" in svc.child.stderr
    sock.close()


def test_sighup_reloads_and_keeps_running(start) -> None:
    svc = start()
    wait_for_port(svc.admin)
    svc.child.signal(signal.SIGHUP)
    svc.child.wait_for_output('"msg": "reloaded"')
    _, body, _ = http(svc.base + "/metrics")
    assert "example_reloads_total 1.0" in body
    assert svc.child.proc.poll() is None


def test_background_crash_exits_one_with_one_line(start) -> None:
    svc = start("--crash-after=200ms")
    assert svc.child.wait() == 1
    errors = [e for e in json_lines(svc.child.stderr) if e["level"] == "error"]
    assert len(errors) == 1
    assert errors[0]["msg"] == "podkit-example failed: the background task broke"


def test_failure_at_start_exits_one(start) -> None:
    svc = start("--fail-start", wait=False)
    assert svc.child.wait() == 1
    errors = [e for e in json_lines(svc.child.stderr) if e["level"] == "error"]
    assert [e["msg"] for e in errors] == ["podkit-example failed to start: told to fail at start"]
    assert port_refuses(svc.admin)


def test_secrets_never_reach_the_log(start) -> None:
    svc = start("--token=s3cr3t-t0ken-value", env={"EXAMPLE_TAGS": "a,b"})
    line = svc.child.wait_for_output("example started")
    assert "s3cr3t-t0ken-value" not in line
    started = next(e for e in json_lines(line) if e["msg"] == "example started")
    assert started["token"] == "***"
    assert started["tags"] == ["a", "b"]


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        (
            ["--shutdown-grace=soon"],
            {},
            "podkit-example: invalid value 'soon' for --shutdown-grace (env EXAMPLE_SHUTDOWN_GRACE) "
            "from flag --shutdown-grace: expected a duration such as 500ms, 10s or 1m30s, not negative",
        ),
        (
            [],
            {"EXAMPLE_LISTEN": "localhost"},
            "podkit-example: invalid value 'localhost' for --listen (env EXAMPLE_LISTEN) from env "
            "EXAMPLE_LISTEN: expected an address HOST:PORT such as 127.0.0.1:8080",
        ),
        (
            [],
            {"OLD_EXAMPLE_MAX_JOBS": "many"},
            "podkit-example: invalid value 'many' for --work.max-jobs (env EXAMPLE_MAX_JOBS) from "
            "env OLD_EXAMPLE_MAX_JOBS: expected a whole number",
        ),
        (
            ["--no-such-flag"],
            {},
            "podkit-example: unrecognized arguments: --no-such-flag (see --help)",
        ),
    ],
)
def test_bad_settings_exit_two_with_one_line(args, env, expected) -> None:
    child = Child.python(SCRIPT, *args, env=env)
    try:
        assert child.wait() == 2
        lines = child.stderr.splitlines()
        assert len(lines) == 1
        assert lines[0].startswith(expected)
    finally:
        child.stop()


def test_version_and_help() -> None:
    child = Child.python(SCRIPT, "--version")
    assert child.wait() == 0
    assert child.stdout.strip() == "podkit-example 1.2.3"
    child.stop()
    child = Child.python(SCRIPT, "--help")
    assert child.wait() == 0
    text = " ".join(child.stdout.split())
    child.stop()
    assert "--shutdown-grace DURATION" in text
    assert "[env EXAMPLE_SHUTDOWN_GRACE, OLD_EXAMPLE_SHUTDOWN_GRACE; default 10s]" in text
    assert (
        "--work.max-jobs N jobs at once [env EXAMPLE_MAX_JOBS, OLD_EXAMPLE_MAX_JOBS; default 100]"
        in text
    )
    assert "--log-level {debug,info,warning,error} log level" in text
    assert "--token TOKEN an API token (logged, to test redaction) [env EXAMPLE_TOKEN" in text
    assert (
        "--tags TAGS a tag [env EXAMPLE_TAGS, OLD_EXAMPLE_TAGS; default none; repeatable]" in text
    )
    assert "env EXAMPLE_ADMIN_LISTEN, OLD_EXAMPLE_ADMIN_LISTEN; default 127.0.0.1:9797" in text


def test_preflight_can_end_the_run_before_the_service_is_built() -> None:
    child = Child.python(SCRIPT, "--check-only", "--work.max-jobs=7")
    try:
        assert child.wait() == 0
        assert child.stdout == "settings ok: 7 jobs\n"
    finally:
        child.stop()


def test_a_service_that_cannot_be_built_exits_one_with_one_line() -> None:
    child = Child.python(SCRIPT, "--fail-build")
    try:
        assert child.wait() == 1
        assert child.stderr == "podkit-example: cannot build: bad thing\n"
    finally:
        child.stop()
