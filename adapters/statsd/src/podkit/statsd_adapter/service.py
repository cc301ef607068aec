"""The StatsD adapter as a podkit service: listeners -> pipeline (parser, exporter) -> ``/metrics``.

Wires the stages together and owns what changes at run time: the mapping (loaded at start,
reloaded on SIGHUP or ``/-/reload``; a bad, empty or truncated file keeps the old mapping and is
counted), the listeners and relay, the TTL sweep, and the HTTP surface: ``--web.telemetry-path``
(one text page, see :mod:`podkit.statsd_adapter.exposition`), statsd_exporter's ``/-/healthy``
and ``/-/ready``, and with ``--web.enable-lifecycle`` ``/-/reload`` and ``/-/quit``.
Embeddable::

    async with StatsdAdapter(StatsdSettings(listen_tcp=None)) as adapter:
        ...
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Mapping

from aiohttp import web
from prometheus_client import generate_latest

from podkit.core import Service, metrics_response
from podkit.statsd_adapter import __version__
from podkit.statsd_adapter.exporter import Exporter, ExportStats
from podkit.statsd_adapter.exposition import render, self_metric_names
from podkit.statsd_adapter.line import LineParser
from podkit.statsd_adapter.listener import ListenerStats, TcpListener, UdpListener, UnixgramListener
from podkit.statsd_adapter.mapper import MapperConfigError, MetricMapper, load_mapper
from podkit.statsd_adapter.metrics import SELF_METRIC_NAMES, AdapterCollector
from podkit.statsd_adapter.pipeline import Pipeline
from podkit.statsd_adapter.registry import SeriesRegistry
from podkit.statsd_adapter.relay import Relay
from podkit.statsd_adapter.settings import StatsdSettings
from podkit.statsd_adapter.stats import ParseStats

__all__ = ["StatsdAdapter"]


class StatsdAdapter(Service[StatsdSettings]):
    """Receives StatsD, maps it with statsd_exporter's rules, serves Prometheus metrics."""

    name = "podkit-statsd-adapter"
    version = __version__
    description = (
        "StatsD to Prometheus adapter, compatible with statsd_exporter's flags, line formats "
        "and mapping YAML."
    )
    metrics_prefix = "statsd_exporter"
    settings_class = StatsdSettings

    def __init__(self, settings: StatsdSettings | None = None) -> None:
        super().__init__(settings)
        s = self.settings
        self.parse_stats = ParseStats()
        self.listen_stats = ListenerStats()
        self.parser = LineParser(
            stats=self.parse_stats,
            dogstatsd_tags=s.parse_dogstatsd_tags,
            influxdb_tags=s.parse_influxdb_tags,
            librato_tags=s.parse_librato_tags,
            signalfx_tags=s.parse_signalfx_tags,
            sets=s.parse_sets,
            max_observer_repeat=s.max_observer_repeat,
        )
        self.mapper: MetricMapper = self._load_mapper()
        self.relay: Relay | None = None
        self.flushes = 0
        self._reloads = {"success": 0, "failure": 0}
        self._udp: UdpListener | None = None
        self._listeners: list[UdpListener | TcpListener | UnixgramListener] = []
        self.series = SeriesRegistry(max_series=s.max_series)
        self.exporter = Exporter(
            self.mapper,
            self.series,
            set_window=s.set_window,
            set_max_members=s.set_max_members,
            on_series_limit=self._series_limit_hit,
        )
        self.pipeline = Pipeline(self.parser, self.exporter)
        self.registry.register(AdapterCollector(self))
        # series may not take the names of the page's other families (process_*, our own)
        self.series.reserved = SELF_METRIC_NAMES | self_metric_names(generate_latest(self.registry))
        self.admin.add_route("GET", s.telemetry_path, self._metrics)
        self.admin.add_route("GET", "/-/healthy", self._healthy)
        self.admin.add_route("GET", "/-/ready", self._ready)
        if s.enable_lifecycle:
            for method in ("PUT", "POST"):
                self.admin.add_route(method, "/-/reload", self._reload_endpoint)
                self.admin.add_route(method, "/-/quit", self._quit_endpoint)

    @classmethod
    def preflight(cls, settings: StatsdSettings) -> int | None:
        """``--check-config``: load the mapping file, say whether it is valid, exit 0 or 1."""
        if not settings.check_config:
            return None
        if not settings.mapping_config:
            print("no mapping file given (--statsd.mapping-config); nothing to check")
            return 0
        try:
            mapper = MetricMapper.from_file(settings.mapping_config)
        except MapperConfigError as exc:
            print(f"{settings.mapping_config}: invalid mapping: {exc}", file=sys.stderr)
            return 1
        print(f"{settings.mapping_config}: {len(mapper)} mappings, configuration check successful")
        return 0

    def metrics_enabled(self) -> bool:
        return False  # the adapter serves its own metrics endpoint (series + self-metrics)

    def _load_mapper(self) -> MetricMapper:
        return load_mapper(
            self.settings.mapping_config,
            cache_size=self.settings.cache_size,
            cache_type=self.settings.cache_type,
        )

    # --- what the self-metrics read (podkit.statsd_adapter.metrics.Observed) ------------------

    @property
    def export_stats(self) -> ExportStats:
        return self.exporter.stats

    @property
    def reloads(self) -> Mapping[str, int]:
        return self._reloads

    def udp_drops(self) -> int | None:
        return self._udp.kernel_drops() if self._udp is not None else None

    def _series_limit_hit(self, limit: int) -> None:
        self.log.warning(
            "series limit reached; new series are dropped and counted in "
            'statsd_exporter_events_dropped_total{reason="series_limit"} '
            "(raise --statsd.max-series if this is expected)",
            limit=limit,
        )

    # --- the data path ----------------------------------------------------------------------------

    def feed(self, data: bytes) -> None:
        """Handle one packet (or a block of TCP lines): parse, map, update series, relay."""
        if self.pipeline.feed(data):
            self.flushes += 1
        if self.relay is not None:
            self.relay.relay(data)

    # --- lifecycle --------------------------------------------------------------------------------

    async def on_start(self) -> None:
        s = self.settings
        if s.relay_address is not None:
            self.relay = Relay(s.relay_address, s.relay_packet_length)
            await self.relay.start()
        if s.listen_udp is not None:
            self._udp = UdpListener(s.listen_udp, self.feed, self.listen_stats, s.read_buffer)
            self._listeners.append(self._udp)
        if s.listen_tcp is not None:
            self._listeners.append(
                TcpListener(s.listen_tcp, self.feed, self.listen_stats, s.tcp_max_line)
            )
        if s.listen_unixgram:
            self._listeners.append(
                UnixgramListener(
                    s.listen_unixgram,
                    s.unixsocket_mode,
                    self.feed,
                    self.listen_stats,
                    s.read_buffer,
                )
            )
        if not self._listeners:
            raise ValueError("no listener: set --statsd.listen-udp, -tcp or -unixgram")
        for listener in self._listeners:
            await listener.start()
        self.spawn(self._sweep(), "ttl-sweep")
        self.log.info(
            "listening for StatsD",
            udp=str(s.listen_udp) if s.listen_udp else None,
            tcp=str(s.listen_tcp) if s.listen_tcp else None,
            unixgram=s.listen_unixgram or None,
            mappings=len(self.mapper),
            max_series=s.max_series,
        )

    async def on_stop(self) -> None:
        for listener in self._listeners:
            listener.close()
        self._listeners.clear()
        self._udp = None

    async def on_close(self) -> None:
        if self.relay is not None:
            self.relay.close()

    async def _sweep(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            removed = self.series.expire()
            if removed:
                self.log.debug("expired series", count=removed)

    async def on_reload(self) -> None:
        try:
            mapper = self._load_mapper()
        except MapperConfigError as exc:
            self._reloads["failure"] += 1
            raise MapperConfigError(
                f"mapping reload failed, keeping the old mapping: {exc}"
            ) from None
        self.mapper = mapper
        self.exporter.use_mapper(mapper)
        self._reloads["success"] += 1
        self.log.info("mapping reloaded", mappings=len(mapper))

    # --- HTTP -------------------------------------------------------------------------------------

    async def _metrics(self, request: web.Request) -> web.StreamResponse:
        """One text-format page: the series, then the adapter's own metrics."""
        page = (await self.render_series()).encode() + generate_latest(self.registry)
        return metrics_response(request, self.registry, body=page)

    async def render_series(self, families_per_slice: int = 200) -> str:
        """The series in the text format, rendered in slices of families with the event loop
        let through between them, so a large scrape does not stop the listeners for its whole
        length (a family that expires meanwhile is simply left out)."""
        families = sorted(self.series, key=lambda family: family.name)
        parts = []
        for start in range(0, len(families), families_per_slice):
            parts.append(render(families[start : start + families_per_slice], time.monotonic()))
            await asyncio.sleep(0)
        return "".join(parts)

    async def _healthy(self, request: web.Request) -> web.StreamResponse:
        return web.Response(text="Statsd Exporter is Healthy.\n")

    async def _ready(self, request: web.Request) -> web.StreamResponse:
        return web.Response(text="Statsd Exporter is Ready.\n")

    async def _reload_endpoint(self, request: web.Request) -> web.StreamResponse:
        if not self.settings.mapping_config:
            self.log.warning("lifecycle reload requested but there is no mapping file to reload")
            return web.Response(text="Requesting reload")
        try:
            await self.on_reload()
        except MapperConfigError as exc:
            self.log.error("reload failed; keeping the previous configuration", error=str(exc))
            return web.Response(status=500, text=f"failed to reload config: {exc}\n")
        return web.Response(text="Requesting reload")

    async def _quit_endpoint(self, request: web.Request) -> web.StreamResponse:
        self.log.info("quit requested over HTTP")
        asyncio.get_running_loop().call_soon(self.finish, 0)
        return web.Response(text="Requesting termination... Goodbye!")
