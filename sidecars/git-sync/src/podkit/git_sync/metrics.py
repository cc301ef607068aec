"""git-sync's Prometheus metrics, with kubernetes/git-sync's exact names, so dashboards keep working.

``git_sync_duration_seconds{status}`` (a summary), ``git_sync_count_total{status}``,
``git_fetch_count_total``, ``git_sync_askpass_calls{status}``,
``git_sync_refresh_github_app_token_count{status}`` and ``git_sync_hook_run_count_total{name,status}``.
Status is ``success``, ``error`` or ``noop``. Two of git-sync's counters have no ``_total``
suffix; prometheus-client always adds one to a counter, so those two are collected by a small
collector under the exact name. :func:`render` writes the registry as git-sync's Go client does
(``1``, not ``1.0``; no ``_created`` series): see :mod:`podkit.core.goexposition`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Summary
from prometheus_client.core import Metric
from prometheus_client.registry import Collector

from podkit.core.goexposition import render as render_go_text


def render(registry: CollectorRegistry) -> bytes:
    """``/metrics`` as git-sync prints it (Go's text format)."""
    return render_go_text(registry.collect())


class ExactCounter(Collector):
    """A labelled counter exposed under exactly ``name`` (no ``_total`` added)."""

    def __init__(self, name: str, documentation: str, label: str) -> None:
        self.name = name
        self.documentation = documentation
        self.label = label
        self._values: dict[str, float] = {}
        self._lock = threading.Lock()

    def inc(self, label_value: str, amount: float = 1.0) -> None:
        with self._lock:
            self._values[label_value] = self._values.get(label_value, 0.0) + amount

    def value(self, label_value: str) -> float:
        with self._lock:
            return self._values.get(label_value, 0.0)

    def collect(self) -> Iterator[Metric]:
        metric = Metric(self.name, self.documentation, "counter")
        with self._lock:
            for label_value, value in sorted(self._values.items()):
                metric.add_sample(self.name, {self.label: label_value}, value)
        yield metric


class GitSyncMetrics:
    """Every metric git-sync exports, registered in ``registry``."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.sync_duration = Summary(
            "git_sync_duration_seconds",
            "Summary of git_sync durations",
            ["status"],
            registry=registry,
        )
        self.sync_count = Counter(
            "git_sync_count",
            "How many git syncs completed, partitioned by state (success, error, noop)",
            ["status"],
            registry=registry,
        )
        self.fetch_count = Counter(
            "git_fetch_count", "How many git fetches were run", registry=registry
        )
        self.askpass_calls = ExactCounter(
            "git_sync_askpass_calls",
            "How many git askpass calls completed, partitioned by state (success, error)",
            "status",
        )
        self.github_app_token_refreshes = ExactCounter(
            "git_sync_refresh_github_app_token_count",
            "How many times the GitHub app token was refreshed, partitioned by state "
            "(success, error)",
            "status",
        )
        registry.register(self.askpass_calls)
        registry.register(self.github_app_token_refreshes)
        self.hook_runs = Counter(
            "git_sync_hook_run_count",
            "How many hook runs completed, partitioned by name and state (success, error)",
            ["name", "status"],
            registry=registry,
        )

    def sync_done(self, status: str, seconds: float) -> None:
        self.sync_duration.labels(status).observe(seconds)
        self.sync_count.labels(status).inc()
