"""The adapter's own metrics, under statsd_exporter's names, read from plain counters at scrape.

The hot path only bumps integers on the parser, listener, exporter and relay; this collector
turns them into ``statsd_exporter_*`` families when Prometheus scrapes, so counting costs
nothing per line. It reads them through one small interface, :class:`Observed` (the service
implements it). Names and labels follow statsd_exporter; the few podkit additions (dropped
events by reason, kernel drops of the UDP socket) use the same prefix.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Protocol

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from podkit.statsd_adapter.exporter import ExportStats
from podkit.statsd_adapter.listener import ListenerStats
from podkit.statsd_adapter.mapper import MetricMapper
from podkit.statsd_adapter.registry import SeriesRegistry
from podkit.statsd_adapter.relay import Relay
from podkit.statsd_adapter.stats import SAMPLE_ERROR_REASONS, ParseStats

__all__ = ["AdapterCollector", "Observed"]

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


class Observed(Protocol):
    """What the collector reads, all of it live (the mapper and relay change on reload/start)."""

    @property
    def parse_stats(self) -> ParseStats: ...
    @property
    def listen_stats(self) -> ListenerStats: ...
    @property
    def export_stats(self) -> ExportStats: ...
    @property
    def series(self) -> SeriesRegistry: ...
    @property
    def mapper(self) -> MetricMapper: ...
    @property
    def relay(self) -> Relay | None: ...
    @property
    def reloads(self) -> Mapping[str, int]: ...
    @property
    def flushes(self) -> int: ...
    def udp_drops(self) -> int | None: ...


class AdapterCollector(Collector):
    """Collects the adapter's self-metrics from what :class:`Observed` holds at scrape time."""

    def __init__(self, observed: Observed) -> None:
        self.observed = observed

    def collect(self) -> Iterator[Metric]:
        observed = self.observed
        parse, listen, export = observed.parse_stats, observed.listen_stats, observed.export_stats
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
        yield _counter(
            "event_queue_flushed",
            "Number of times events were flushed to exporter",
            observed.flushes,
        )
        conflicts = CounterMetricFamily(
            _P + "events_conflict",
            "The total number of StatsD events with conflicting names.",
            labels=["type", "metric_name"],
        )
        for (kind, name), count in sorted(export.conflicts.items()):
            conflicts.add_metric([kind, name], count)
        yield conflicts
        yield _labelled(
            "events_error",
            "The total number of StatsD events discarded due to errors.",
            "reason",
            export.errors,
            ("empty_metric_name", "illegal_negative_counter", "invalid_label_name"),
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
        drops = observed.udp_drops()
        if drops is not None:
            yield _counter(
                "udp_packet_drops",
                "UDP packets the kernel dropped for the adapter's socket (receive buffer full).",
                drops,
            )
        yield _counter(
            "unixgram_packets",
            "The total number of StatsD packets received over Unixgram.",
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
        series = observed.series
        counts = GaugeMetricFamily(
            _P + "metrics_total", "The total number of metrics.", labels=["type"]
        )
        for kind, count in series.vector_count().items():
            counts.add_metric([kind.value], count)
        yield counts
        yield GaugeMetricFamily(
            _P + "series",
            "The number of series exposed now (podkit; capped by --statsd.max-series).",
            value=len(series),
        )
        mapper = observed.mapper
        yield GaugeMetricFamily(
            _P + "loaded_mappings",
            "The current number of configured metric mappings.",
            value=len(mapper),
        )
        yield _labelled(
            "config_reloads",
            "The number of configuration reloads.",
            "outcome",
            dict(observed.reloads),
        )
        cache = mapper.cache
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
        relay = observed.relay
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


#: Every family name :class:`AdapterCollector` can expose, with the sample names it writes
#: (the series registry refuses these names, so the page never holds a family twice).
SELF_METRIC_NAMES: frozenset[str] = frozenset(
    f"{_P}{name}{suffix}"
    for name in (
        "lines", "samples", "sample_errors", "tags", "tag_errors", "events",
        "event_queue_flushed", "events_conflict", "events_error", "events_actions",
        "events_dropped", "events_unmapped", "udp_packets", "udp_packet_drops",
        "unixgram_packets", "tcp_connections", "tcp_connection_errors", "tcp_too_long_lines",
        "config_reloads", "relay_lines_relayed", "relay_long_lines", "relay_send_errors",
    )
    for suffix in ("", "_total")
) | frozenset(
    (
        f"{_P}metrics_total", f"{_P}series", f"{_P}loaded_mappings",
        "statsd_metric_mapper_cache_gets", "statsd_metric_mapper_cache_gets_total",
        "statsd_metric_mapper_cache_hits", "statsd_metric_mapper_cache_hits_total",
        "statsd_metric_mapper_cache_length",
    )
)  # fmt: skip
