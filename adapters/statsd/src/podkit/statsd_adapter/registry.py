"""The series the adapter exposes: families by name, series by label set, TTLs and a cap.

statsd_exporter's ``pkg/registry`` role, rebuilt for Python speed: plain dicts and slotted
objects instead of one client-library metric per series, so an event costs two dict look-ups.
The rules are statsd_exporter's (client_golang's registry with unchecked collectors):

* one type per name: the first type registered under a name wins, a later event of another type
  is refused (:attr:`Refusal.TYPE_CONFLICT`);
* label sets may differ within a name: ``p{a="1"}``, ``p{b="1"}`` and ``p`` are three series of
  one family, as statsd_exporter exports them;
* a histogram or summary ``x`` and a metric named ``x_sum``, ``x_count`` (and ``x_bucket`` for a
  histogram) cannot both exist (:attr:`Refusal.NAME_CONFLICT`). statsd_exporter checks this only
  when the histogram or summary comes second and answers every later scrape with HTTP 500 when it
  comes first; here both orders are refused, so the page stays valid;
* names in ``reserved`` (the adapter's own metrics) are refused too, for the same reason.

What statsd_exporter lacks: a cap on the number of series (new series past it are refused with
:attr:`Refusal.SERIES_LIMIT`, existing ones keep updating) and TTL expiry that really removes
series and lowers ``statsd_exporter_metrics_total``.
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from enum import StrEnum
from random import random as _random
from typing import Final

from podkit.statsd_adapter.mapper.schema import DEFAULT_QUANTILES, SummaryOptions

__all__ = [
    "DEFAULT_MAX_SERIES",
    "Family",
    "HistogramSeries",
    "Kind",
    "LabelKey",
    "Refusal",
    "Series",
    "SeriesRegistry",
    "SetSeries",
    "SummarySeries",
]

#: The default ``--statsd.max-series``: enough for any sane pod, small enough that a
#: cardinality flood stays within a few hundred MiB.
DEFAULT_MAX_SERIES: Final = 100_000

LabelKey = tuple[tuple[str, ...], tuple[str, ...]]
"""A series' labels: the sorted label names and their values, in that order."""

NO_LABELS: Final[LabelKey] = ((), ())


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
    NAME_CONFLICT = "name_conflict"
    SERIES_LIMIT = "series_limit"


class Series:
    """A counter or gauge value, when it was last written, and its TTL (0: forever)."""

    __slots__ = ("touched", "ttl", "value")

    def __init__(self, now: float) -> None:
        self.value = 0.0
        self.touched = now
        self.ttl = 0.0


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


#: client_golang's summary defaults, used where ``summary_options`` leaves a field at 0.
DEFAULT_MAX_AGE: Final = 600.0
DEFAULT_AGE_BUCKETS: Final = 5
DEFAULT_BUF_CAP: Final = 500


class SummarySeries(Series):
    """Sum, count and quantiles over a sliding window of ``max_age``.

    The window is ``age_buckets`` rotating buckets; each keeps a uniform reservoir sample of at
    most ``buf_cap`` observations, so memory is bounded however fast observations come. Fields
    of ``options`` left at 0 take client_golang's defaults (10m, 5, 500), no quantiles the
    default objectives.
    """

    __slots__ = (
        "_bucket",
        "_cap",
        "_head",
        "_next",
        "_rotated",
        "_samples",
        "_seen",
        "_width",
        "count",
        "options",
    )

    def __init__(self, now: float, options: SummaryOptions) -> None:
        super().__init__(now)
        self.options = options
        buckets = options.age_buckets or DEFAULT_AGE_BUCKETS
        self.count = 0
        self._samples: list[list[float]] = [[] for _ in range(buckets)]
        self._head = 0
        self._bucket = self._samples[0]  # the head bucket, the one observations go to
        self._seen = 0  # observations offered to the head bucket
        self._cap = options.buf_cap or DEFAULT_BUF_CAP
        self._width = (options.max_age or DEFAULT_MAX_AGE) / buckets
        self._rotated = now
        self._next = now + self._width  # no rotation is due before this

    def _rotate(self, now: float) -> None:
        buckets = len(self._samples)
        width = self._width
        steps = int((now - self._rotated) // width) if width > 0 else 0
        if steps <= 0:
            return
        for _ in range(min(steps, buckets)):
            self._head = (self._head + 1) % buckets
            self._samples[self._head] = []
        self._bucket = self._samples[self._head]
        self._seen = 0
        self._rotated += steps * width
        self._next = self._rotated + width

    def observe(self, value: float, now: float) -> None:
        self.count += 1
        self.value += value
        if now >= self._next:
            self._rotate(now)
        bucket = self._bucket
        if len(bucket) < self._cap:
            self._seen += 1
            bucket.append(value)
        else:
            seen = self._seen = self._seen + 1
            slot = int(_random() * seen)  # noqa: S311 - sampling, not security
            if slot < self._cap:
                bucket[slot] = value

    def quantiles(self, now: float) -> list[tuple[float, float]]:
        self._rotate(now)
        merged = sorted(v for bucket in self._samples for v in bucket)
        out = []
        for objective in self.options.quantiles or DEFAULT_QUANTILES:
            quantile = objective.quantile
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
    """All series of one metric name: one kind, one help text, any label sets.

    ``mixed`` says whether its series ever had more than one set of label names (statsd_exporter
    keeps one client vector per set; ``statsd_exporter_metrics_total`` counts them).
    """

    __slots__ = ("expiring", "first_names", "help", "kind", "mixed", "name", "series")

    def __init__(self, name: str, kind: Kind, help_text: str) -> None:
        self.name = name
        self.kind = kind
        self.help = help_text
        self.series: dict[LabelKey, Series] = {}
        self.first_names: tuple[str, ...] | None = None
        self.mixed = False
        self.expiring = False  # some series has a TTL

    def label_name_sets(self) -> int:
        """How many sets of label names its series have now."""
        if not self.series:
            return 0
        if not self.mixed:
            return 1
        return len({names for names, _ in self.series})


_SUFFIXES: Final = {"_sum": (Kind.HISTOGRAM, Kind.SUMMARY), "_count": (Kind.HISTOGRAM, Kind.SUMMARY),
                    "_bucket": (Kind.HISTOGRAM,)}  # fmt: skip


class SeriesRegistry:
    """Families by name; see the module docstring for the rules it keeps.

    ``max_series`` caps the series (0: no cap); ``reserved`` are names no series may take
    (the adapter's own metric families, and the sample names they expose).
    """

    def __init__(
        self,
        max_series: int = DEFAULT_MAX_SERIES,
        clock: Callable[[], float] = time.monotonic,
        reserved: Collection[str] = (),
    ) -> None:
        self.max_series = max_series
        self.clock = clock
        self.reserved = frozenset(reserved)
        self.families: dict[str, Family] = {}
        self.total_series = 0
        self.generation = 0
        """Bumped whenever series are removed, so holders of series objects know to let go."""

    def _family(self, name: str, kind: Kind, help_text: str) -> Family | Refusal:
        if self._name_clashes(name, kind):
            return Refusal.NAME_CONFLICT
        family = Family(name, kind, help_text)
        self.families[name] = family
        return family

    def _name_clashes(self, name: str, kind: Kind) -> bool:
        families = self.families
        reserved = self.reserved
        if name in reserved:
            return True
        if kind is Kind.HISTOGRAM or kind is Kind.SUMMARY:
            for suffix, kinds in _SUFFIXES.items():
                if kind in kinds and (name + suffix in families or name + suffix in reserved):
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
        labels: LabelKey,
        help_text: str,
        ttl: float,
        make: Callable[[float], Series],
    ) -> Series | Refusal:
        """The series ``name{labels}``, created with ``make`` if new; or why it was refused."""
        family = self.families.get(name)
        if family is None:
            found = self._family(name, kind, help_text)
            if isinstance(found, Refusal):
                return found
            family = found
        elif family.kind is not kind:
            return Refusal.TYPE_CONFLICT
        series = family.series.get(labels)
        now = self.clock()
        if series is not None:
            series.touched = now
            return series
        if self.max_series and self.total_series >= self.max_series:
            if not family.series:
                del self.families[name]
            return Refusal.SERIES_LIMIT
        series = family.series[labels] = make(now)
        if ttl > 0:
            series.ttl = ttl
            family.expiring = True
        if family.first_names is None:
            family.first_names = labels[0]
        elif labels[0] != family.first_names:
            family.mixed = True
        self.total_series += 1
        return series

    def expire(self) -> int:
        """Remove series whose TTL has passed since their last update; returns how many."""
        now = self.clock()
        removed = 0
        for name in list(self.families):
            family = self.families[name]
            if not family.expiring:
                continue
            stale = [
                key
                for key, series in family.series.items()
                if series.ttl and series.touched + series.ttl < now
            ]
            for key in stale:
                del family.series[key]
            removed += len(stale)
            if not family.series:
                del self.families[name]
        self.total_series -= removed
        if removed:
            self.generation += 1
        return removed

    def vector_count(self) -> dict[Kind, int]:
        """Sets of label names per name, by kind (``statsd_exporter_metrics_total``), now."""
        counts = dict.fromkeys(Kind, 0)
        for family in self.families.values():  # no await in here: the dict cannot change
            if family.mixed:
                counts[family.kind] += family.label_name_sets()
            elif family.series:
                counts[family.kind] += 1
        return counts

    def __len__(self) -> int:
        return self.total_series

    def __iter__(self) -> Iterator[Family]:
        return iter(list(self.families.values()))
