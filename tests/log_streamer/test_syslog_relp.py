"""Syslog over TCP (RFC 5424, octet counting) and RELP to a real rsyslogd, including a killed and
restarted rsyslogd that loses nothing over RELP."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from podkit.log_streamer.outputs.spec import parse_output
from tests.log_streamer.rsyslog import Rsyslog
from tests.log_streamer.streamer import append, check_numbered, embedded, numbered, settings
from tests.support.certs import make_certs
from tests.support.waits import async_wait_until


@pytest.fixture
def rsyslog(tmp_path: Path) -> Iterator[Rsyslog]:
    server = Rsyslog(tmp_path / "rsyslog")
    server.start()
    try:
        yield server
    finally:
        server.stop()


def logs_dir(tmp_path: Path) -> Path:
    logs = tmp_path / "logs"
    logs.mkdir()
    return logs


async def wait_received(server: Rsyslog, count: int) -> list[str]:
    return await async_wait_until(
        lambda: (lines := server.lines()) and len(lines) >= count and lines,
        60,
        f"{count} messages at rsyslog",
    )


def use_template(server: Rsyslog, template: str) -> None:
    """Restart ``server`` writing each message with ``template`` instead of ``%msg%``."""
    server.stop()
    server.conf.write_text(
        server.conf.read_text().replace('string="%msg%\\n"', f'string="{template}\\n"')
    )
    server.start()


@pytest.mark.parametrize("scheme", ["syslog", "relp"])
async def test_records_arrive_as_one_message_each(
    tmp_path: Path, rsyslog: Rsyslog, scheme: str
) -> None:
    use_template(rsyslog, "[%msg%]")
    logs = logs_dir(tmp_path)
    port = rsyslog.tcp_port if scheme == "syslog" else rsyslog.relp_port
    s = settings(
        logs,
        tmp_path / "state",
        tmp_path / "unused",
        output=[parse_output(f"{scheme}://127.0.0.1:{port}")],
        multiline_start=r"^\d",
        multiline_timeout=0.2,
    )
    append(logs / "a.log", ["1 first", "2 tab\there", "3 trace", "  at here", "4 caf\u00e9"])
    async with embedded(s):
        lines = await wait_received(rsyslog, 5)
    # a joined record stays one message (octet counting; RELP frames carry lengths)
    assert lines == ["[1 first]", "[2 tab\there]", "[3 trace", "  at here]", "[4 caf\u00e9]"]


async def test_rfc5424_header_fields(tmp_path: Path, rsyslog: Rsyslog) -> None:
    use_template(rsyslog, "%pri%|%hostname%|%app-name%|%timereported:::date-rfc3339%|%msg%")
    logs = logs_dir(tmp_path)
    s = settings(
        logs,
        tmp_path / "state",
        tmp_path / "unused",
        output=[parse_output(f"relp://127.0.0.1:{rsyslog.relp_port}")],
        syslog_hostname="web-0",
        syslog_app_name="shop",
        syslog_facility=16,
        syslog_severity=3,
        parser="json",
        time_key="ts",
    )
    append(logs / "a.log", ['{"ts": "2024-05-01T10:00:00.5Z", "msg": "hi"}'])
    async with embedded(s):
        [line] = await wait_received(rsyslog, 1)
    pri, host, app, stamp, msg = line.split("|", 4)
    assert (pri, host, app) == (str(16 * 8 + 3), "web-0", "shop")
    assert stamp.startswith("2024-05-01T10:00:00.5")
    assert msg == '{"ts": "2024-05-01T10:00:00.5Z", "msg": "hi"}'


async def test_relp_survives_rsyslog_kill_and_restart_without_loss(
    tmp_path: Path, rsyslog: Rsyslog
) -> None:
    logs = logs_dir(tmp_path)
    s = settings(
        logs,
        tmp_path / "state",
        tmp_path / "unused",
        output=[parse_output(f"relp://127.0.0.1:{rsyslog.relp_port}")],
        retry_max_backoff=0.2,
        batch_records=200,
    )
    log = logs / "a.log"
    async with embedded(s) as streamer:
        append(log, (numbered("a", i) for i in range(2000)))
        await wait_received(rsyslog, 500)
        rsyslog.stop(signal.SIGKILL)
        append(log, (numbered("a", i) for i in range(2000, 4000)))
        await asyncio.sleep(1.0)  # the streamer retries against a dead port meanwhile
        rsyslog.start()
        await async_wait_until(
            lambda: len(set(rsyslog.lines())) >= 4000, 60, "4000 distinct lines at rsyslog"
        )
        failed = streamer.channels[0].stats.failed
    # at-least-once: a batch in flight when rsyslog died may arrive twice, but nothing is
    # missing and the first arrival of each line is in order
    check_numbered(list(dict.fromkeys(rsyslog.lines())), {"a": 4000})
    assert failed > 0


async def test_syslog_tcp_reconnects_after_rsyslog_restart(
    tmp_path: Path, rsyslog: Rsyslog
) -> None:
    logs = logs_dir(tmp_path)
    s = settings(
        logs,
        tmp_path / "state",
        tmp_path / "unused",
        output=[parse_output(f"syslog://127.0.0.1:{rsyslog.tcp_port}")],
        retry_max_backoff=0.2,
    )
    log = logs / "a.log"
    async with embedded(s):
        append(log, (numbered("a", i) for i in range(100)))
        await wait_received(rsyslog, 100)
        rsyslog.stop()
        rsyslog.start()
        append(log, (numbered("a", i) for i in range(100, 200)))
        await async_wait_until(
            lambda: any(line.startswith("a 00000199") for line in rsyslog.lines()),
            60,
            "the last line after the restart",
        )


async def test_relp_over_tls_with_client_certificates(tmp_path: Path) -> None:
    certs = make_certs(tmp_path / "certs")
    server = Rsyslog(tmp_path / "rsyslog", tls=certs)
    server.start()
    try:
        logs = logs_dir(tmp_path)
        s = settings(
            logs,
            tmp_path / "state",
            tmp_path / "unused",
            output=[parse_output(f"relp+tls://127.0.0.1:{server.relp_port}")],
            tls_ca_file=certs["ca"],
            tls_cert_file=certs["cert"],
            tls_key_file=certs["key"],
        )
        append(logs / "a.log", (numbered("a", i) for i in range(100)))
        async with embedded(s):
            lines = await wait_received(server, 100)
        check_numbered(lines, {"a": 100})
    finally:
        server.stop()
