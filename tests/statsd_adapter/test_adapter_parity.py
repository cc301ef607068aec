"""statsd_exporter v0.30's series semantics and accept/reject rules, through real sockets.

Each case is something a differential run against statsd_exporter found different; the page
must also stay parseable by Prometheus' parser whatever was sent.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from podkit.core import HostPort
from podkit.statsd_adapter.service import StatsdAdapter
from podkit.statsd_adapter.settings import StatsdSettings
from tests.support.ports import free_port
from tests.support.waits import async_wait_until

MAPPING = """
mappings:
- match: "lat.*"
  name: "lat_seconds"
  observer_type: histogram
  labels: {which: "$1"}
- match: "empty.*"
  name: "$2"
"""


class Adapter:
    def __init__(self, adapter: StatsdAdapter, udp: int, tcp: int) -> None:
        self.adapter = adapter
        self.udp = udp
        self.tcp = tcp

    def send(self, payload: bytes) -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.sendto(payload, ("127.0.0.1", self.udp))

    async def page(self) -> str:
        url = f"{self.adapter.admin.url}/metrics"
        async with aiohttp.ClientSession() as session, session.get(url) as response:
            assert response.status == 200
            text = await response.text()
        list(text_string_to_metric_families(text))  # Prometheus' parser takes the whole page
        return text

    async def lines_after(self, marker: str) -> list[str]:
        """The page's sample lines once ``marker`` (a sample line prefix) shows up."""

        async def samples() -> list[str]:
            lines = [line for line in (await self.page()).splitlines() if line[:1] != "#"]
            return lines if any(line.startswith(marker) for line in lines) else []

        return await async_wait_until(samples, timeout=15, what=f"{marker!r} on the page")


@pytest.fixture
async def adapter(tmp_path: Path) -> AsyncIterator[Adapter]:
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(MAPPING)
    udp, tcp = free_port(socket.SOCK_DGRAM), free_port()
    settings = StatsdSettings(
        listen_udp=HostPort("127.0.0.1", udp),
        listen_tcp=HostPort("127.0.0.1", tcp),
        admin_listen=HostPort("127.0.0.1", 0),
        mapping_config=str(mapping),
        enable_lifecycle=True,
    )
    async with StatsdAdapter(settings) as running:
        yield Adapter(running, udp, tcp)


async def test_one_name_with_different_label_sets_keeps_every_series(adapter: Adapter) -> None:
    adapter.send(b"p:1|c|#a:1\np:1|c|#b:1\np:1|c\np:2|c|#a:1,b:1\np:1|c|#a:1")
    lines = await adapter.lines_after("statsd_exporter_lines_total 5")
    assert [line for line in lines if line.startswith(("p ", "p{"))] == [
        "p 1",
        'p{a="1"} 2',
        'p{b="1"} 1',
        'p{a="1",b="1"} 2',
    ]
    assert not any(line.startswith("statsd_exporter_events_conflict_total") for line in lines)
    assert 'statsd_exporter_metrics_total{type="counter"} 4.0' in lines  # one per label-name set


async def test_names_that_cannot_be_exposed_are_rejected_and_counted(adapter: Adapter) -> None:
    adapter.send(
        b",k=v:1|c\n[k=v]:1|c\n#k=v:1|c\nempty.x:1|c\n"  # no name left: empty_metric_name
        b"p:1|c|#__name__:zz\nq,__x=1:1|c\n"  # reserved label names: invalid_label_name
        b"lat.a:5|ms|#le:1\n"  # a histogram may not carry its own le label
        b"statsd_exporter_lines_total:1|c\nprocess_open_fds:1|g\n"  # the page's own families
        b"good:1|c"
    )
    lines = await adapter.lines_after("good 1")
    assert 'statsd_exporter_events_error_total{reason="empty_metric_name"} 4.0' in lines
    assert 'statsd_exporter_sample_errors_total{reason="invalid_label_name"} 2.0' in lines
    assert 'statsd_exporter_events_error_total{reason="invalid_label_name"} 1.0' in lines
    assert (
        'statsd_exporter_events_conflict_total{metric_name="statsd_exporter_lines_total",'
        'type="counter"} 1.0'
    ) in lines
    assert (
        'statsd_exporter_events_conflict_total{metric_name="process_open_fds",type="gauge"} 1.0'
    ) in lines
    assert not any(line.startswith(("{", "p ", "q ", "lat_")) for line in lines)


async def test_sample_rates_use_statsd_exporters_arithmetic(adapter: Adapter) -> None:
    adapter.send(b"lat.r:1|ms|@0.0001\nc:1|c|@0.1\nd:1|h|@0.3")
    lines = await adapter.lines_after("c 10")
    assert 'lat_seconds_count{which="r"} 10000' in lines
    assert "d_count 3" in lines  # int(1/0.3)


async def test_tcp_lines_buffer_and_counts_match_statsd_exporter(adapter: Adapter) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", adapter.tcp)
    fits = b"fits:1|c|#k:" + b"v" * (4095 - len(b"fits:1|c|#k:"))  # 4095 bytes and \n: fits
    writer.write(b"a:1|c\r\n\nb:1|c\n" + fits + b"\n")
    writer.write(b"c:1|c\n" + b"x" * 4096 + b"\nafter:1|c\n")  # the long line ends it all
    await writer.drain()
    assert await asyncio.wait_for(reader.read(), 10) == b""  # closed by the adapter
    writer.close()
    lines = await adapter.lines_after("statsd_exporter_tcp_too_long_lines_total 1")
    assert "a 1" in lines and "b 1" in lines and "c 1" in lines
    assert any(line.startswith("fits{") for line in lines)
    assert not any(line.startswith("after") for line in lines)
    assert "statsd_exporter_lines_total 5.0" in lines  # a, the empty line, b, fits, c

    _, writer = await asyncio.open_connection("127.0.0.1", adapter.tcp)
    writer.write(b"last:7|g")  # no newline: taken when the client closes
    await writer.drain()
    writer.close()
    lines = await adapter.lines_after("last 7")
    assert "statsd_exporter_lines_total 6.0" in lines


async def test_statsd_exporter_endpoints(adapter: Adapter, tmp_path: Path) -> None:
    base = adapter.adapter.admin.url
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{base}/-/healthy") as response:
            assert (response.status, await response.text()) == (
                200,
                "Statsd Exporter is Healthy.\n",
            )
        async with session.get(f"{base}/-/ready") as response:
            assert (response.status, await response.text()) == (200, "Statsd Exporter is Ready.\n")
        (tmp_path / "mapping.yaml").write_text("")  # a ConfigMap caught half-written
        async with session.post(f"{base}/-/reload") as response:
            assert response.status == 500
            assert "empty" in await response.text()
    adapter.send(b"lat.kept:1|ms")  # the old mapping still maps
    lines = await adapter.lines_after('lat_seconds_count{which="kept"} 1')
    assert 'statsd_exporter_config_reloads_total{outcome="failure"} 1.0' in lines
    assert "statsd_exporter_loaded_mappings 2.0" in lines
