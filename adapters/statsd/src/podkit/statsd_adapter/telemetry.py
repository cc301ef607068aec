"""The adapter's own metrics, under statsd_exporter's names, read from plain counters at scrape.

The hot path only bumps integers on the parser, listener, exporter and relay; this collector
turns them into ``statsd_exporter_*`` families when Prometheus scrapes, so counting costs
nothing per line. Names and labels follow statsd_exporter; the few podkit additions (dropped
events by reason, kernel drops of the UDP socket) use the same prefix.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from podkit.statsd_adapter.exporter import ExportStats
from podkit.statsd_adapter.listener import ListenerStats
from podkit.statsd_adapter.mapper import MappingResult
from podkit.statsd_adapter.mapper.cache import LookupCache
from podkit.statsd_adapter.registry import Kind, SeriesRegistry
from podkit.statsd_adapter.relay import Relay
from podkit.statsd_adapter.stats import SAMPLE_ERROR_REASONS, ParseStats

__all__ = ["AdapterCollector"]

_P = "statsd_exporter_"


def _counter(name: str, help_text: str, value: float) -> CounterMetricFamily:
    return CounterMetricFamily(_P + name, help_text, value=value)


def _labelled(
    name: str, help_text: str, label: str, values: dict[str, int], seed: tuple[str, ...] = ()
) -> CounterMetricFamily:
    family = CounterMetricFamily(_P + name, help_text, labels=[label])
    for key in sorted(set(seed) | set(values)):
        family.add_metric([key], values.get(key, 0))
    return family


class AdapterCollector(Collector):
    """Collects the adapter's self-metrics from the live counter objects."""

    def __init__(
        self,
        parse: ParseStats,
        listen: ListenerStats,
        export: ExportStats,
        series: SeriesRegistry,
        mappings: Callable[[], int],
        udp_drops: Callable[[], int | None],
        relay: Callable[[], Relay | None],
        reloads: dict[str, int],
        cache: Callable[[], LookupCache[tuple[str, str], MappingResult]],
    ) -> None:
        self.reloads = reloads
        self.cache = cache
        self.parse = parse
        self.listen = listen
        self.export = export
        self.series = series
        self.mappings = mappings
        self.udp_drops = udp_drops
        self.relay = relay

    def collect(self) -> Iterator[Metric]:
        parse, listen, export = self.parse, self.listen, self.export
        yield _counter("lines", "The total number of StatsD lines received.", parse.lines_received)
        yield _counter(
            "samples", "The total number of StatsD samples received.", parse.samples_received
        )
        yield _labelled(
            "sample_errors",
            "The total number of errors parsing StatsD samples.",
            "reason",
            parse.sample_errors,
            SAMPLE_ERROR_REASONS,
        )
        yield _counter("tags", "The total number of DogStatsD tags processed.", parse.tags_received)
        yield _counter(
            "tag_errors", "The number of errors parsing DogStatsD tags.", parse.tag_errors
        )
        yield _labelled(
            "events",
            "The total number of StatsD events seen.",
            "type",
            export.events,
            ("counter", "gauge", "observer", "set"),
        )
        yield _labelled(
            "events_conflict",
            "The total number of StatsD events with conflicting names.",
            "type",
            export.conflicts,
            ("counter", "gauge", "observer", "set"),
        )
        yield _labelled(
            "events_error",
            "The total number of StatsD events discarded due to errors.",
            "reason",
            export.errors,
            ("empty_metric_name", "illegal_negative_counter"),
        )
        yield _labelled(
            "events_actions",
            "The total number of StatsD events by action.",
            "action",
            export.actions,
            ("drop", "map"),
        )
        yield _labelled(
            "events_dropped",
            "Events dropped by podkit's limits: series_limit (--statsd.max-series) and "
            "set_members (--statsd.set-max-members).",
            "reason",
            export.dropped,
            ("series_limit", "set_members"),
        )
        yield _counter(
            "events_unmapped",
            "The total number of StatsD events no mapping was found for.",
            export.unmapped,
        )
        yield _counter(
            "udp_packets",
            "The total number of StatsD packets received over UDP.",
            listen.udp_packets,
        )
        drops = self.udp_drops()
        if drops is not None:
            yield _counter(
                "udp_packet_drops",
                "UDP packets the kernel dropped for the adapter's socket (receive buffer full).",
                drops,
            )
        yield _counter(
            "unixgram_packets",
            "The total number of StatsD packets received over unixgram.",
            listen.unixgram_packets,
        )
        yield _counter(
            "tcp_connections",
            "The total number of TCP connections handled.",
            listen.tcp_connections,
        )
        yield _counter(
            "tcp_connection_errors",
            "The number of errors encountered reading from TCP.",
            listen.tcp_connection_errors,
        )
        yield _counter(
            "tcp_too_long_lines",
            "The number of lines discarded due to being too long.",
            listen.tcp_too_long_lines,
        )
        counts = GaugeMetricFamily(
            _P + "metrics_total",
            "The number of series currently exposed, by type.",
            labels=["type"],
        )
        for kind in Kind:
            counts.add_metric([kind.value], self.series.series_count[kind])
        yield counts
        yield GaugeMetricFamily(
            _P + "loaded_mappings",
            "The current number of configured metric mappings.",
            value=self.mappings(),
        )
        yield _labelled(
            "config_reloads", "The number of configuration reloads.", "outcome", self.reloads
        )
        cache = self.cache()
        yield CounterMetricFamily(
            "statsd_metric_mapper_cache_gets",
            "The count of total metric cache gets.",
            value=cache.gets,
        )
        yield CounterMetricFamily(
            "statsd_metric_mapper_cache_hits",
            "The count of total metric cache hits.",
            value=cache.hits,
        )
        yield GaugeMetricFamily(
            "statsd_metric_mapper_cache_length",
            "The count of unique metrics currently cached.",
            value=len(cache),
        )
        relay = self.relay()
        if relay is not None:
            target = str(relay.target)
            for name, help_text, value in (
                ("relay_lines_relayed", "The number of lines relayed.", relay.lines_relayed),
                ("relay_long_lines", "The number of lines too long to relay.", relay.long_lines),
                (
                    "relay_send_errors",
                    "The number of relay packets that could not be sent.",
                    relay.send_errors,
                ),
            ):
                family = CounterMetricFamily(_P + name, help_text, labels=["target"])
                family.add_metric([target], value)
                yield family
