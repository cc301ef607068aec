"""The ambassador's own metrics: plain counters on the hot path, Prometheus families at scrape.

Sessions bump integers and dict entries on one :class:`Stats`; :class:`AmbassadorCollector` turns
them into ``redis_ambassador_*`` families when ``/metrics`` is scraped, together with the
topology's health and lag, so counting costs next to nothing per command.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterator

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from podkit.redis_ambassador.topology import Topology

__all__ = ["ROUTES", "AmbassadorCollector", "Latency", "Stats"]

ROUTES = ("master", "replica", "local")
_P = "redis_ambassador_"
_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)


class Latency:
    """A histogram as a list of bucket counts (one ``bisect`` per observation)."""

    __slots__ = ("counts", "total")

    def __init__(self) -> None:
        self.counts = [0] * (len(_BUCKETS) + 1)
        self.total = 0.0

    def observe(self, seconds: float) -> None:
        self.counts[bisect.bisect_left(_BUCKETS, seconds)] += 1
        self.total += seconds


class Stats:
    """Counters shared by every session."""

    def __init__(self) -> None:
        self.commands: dict[str, dict[bytes, int]] = {route: {} for route in ROUTES}
        self.errors: dict[str, int] = {}
        self.latency = {route: Latency() for route in ROUTES[:2]}
        self.clients = 0
        self.clients_total = 0
        self.bytes_in = 0
        self.bytes_out = 0
        self.retries = 0
        self.stale_retries = 0  # read batches a lagging replica could not serve (consistency)

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1


class AmbassadorCollector(Collector):
    """Collects :class:`Stats` and the topology's state at scrape time."""

    def __init__(self, stats: Stats, topology: Callable[[], Topology]) -> None:
        self.stats = stats
        self.topology = topology

    def collect(self) -> Iterator[Metric]:
        stats = self.stats
        commands = CounterMetricFamily(
            _P + "commands", "Commands by name and where they went.", labels=["command", "route"]
        )
        for route, counts in stats.commands.items():
            for name, count in sorted(counts.items()):
                commands.add_metric([name.decode("latin-1"), route], count)
        yield commands
        errors = CounterMetricFamily(
            _P + "errors", "Errors by kind (protocol, upstream, auth, ...).", labels=["kind"]
        )
        for kind, count in sorted(stats.errors.items()):
            errors.add_metric([kind], count)
        yield errors
        yield CounterMetricFamily(
            _P + "read_retries",
            "Reads retried on the master after their replica failed.",
            value=stats.retries,
        )
        yield CounterMetricFamily(
            _P + "stale_read_retries",
            "Read batches resent to the master because their replica had not applied the "
            "latest acknowledged write yet (session consistency).",
            value=stats.stale_retries,
        )
        latency = HistogramMetricFamily(
            _P + "upstream_latency_seconds",
            "Time from sending a batch of commands upstream to its last reply, by route.",
            labels=["route"],
        )
        for route, hist in stats.latency.items():
            cumulative = 0
            buckets: list[tuple[str, float]] = []
            for bound, count in zip((*map(str, _BUCKETS), "+Inf"), hist.counts, strict=True):
                cumulative += count
                buckets.append((bound, cumulative))
            latency.add_metric([route], buckets, hist.total)
        yield latency
        yield GaugeMetricFamily(_P + "clients", "Connected clients.", value=stats.clients)
        yield CounterMetricFamily(
            _P + "client_connections", "Client connections accepted.", value=stats.clients_total
        )
        yield CounterMetricFamily(
            _P + "client_received_bytes", "Bytes received from clients.", value=stats.bytes_in
        )
        yield CounterMetricFamily(
            _P + "client_sent_bytes", "Bytes sent to clients.", value=stats.bytes_out
        )
        topology = self.topology()
        up = GaugeMetricFamily(
            _P + "upstream_up",
            "Whether an upstream is healthy (1) or not (0).",
            labels=["address", "role"],
        )
        lag = GaugeMetricFamily(
            _P + "replica_lag_seconds",
            "Seconds since the replica last heard from its master.",
            labels=["address"],
        )
        offset_lag = GaugeMetricFamily(
            _P + "replica_offset_lag_bytes",
            "Master replication offset minus the replica's.",
            labels=["address"],
        )
        for node in (topology.master, *topology.replicas):
            up.add_metric([str(node.addr), node.role], 1 if node.healthy else 0)
        for node in topology.replicas:
            lag.add_metric([str(node.addr)], node.lag_seconds)
            if node.offset >= 0 and topology.master_offset >= 0:
                offset_lag.add_metric(
                    [str(node.addr)], max(0, topology.master_offset - node.offset)
                )
        yield up
        yield lag
        yield offset_lag
