"""The StatsD adapter in-process: real UDP, TCP and Unix datagrams in, real /metrics out."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from podkit.core import HostPort
from podkit.statsd_adapter.exposition import render
from podkit.statsd_adapter.service import StatsdAdapter
from podkit.statsd_adapter.settings import StatsdSettings
from tests.support.ports import free_port
from tests.support.waits import async_wait_until

MAPPING = """
defaults:
  ttl: 0
mappings:
- match: "app.*.requests"
  name: "app_requests_total"
  help: "Requests by handler."
  labels:
    handler: "$1"
- match: "app.*.latency"
  name: "app_latency_seconds"
  observer_type: histogram
  histogram_options:
    buckets: [0.01, 0.1, 1]
  labels:
    handler: "$1"
- match: "short.*"
  name: "short_lived"
  ttl: 30s
- match: "noise.*"
  name: "dropped"
  action: drop
- match: "default.buckets"
  name: "default_buckets"
  observer_type: histogram
"""


class Running:
    def __init__(self, adapter: StatsdAdapter, udp: int, tcp: int, unixgram: Path) -> None:
        self.adapter = adapter
        self.udp = udp
        self.tcp = tcp
        self.unixgram = unixgram
        self.url = f"{adapter.admin.url}/metrics"

    def send_udp(self, payload: bytes) -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.sendto(payload, ("127.0.0.1", self.udp))

    async def scrape(self) -> dict[str, float]:
        async with aiohttp.ClientSession() as session, session.get(self.url) as response:
            assert response.status == 200
            text = await response.text()
        list(text_string_to_metric_families(text))  # the whole exposition must parse
        samples: dict[str, float] = {}
        for line in text.splitlines():  # exact names: the parser would rename counters
            if line and not line.startswith("#"):
                key, value = line.rsplit(" ", 1)
                samples[key.replace('"', "")] = float(value)
        return samples

    async def wait_for(self, key: str, value: float | None = None) -> dict[str, float]:
        async def reached() -> dict[str, float]:
            samples = await self.scrape()
            return samples if key in samples and value in (None, samples[key]) else {}

        return await async_wait_until(reached, timeout=10, what=f"{key} to become {value}")


def make_settings(tmp_path: Path, **changes: object) -> StatsdSettings:
    mapping = tmp_path / "mapping.yaml"
    if not mapping.exists():
        mapping.write_text(MAPPING)
    port = free_port(socket.SOCK_DGRAM)
    values: dict[str, object] = {
        "listen_udp": HostPort("127.0.0.1", port),
        "listen_tcp": HostPort("127.0.0.1", free_port()),
        "listen_unixgram": str(tmp_path / "statsd.sock"),
        "admin_listen": HostPort("127.0.0.1", 0),
        "mapping_config": str(mapping),
    }
    values.update(changes)
    return StatsdSettings(**values)


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[Running]:
    settings = make_settings(tmp_path)
    async with StatsdAdapter(settings) as adapter:
        assert settings.listen_udp is not None and settings.listen_tcp is not None
        yield Running(
            adapter, settings.listen_udp.port, settings.listen_tcp.port, tmp_path / "statsd.sock"
        )


async def test_udp_lines_are_mapped_and_exposed(running: Running) -> None:
    running.send_udp(
        b"app.home.requests:1|c\napp.home.requests:2|c|@0.5\n"
        b"app.home.latency:25|ms\napp.home.latency:250|ms\n"
        b"users.online:5|g\nusers.online:+2|g\nuniques:alice|s\nuniques:bob|s\nuniques:alice|s\n"
        b"noise.x:1|c\nbad line\n"
    )
    running.send_udp(b"default.buckets:0.5|h")
    samples = await running.wait_for("uniques")
    assert samples["app_requests_total{handler=home}"] == 5.0
    assert samples["app_latency_seconds_bucket{handler=home,le=0.01}"] == 0
    assert samples["app_latency_seconds_bucket{handler=home,le=0.1}"] == 1
    assert samples["app_latency_seconds_bucket{handler=home,le=+Inf}"] == 2
    assert samples["app_latency_seconds_sum{handler=home}"] == pytest.approx(0.275)
    assert samples["users_online"] == 7.0
    assert samples["uniques"] == 2.0
    assert "dropped" not in samples
    assert samples["statsd_exporter_events_actions_total{action=drop}"] == 1
    assert samples["statsd_exporter_sample_errors_total{reason=malformed_line}"] == 1
    assert samples["statsd_exporter_udp_packets_total"] == 2
    assert samples["statsd_exporter_loaded_mappings"] == 5
    assert samples["default_buckets_bucket{le=1}"] == 1  # default buckets include integers
    # one mapper look-up per distinct (name, type): the exporter keeps what each resolved to
    assert samples["statsd_metric_mapper_cache_gets_total"] == 6
    assert samples["statsd_metric_mapper_cache_length"] == 6


async def test_tcp_and_unixgram_listeners(running: Running) -> None:
    _, writer = await asyncio.open_connection("127.0.0.1", running.tcp)
    writer.write(b"tcp.count:1|c\r\ntcp.count:1|c\ntcp.count:1")
    await writer.drain()
    writer.write(b"|c\n")  # a line split across writes is joined
    await writer.drain()
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.sendto(b"unix.gauge:42|g", str(running.unixgram))
    samples = await running.wait_for("tcp_count", 3.0)
    samples = await running.wait_for("unix_gauge", 42.0)
    assert samples["statsd_exporter_tcp_connections_total"] == 1
    assert samples["statsd_exporter_unixgram_packets_total"] == 1
    writer.close()


async def test_tcp_line_over_the_limit_closes_the_connection(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, tcp_max_line=1024)
    async with StatsdAdapter(settings) as adapter:
        assert settings.listen_tcp is not None
        reader, writer = await asyncio.open_connection("127.0.0.1", settings.listen_tcp.port)
        writer.write(b"ok.before:1|c\n" + b"x" * 5000)  # then a client that never sends a newline
        await writer.drain()
        assert await asyncio.wait_for(reader.read(), 10) == b""  # closed by the adapter
        writer.close()
        run = Running(adapter, 0, 0, tmp_path)
        samples = await run.wait_for("statsd_exporter_tcp_too_long_lines_total", 1.0)
        assert samples["ok_before"] == 1.0


async def test_bad_bytes_lose_only_themselves(running: Running) -> None:
    running.send_udp(b"\xff\xfe:1|c\ngood.one:1|c\n" + b"a" * 60000 + b":1|c\n:|\n||\n")
    running.send_udp(b"")
    running.send_udp(b"good.two:2|c")
    samples = await running.wait_for("good_two", 2.0)
    assert samples["good_one"] == 1.0
    assert samples["statsd_exporter_udp_packets_total"] == 3


async def test_type_conflicts_are_counted_and_the_first_type_wins(running: Running) -> None:
    running.send_udp(b"clash:1|c\nclash:5|g\nhist:1|ms\nhist_count:3|c\n")
    samples = await running.wait_for(
        "statsd_exporter_events_conflict_total{metric_name=clash,type=gauge}", 1.0
    )
    assert samples["clash"] == 1.0
    assert (
        samples["statsd_exporter_events_conflict_total{metric_name=hist_count,type=counter}"] == 1
    )
    assert "hist_count" in samples  # the summary's own _count, not the counter
    assert samples["hist_count"] == 1.0


async def test_series_cap_drops_new_series_and_keeps_updating_old_ones(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, max_series=3)
    async with StatsdAdapter(settings) as adapter:
        run = Running(adapter, settings.listen_udp.port, 0, tmp_path)  # type: ignore[union-attr]
        run.send_udp(b"\n".join(f"flood.n{i}:1|c".encode() for i in range(20)))
        run.send_udp(b"flood.n0:1|c")
        samples = await run.wait_for("flood_n0", 2.0)
        assert samples["statsd_exporter_events_dropped_total{reason=series_limit}"] == 17
        assert sum(1 for key in samples if key.startswith("flood_")) == 3
        assert (
            sum(v for k, v in samples.items() if k.startswith("statsd_exporter_metrics_total")) == 3
        )


async def test_ttl_expiry_removes_series_and_lowers_the_count(running: Running) -> None:
    now = [1000.0]
    running.adapter.series.clock = lambda: now[0]
    running.send_udp(b"short.a:1|c\nshort.b:1|c\nforever:1|c")
    samples = await running.wait_for("forever")
    assert (
        samples["statsd_exporter_metrics_total{type=counter}"] == 2
    )  # short.a and .b share a name
    now[0] += 31
    assert running.adapter.series.expire() == 1
    samples = await running.scrape()
    assert "short_lived" not in samples
    assert samples["forever"] == 1.0
    assert samples["statsd_exporter_metrics_total{type=counter}"] == 1


async def test_reload_keeps_the_old_mapping_when_the_new_file_is_bad(
    running: Running, tmp_path: Path
) -> None:
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("mappings:\n- match: 'app.*.requests'\n  name: renamed\n  bogus_key: 1\n")
    await running.adapter.reload()
    running.send_udp(b"app.web.requests:1|c")
    samples = await running.wait_for("app_requests_total{handler=web}", 1.0)
    assert samples["statsd_exporter_config_reloads_total{outcome=failure}"] == 1
    mapping.write_text("mappings:\n- match: 'app.*.requests'\n  name: renamed\n")
    await running.adapter.reload()
    running.send_udp(b"app.web.requests:1|c")
    samples = await running.wait_for("renamed", 1.0)
    assert samples["statsd_exporter_config_reloads_total{outcome=success}"] == 1
    assert samples["statsd_exporter_loaded_mappings"] == 1


async def test_lifecycle_endpoints(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, enable_lifecycle=True, cache_type="random")
    async with StatsdAdapter(settings) as adapter:
        base = adapter.admin.url
        async with aiohttp.ClientSession() as session:
            async with session.post(f"{base}/-/reload") as response:
                assert (response.status, await response.text()) == (200, "Requesting reload")
            (tmp_path / "mapping.yaml").write_text("mappings: [[")
            async with session.put(f"{base}/-/reload") as response:
                assert response.status == 500
                assert "failed to reload config" in await response.text()
            async with session.post(f"{base}/-/quit") as response:
                assert (response.status, await response.text()) == (
                    200,
                    "Requesting termination... Goodbye!",
                )
        assert await asyncio.wait_for(adapter.wait(), 10) == 0


async def test_relay_forwards_lines_unchanged(tmp_path: Path) -> None:
    target = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    target.bind(("127.0.0.1", 0))
    target.settimeout(10)
    settings = make_settings(
        tmp_path,
        relay_address=HostPort("127.0.0.1", target.getsockname()[1]),
        relay_packet_length=100,
    )
    try:
        async with StatsdAdapter(settings) as adapter:
            run = Running(adapter, settings.listen_udp.port, 0, tmp_path)  # type: ignore[union-attr]
            run.send_udp(b"relay.me:1|c|#tag:x\n" + b"y" * 200 + b":1|c\nrelay.too:2|g")
            await run.wait_for("relay_too")
            adapter.relay.flush()  # type: ignore[union-attr]
            packet = await asyncio.get_running_loop().run_in_executor(None, target.recv, 2048)
            assert packet == b"relay.me:1|c|#tag:x\nrelay.too:2|g\n"
            samples = await run.scrape()
            assert (
                samples[
                    f"statsd_exporter_relay_long_lines_total{{target=127.0.0.1:{target.getsockname()[1]}}}"
                ]
                == 1
            )
    finally:
        target.close()


async def test_no_listener_is_a_start_error(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, listen_udp=None, listen_tcp=None, listen_unixgram="")
    with pytest.raises(ValueError, match="no listener"):
        async with StatsdAdapter(settings):
            pass


async def test_sliced_rendering_equals_one_pass(running: Running) -> None:
    running.send_udp(b"\n".join(f"slice.n{i}:{i}|g".encode() for i in range(50)))
    await running.wait_for("slice_n49", 49.0)
    whole = render(running.adapter.series, 0.0)
    assert await running.adapter.render_series(families_per_slice=7) == whole
