"""The mapping configuration as typed, validated values (what ``config.load_config`` returns).

Mirrors statsd_exporter's ``MetricMapper``/``MetricMapping`` after its load-time defaulting: every
mapping already carries its match type, action, observer type, TTL and, for histogram/summary
observers, options filled in from ``defaults``. Durations are float seconds (0 = unset/never).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from podkit.statsd_adapter.event import MetricType

__all__ = [
    "DEFAULT_BUCKETS",
    "DEFAULT_QUANTILES",
    "Action",
    "Defaults",
    "HistogramOptions",
    "MapperConfig",
    "MatchType",
    "MetricMapping",
    "MetricType",
    "ObserverType",
    "Quantile",
    "SummaryOptions",
]


class ObserverType(StrEnum):
    """How observer events (timers, histograms, distributions) are exposed."""

    HISTOGRAM = "histogram"
    SUMMARY = "summary"


class MatchType(StrEnum):
    """``glob`` (dot-separated segments, ``*`` = one segment) or ``regex`` (unanchored, RE2)."""

    GLOB = "glob"
    REGEX = "regex"


class Action(StrEnum):
    """``map`` exposes the metric under its mapped name; ``drop`` discards it."""

    MAP = "map"
    DROP = "drop"


@dataclass(frozen=True, slots=True)
class Quantile:
    """One summary objective: ``quantile`` with allowed absolute ``error``."""

    quantile: float
    error: float


#: Prometheus client's default histogram buckets (``prometheus.DefBuckets``).
DEFAULT_BUCKETS: tuple[float, ...] = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
#: statsd_exporter's default summary objectives.
DEFAULT_QUANTILES: tuple[Quantile, ...] = (
    Quantile(0.5, 0.05),
    Quantile(0.9, 0.01),
    Quantile(0.99, 0.001),
)


@dataclass(frozen=True, slots=True)
class SummaryOptions:
    """``summary_options``: objectives and the sliding window (0 = client default)."""

    quantiles: tuple[Quantile, ...] = ()
    max_age: float = 0.0
    age_buckets: int = 0
    buf_cap: int = 0


@dataclass(frozen=True, slots=True)
class HistogramOptions:
    """``histogram_options``: classic buckets and the native-histogram knobs (0 = unset)."""

    buckets: tuple[float, ...] = ()
    native_histogram_bucket_factor: float = 0.0
    native_histogram_max_buckets: int = 0


@dataclass(frozen=True, slots=True)
class Defaults:
    """``defaults``, with statsd_exporter's fallbacks applied (buckets, quantiles, glob)."""

    observer_type: ObserverType | None = None
    match_type: MatchType = MatchType.GLOB
    glob_disable_ordering: bool = False
    ttl: float = 0.0
    summary_options: SummaryOptions = SummaryOptions(quantiles=DEFAULT_QUANTILES)
    histogram_options: HistogramOptions = HistogramOptions(buckets=DEFAULT_BUCKETS)


@dataclass(frozen=True, slots=True)
class MetricMapping:
    """One entry of ``mappings``, defaults applied. ``index`` is its position in the file."""

    index: int
    match: str
    name: str
    labels: Mapping[str, str] = field(default_factory=dict)
    honor_labels: bool = False
    observer_type: ObserverType | None = None
    match_type: MatchType = MatchType.GLOB
    help: str | None = None
    action: Action = Action.MAP
    match_metric_type: MetricType | None = None
    ttl: float = 0.0
    summary_options: SummaryOptions | None = None
    histogram_options: HistogramOptions | None = None
    scale: float | None = None


@dataclass(frozen=True, slots=True)
class MapperConfig:
    """A whole mapping file: ``defaults`` and the ``mappings`` in file order."""

    defaults: Defaults = Defaults()
    mappings: tuple[MetricMapping, ...] = ()
