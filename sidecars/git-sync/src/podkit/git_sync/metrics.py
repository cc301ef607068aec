"""git-sync's Prometheus metrics, with kubernetes/git-sync's exact names, so dashboards keep working.

``git_sync_duration_seconds{status}`` (a summary), ``git_sync_count_total{status}``,
``git_fetch_count_total``, ``git_sync_askpass_calls{status}``,
``git_sync_refresh_github_app_token_count{status}`` and ``git_sync_hook_run_count_total{name,status}``.
Status is ``success``, ``error`` or ``noop``. Two of git-sync's counters have no ``_total``
suffix (Go lets a counter be named anything), so those keep their exact name.

The values are plain counters held here; prometheus-client is imported only when a registry
collects them (:meth:`GitSyncMetrics.register`, when ``/metrics`` is served), so a sync that
serves no metrics, git-sync's default, never loads it. The families collected are the ones
prometheus-client's ``Counter`` and ``Summary`` would yield, and :func:`render` writes them as
git-sync's Go client does (``1``, not ``1.0``; no ``_created`` series): see
:mod:`podkit.core.goexposition`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

from podkit.core.goexposition import render as render_go_text

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry
    from prometheus_client.core import Metric


def render(registry: CollectorRegistry) -> bytes:
    """``/metrics`` as git-sync prints it (Go's text format)."""
    return render_go_text(registry.collect())


class Counter:
    """A counter with label names; ``name`` is the series name (with ``_total`` when Go has it)."""

    def __init__(self, name: str, documentation: str, labels: tuple[str, ...] = ()) -> None:
        self.name = name
        self.documentation = documentation
        self.label_names = labels
        self._values: dict[tuple[str, ...], float] = {} if labels else {(): 0.0}
        self._lock = threading.Lock()

    def inc(self, *label_values: str, amount: float = 1.0) -> None:
        if len(label_values) != len(self.label_names):
            raise ValueError(f"{self.name} takes the labels {self.label_names}")
        with self._lock:
            self._values[label_values] = self._values.get(label_values, 0.0) + amount

    def value(self, *label_values: str) -> float:
        with self._lock:
            return self._values.get(label_values, 0.0)

    def metric(self) -> Metric:
        from prometheus_client.core import Metric

        family = self.name.removesuffix("_total")
        metric = Metric(family, self.documentation, "counter")
        with self._lock:
            for values, value in sorted(self._values.items()):
                metric.add_sample(
                    self.name, dict(zip(self.label_names, values, strict=True)), value
                )
        return metric


class Summary:
    """A summary without quantiles (a count and a sum per label value), as git-sync's."""

    def __init__(self, name: str, documentation: str, label: str) -> None:
        self.name = name
        self.documentation = documentation
        self.label = label
        self._values: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()

    def observe(self, label_value: str, amount: float) -> None:
        with self._lock:
            count, total = self._values.get(label_value, (0, 0.0))
            self._values[label_value] = (count + 1, total + amount)

    def count(self, label_value: str) -> int:
        with self._lock:
            return self._values.get(label_value, (0, 0.0))[0]

    def metric(self) -> Metric:
        from prometheus_client.core import Metric

        metric = Metric(self.name, self.documentation, "summary")
        with self._lock:
            for label_value, (count, total) in sorted(self._values.items()):
                labels = {self.label: label_value}
                metric.add_sample(f"{self.name}_count", labels, float(count))
                metric.add_sample(f"{self.name}_sum", labels, total)
        return metric


class GitSyncMetrics:
    """Every metric git-sync exports; :meth:`register` adds them to a registry."""

    def __init__(self) -> None:
        self.sync_duration = Summary(
            "git_sync_duration_seconds", "Summary of git_sync durations", "status"
        )
        self.sync_count = Counter(
            "git_sync_count_total",
            "How many git syncs completed, partitioned by state (success, error, noop)",
            ("status",),
        )
        self.fetch_count = Counter("git_fetch_count_total", "How many git fetches were run")
        self.askpass_calls = Counter(
            "git_sync_askpass_calls",
            "How many git askpass calls completed, partitioned by state (success, error)",
            ("status",),
        )
        self.github_app_token_refreshes = Counter(
            "git_sync_refresh_github_app_token_count",
            "How many times the GitHub app token was refreshed, partitioned by state "
            "(success, error)",
            ("status",),
        )
        self.hook_runs = Counter(
            "git_sync_hook_run_count_total",
            "How many hook runs completed, partitioned by name and state (success, error)",
            ("name", "status"),
        )

    def register(self, registry: CollectorRegistry) -> None:
        """Collect these metrics in ``registry`` (imports prometheus-client)."""
        registry.register(_Collector(self))

    def collect(self) -> Iterator[Metric]:
        yield self.sync_duration.metric()
        for counter in (
            self.sync_count,
            self.fetch_count,
            self.askpass_calls,
            self.github_app_token_refreshes,
            self.hook_runs,
        ):
            yield counter.metric()

    def sync_done(self, status: str, seconds: float) -> None:
        self.sync_duration.observe(status, seconds)
        self.sync_count.inc(status)


class _Collector:
    """The registry's view of :class:`GitSyncMetrics` (a prometheus-client ``Collector``)."""

    def __init__(self, metrics: GitSyncMetrics) -> None:
        self.metrics = metrics

    def collect(self) -> Iterator[Metric]:
        return self.metrics.collect()
