"""The adapter's self-metrics, under jmx_exporter's names.

Read from plain fields at collection time: ``jmx_scrape_duration_seconds``, ``jmx_scrape_error``,
``jmx_scrape_cached_beans`` (from the last completed scrape),
``jmx_config_reload_success_total`` / ``jmx_config_reload_failure_total``, and podkit's
``jmx_adapter_attributes_skipped_total{reason}``. The JMX samples themselves are rendered by the
helper JVM (:mod:`.engine`) and served ahead of these.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from podkit.jmx_adapter.scrape import Scraper

__all__ = ["JmxCollector"]


class JmxCollector(Collector):
    """The adapter's own metrics (the JMX samples come rendered by the helper, ahead of these)."""

    def __init__(self, scraper: Scraper, reloads: dict[str, int]) -> None:
        self.scraper = scraper
        self.reloads = reloads

    def collect(self) -> Iterator[Metric]:
        result = self.scraper.last
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
