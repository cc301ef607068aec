"""``/metrics`` content: the last scrape's families and the self-metrics under jmx_exporter's names.

Read from plain fields at collection time: ``jmx_scrape_duration_seconds``, ``jmx_scrape_error``,
``jmx_scrape_cached_beans`` (from the last completed scrape) and
``jmx_config_reload_success_total`` / ``jmx_config_reload_failure_total``, and podkit's
``jmx_adapter_attributes_skipped_total{reason}``. Counters keep client_java's exposition
(``# TYPE x counter`` with samples ``x_total``); gauge and untyped names lose a trailing
``_total`` as client_java 1.x drops it; UNTYPED rules are ``untyped``.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from podkit.jmx_adapter.rules import Family
from podkit.jmx_adapter.scrape import Scraper

__all__ = ["JmxCollector", "to_metric"]


def to_metric(family: Family) -> Metric:
    if family.type == "counter":
        base = family.name[:-6] if family.name.endswith("_total") else family.name
        metric = Metric(base, family.help, "counter")
        for sample in family.samples:
            metric.add_sample(base + "_total", sample.labels, sample.value)
        return metric
    # client_java 1.x, under jmx_exporter, drops a trailing _total from gauge and unknown names
    name = family.name[:-6] if family.name.endswith("_total") else family.name
    metric = Metric(name, family.help, "gauge" if family.type == "gauge" else "unknown")
    for sample in family.samples:
        metric.add_sample(name, sample.labels, sample.value)
    return metric


class JmxCollector(Collector):
    """Yields the last scrape's families, then the adapter's own metrics."""

    def __init__(self, scraper: Scraper, reloads: dict[str, int]) -> None:
        self.scraper = scraper
        self.reloads = reloads

    def collect(self) -> Iterator[Metric]:
        result = self.scraper.last
        for family in result.families:
            yield to_metric(family)
        yield GaugeMetricFamily(
            "jmx_scrape_duration_seconds", "Time this JMX scrape took, in seconds.", result.duration
        )
        yield GaugeMetricFamily(
            "jmx_scrape_error", "Non-zero if this scrape failed.", 1.0 if result.error else 0.0
        )
        yield GaugeMetricFamily(
            "jmx_scrape_cached_beans",
            "Number of beans with their matching rule cached",
            result.cached_beans,
        )
        yield CounterMetricFamily(
            "jmx_config_reload_success",
            "Number of times configuration have successfully been reloaded.",
            self.reloads["success"],
        )
        yield CounterMetricFamily(
            "jmx_config_reload_failure",
            "Number of times configuration have failed to be reloaded.",
            self.reloads["failure"],
        )
        skipped = CounterMetricFamily(
            "jmx_adapter_attributes_skipped",
            "Attributes the backend could not export (each is logged once at debug), by reason.",
            labels=["reason"],
        )
        for kind, count in sorted(self.scraper.skipped_total.items()):
            skipped.add_metric([kind], count)
        yield skipped
