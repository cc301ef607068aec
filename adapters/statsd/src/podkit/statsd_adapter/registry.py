"""The series the adapter exposes: families by name, series by label values, TTLs and limits.

statsd_exporter's ``pkg/registry`` role, rebuilt for Python speed: plain dicts and slotted
objects instead of one prometheus-client metric per series, so an event costs two dict look-ups.
The registry enforces Prometheus' rules the way statsd_exporter does — the first type registered
under a name wins, every series of a name has the same label names, a histogram or summary ``x``
clashes with anything named ``x_sum``, ``x_count`` (and ``x_bucket`` for histograms) — and adds what
statsd_exporter lacks: a cap on the number of series (new series past it are refused and counted,
existing ones keep updating) and TTL expiry that really removes series and lowers the count.
"""

from __future__ import annotations

import bisect
import random
import time
from collections.abc import Callable, Iterator, Sequence
from enum import StrEnum
from typing import Final

__all__ = [
    "Family",
    "HistogramSeries",
    "Kind",
    "Refusal",
    "Series",
    "SeriesRegistry",
    "SetSeries",
    "SummaryOptions",
    "SummarySeries",
]


class Kind(StrEnum):
    """How a family is exposed."""

    COUNTER = "counter"
    GAUGE = "gauge"
    HISTOGRAM = "histogram"
    SUMMARY = "summary"
    SET = "set"
    """A StatsD set: exposed as a gauge of distinct members, but never mixed with gauges."""


class Refusal(StrEnum):
    """Why the registry would not give out a series."""

    TYPE_CONFLICT = "type_conflict"
    LABELS_CONFLICT = "labels_conflict"
    NAME_CONFLICT = "name_conflict"
    SERIES_LIMIT = "series_limit"


class Series:
    """A counter or gauge value, and when it was last written."""

    __slots__ = ("touched", "value")

    def __init__(self, now: float) -> None:
        self.value = 0.0
        self.touched = now


class HistogramSeries(Series):
    """Cumulative-on-exposition bucket counts (stored per bucket), sum and count."""

    __slots__ = ("bounds", "buckets", "count")

    def __init__(self, now: float, bounds: Sequence[float]) -> None:
        super().__init__(now)
        self.bounds = bounds
        self.buckets = [0] * (len(bounds) + 1)  # the last one is +Inf
        self.count = 0

    def observe(self, value: float) -> None:
        self.buckets[bisect.bisect_left(self.bounds, value)] += 1
        self.count += 1
        self.value += value


class SummaryOptions:
    """Quantile targets and the sliding window a summary keeps (statsd_exporter's options)."""

    __slots__ = ("age_buckets", "max_age", "quantiles", "reservoir")

    def __init__(
        self,
        quantiles: Sequence[tuple[float, float]],
        max_age: float = 600.0,
        age_buckets: int = 5,
        reservoir: int = 500,
    ) -> None:
        self.quantiles = tuple(quantiles)
        self.max_age = max_age
        self.age_buckets = max(1, age_buckets)
        self.reservoir = max(1, reservoir)


class SummarySeries(Series):
    """Sum, count and quantiles over a sliding window of ``max_age``.

    The window is ``age_buckets`` rotating buckets; each keeps a uniform reservoir sample of at
    most ``reservoir`` observations, so memory is bounded however fast observations come.
    """

    __slots__ = ("_head", "_rotated", "_samples", "_seen", "count", "options")

    def __init__(self, now: float, options: SummaryOptions) -> None:
        super().__init__(now)
        self.options = options
        self.count = 0
        self._samples: list[list[float]] = [[] for _ in range(options.age_buckets)]
        self._seen = [0] * options.age_buckets
        self._rotated = now
        self._head = 0

    def _rotate(self, now: float) -> None:
        width = self.options.max_age / self.options.age_buckets
        steps = int((now - self._rotated) // width) if width > 0 else 0
        if steps <= 0:
            return
        for _ in range(min(steps, self.options.age_buckets)):
            self._head = (self._head + 1) % self.options.age_buckets
            self._samples[self._head] = []
            self._seen[self._head] = 0
        self._rotated += steps * width

    def observe(self, value: float, now: float) -> None:
        self.count += 1
        self.value += value
        self._rotate(now)
        bucket = self._samples[self._head]
        self._seen[self._head] += 1
        cap = self.options.reservoir
        if len(bucket) < cap:
            bucket.append(value)
        else:
            slot = random.randrange(self._seen[self._head])  # noqa: S311 - sampling, not security
            if slot < cap:
                bucket[slot] = value

    def quantiles(self, now: float) -> list[tuple[float, float]]:
        self._rotate(now)
        merged = sorted(v for bucket in self._samples for v in bucket)
        out = []
        for quantile, _error in self.options.quantiles:
            if not merged:
                out.append((quantile, float("nan")))
                continue
            index = min(len(merged) - 1, max(0, int(quantile * len(merged) + 0.5) - 1))
            out.append((quantile, merged[index]))
        return out


class SetSeries(Series):
    """Distinct members seen within the last ``window`` seconds (a StatsD set, as a gauge)."""

    __slots__ = ("max_members", "members", "overflow", "window")

    def __init__(self, now: float, window: float, max_members: int) -> None:
        super().__init__(now)
        self.window = window
        self.max_members = max_members
        self.members: dict[str, float] = {}
        self.overflow = 0

    def add(self, member: str, now: float) -> bool:
        """Record ``member``; False when the member cap refused a new one."""
        members = self.members
        if member in members or len(members) < self.max_members:
            members[member] = now
            return True
        self.prune(now)
        if len(members) < self.max_members:
            members[member] = now
            return True
        self.overflow += 1
        return False

    def prune(self, now: float) -> None:
        horizon = now - self.window
        stale = [m for m, seen in self.members.items() if seen < horizon]
        for member in stale:
            del self.members[member]

    def distinct(self, now: float) -> int:
        self.prune(now)
        return len(self.members)


class Family:
    """All series of one metric name: one kind, one help text, one set of label names."""

    __slots__ = ("help", "kind", "label_names", "name", "series", "ttl")

    def __init__(
        self, name: str, kind: Kind, label_names: tuple[str, ...], help_text: str, ttl: float
    ) -> None:
        self.name = name
        self.kind = kind
        self.label_names = label_names
        self.help = help_text
        self.ttl = ttl
        self.series: dict[tuple[str, ...], Series] = {}


_SUFFIXES: Final = {"_sum": (Kind.HISTOGRAM, Kind.SUMMARY), "_count": (Kind.HISTOGRAM, Kind.SUMMARY),
                    "_bucket": (Kind.HISTOGRAM,)}  # fmt: skip


class SeriesRegistry:
    """Families by name; see the module docstring for the rules it keeps."""

    def __init__(self, max_series: int = 0, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_series = max_series
        self.clock = clock
        self.families: dict[str, Family] = {}
        self.series_count: dict[Kind, int] = dict.fromkeys(Kind, 0)
        self.total_series = 0

    def _family(
        self, name: str, kind: Kind, label_names: tuple[str, ...], help_text: str, ttl: float
    ) -> Family | Refusal:
        family = self.families.get(name)
        if family is not None:
            if family.kind is not kind:
                return Refusal.TYPE_CONFLICT
            if family.label_names != label_names:
                return Refusal.LABELS_CONFLICT
            return family
        if self._name_clashes(name, kind):
            return Refusal.NAME_CONFLICT
        family = Family(name, kind, label_names, help_text, ttl)
        self.families[name] = family
        return family

    def _name_clashes(self, name: str, kind: Kind) -> bool:
        families = self.families
        if kind is Kind.HISTOGRAM or kind is Kind.SUMMARY:
            for suffix, kinds in _SUFFIXES.items():
                if kind in kinds and name + suffix in families:
                    return True
        for suffix, kinds in _SUFFIXES.items():
            if name.endswith(suffix):
                base = families.get(name[: -len(suffix)])
                if base is not None and base.kind in kinds:
                    return True
        return False

    def get(
        self,
        name: str,
        kind: Kind,
        label_names: tuple[str, ...],
        label_values: tuple[str, ...],
        help_text: str,
        ttl: float,
        make: Callable[[float], Series],
    ) -> Series | Refusal:
        """The series ``name{labels}``, created with ``make`` if new; or why it was refused."""
        family = self.families.get(name)
        if family is None or family.kind is not kind or family.label_names != label_names:
            found = self._family(name, kind, label_names, help_text, ttl)
            if isinstance(found, Refusal):
                return found
            family = found
        series = family.series.get(label_values)
        now = self.clock()
        if series is None:
            if self.max_series and self.total_series >= self.max_series:
                if not family.series:
                    del self.families[name]
                return Refusal.SERIES_LIMIT
            series = family.series[label_values] = make(now)
            self.series_count[kind] += 1
            self.total_series += 1
        else:
            series.touched = now
        if family.ttl != ttl:
            family.ttl = ttl
        return series

    def expire(self) -> int:
        """Remove series whose family TTL has passed since their last update; returns how many."""
        now = self.clock()
        removed = 0
        for name in list(self.families):
            family = self.families[name]
            if family.ttl <= 0:
                continue
            horizon = now - family.ttl
            stale = [key for key, series in family.series.items() if series.touched < horizon]
            for key in stale:
                del family.series[key]
            removed += len(stale)
            self.series_count[family.kind] -= len(stale)
            if not family.series:
                del self.families[name]
        self.total_series -= removed
        return removed

    def __iter__(self) -> Iterator[Family]:
        return iter(list(self.families.values()))
