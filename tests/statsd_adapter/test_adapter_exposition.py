"""The registry's rules and the text exposition, without sockets."""

from __future__ import annotations

import math

import pytest
from prometheus_client.parser import text_string_to_metric_families

from podkit.statsd_adapter.exposition import format_float, render
from podkit.statsd_adapter.mapper import Quantile, SummaryOptions
from podkit.statsd_adapter.registry import (
    HistogramSeries,
    Kind,
    Refusal,
    Series,
    SeriesRegistry,
    SetSeries,
    SummarySeries,
)

MEDIAN = (Quantile(0.5, 0.05),)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1.0, "1"), (0.5, "0.5"), (-3.0, "-3"), (1e6, "1e+06"), (999999.0, "999999"),
        (123456789.0, "1.23456789e+08"), (1.5e-7, "1.5e-07"), (0.0001, "0.0001"),
        (0.00001, "1e-05"), (1234.5678, "1234.5678"), (math.inf, "+Inf"), (-math.inf, "-Inf"),
        (math.nan, "NaN"), (0.0, "0"), (100000.5, "100000.5"), (2.5e21, "2.5e+21"),
    ],
)  # fmt: skip
def test_floats_print_like_go(value: float, text: str) -> None:
    assert format_float(value) == text


def test_ints_print_like_floats() -> None:
    assert (format_float(10), format_float(10**7)) == ("10", "1e+07")  # type: ignore[arg-type]


def clock_registry(limit: int = 0) -> tuple[SeriesRegistry, list[float]]:
    now = [100.0]
    return SeriesRegistry(max_series=limit, clock=lambda: now[0]), now


def get(
    reg: SeriesRegistry, name: str, kind: Kind, labels: dict[str, str] | None = None, ttl: float = 0
):
    names = tuple(sorted(labels or {}))
    key = (names, tuple((labels or {})[n] for n in names))
    make = {
        Kind.COUNTER: Series,
        Kind.GAUGE: Series,
        Kind.HISTOGRAM: lambda now: HistogramSeries(now, (0.1, 1.0)),
        Kind.SUMMARY: lambda now: SummarySeries(now, SummaryOptions(MEDIAN)),
        Kind.SET: lambda now: SetSeries(now, 60, 10),
    }[kind]
    return reg.get(name, kind, key, "help", ttl, make)


def test_first_type_wins_and_label_sets_may_differ() -> None:
    reg, _ = clock_registry()
    assert isinstance(get(reg, "m", Kind.COUNTER), Series)
    assert get(reg, "m", Kind.GAUGE) is Refusal.TYPE_CONFLICT
    assert get(reg, "m", Kind.SET) is Refusal.TYPE_CONFLICT
    assert isinstance(get(reg, "m", Kind.COUNTER, {"a": "1"}), Series)
    assert isinstance(get(reg, "m", Kind.COUNTER, {"b": "1"}), Series)
    assert get(reg, "m", Kind.GAUGE, {"a": "1"}) is Refusal.TYPE_CONFLICT
    assert reg.total_series == 3
    assert reg.vector_count()[Kind.COUNTER] == 3  # statsd_exporter: one vector per label-name set
    get(reg, "m", Kind.COUNTER, {"a": "2"})
    assert (reg.total_series, reg.vector_count()[Kind.COUNTER]) == (4, 3)


def test_series_of_one_name_are_ordered_as_client_golang_orders_them() -> None:
    reg, now = clock_registry()
    for labels in ({"b": "2"}, {"a": "1", "b": "1"}, None, {"a": "3"}, {"b": "1"}):
        series = get(reg, "p", Kind.COUNTER, labels)
        assert isinstance(series, Series)
        series.value = 1
    text = render(reg, now[0])
    # fewer labels first, then by values (client_golang compares values, not names)
    assert text.splitlines()[2:] == [
        "p 1",
        'p{b="1"} 1',
        'p{b="2"} 1',
        'p{a="3"} 1',
        'p{a="1",b="1"} 1',
    ]
    assert len(list(text_string_to_metric_families(text))) == 1


def test_reserved_names_are_refused() -> None:
    reg = SeriesRegistry(reserved={"statsd_exporter_lines_total", "up_sum"})
    assert reg.get("statsd_exporter_lines_total", Kind.COUNTER, ((), ()), "", 0, Series) is (
        Refusal.NAME_CONFLICT
    )
    assert reg.get("up", Kind.SUMMARY, ((), ()), "", 0, Series) is Refusal.NAME_CONFLICT


@pytest.mark.parametrize(
    ("first", "first_kind", "second", "second_kind"),
    [
        ("h", Kind.HISTOGRAM, "h_bucket", Kind.COUNTER),
        ("h", Kind.HISTOGRAM, "h_sum", Kind.GAUGE),
        ("s", Kind.SUMMARY, "s_count", Kind.COUNTER),
        ("h_sum", Kind.COUNTER, "h", Kind.HISTOGRAM),
        ("s_count", Kind.GAUGE, "s", Kind.SUMMARY),
    ],
)
def test_suffix_clashes(first: str, first_kind: Kind, second: str, second_kind: Kind) -> None:
    reg, _ = clock_registry()
    assert not isinstance(get(reg, first, first_kind), Refusal)
    assert get(reg, second, second_kind) is Refusal.NAME_CONFLICT


def test_summary_bucket_suffix_is_free() -> None:
    reg, _ = clock_registry()
    get(reg, "s", Kind.SUMMARY)
    assert not isinstance(get(reg, "s_bucket", Kind.COUNTER), Refusal)


def test_limit_and_expiry_keep_the_counts_right() -> None:
    reg, now = clock_registry(limit=2)
    get(reg, "a", Kind.COUNTER, ttl=10)
    get(reg, "b", Kind.GAUGE, {"x": "1"})
    assert get(reg, "c", Kind.COUNTER) is Refusal.SERIES_LIMIT
    assert "c" not in reg.families
    assert get(reg, "b", Kind.GAUGE, {"x": "2"}) is Refusal.SERIES_LIMIT
    assert isinstance(get(reg, "b", Kind.GAUGE, {"x": "1"}), Series)  # existing series update
    now[0] += 11
    assert reg.expire() == 1
    assert reg.total_series == 1
    assert reg.vector_count()[Kind.COUNTER] == 0
    assert "a" not in reg.families
    assert not isinstance(get(reg, "a", Kind.GAUGE), Refusal)  # the name is free again


def test_render_parses_and_is_cumulative() -> None:
    reg, now = clock_registry()
    hist = get(reg, "lat", Kind.HISTOGRAM, {"path": 'a"b\\c\nd'})
    assert isinstance(hist, HistogramSeries)
    for value in (0.05, 0.5, 0.5, 5.0):
        hist.observe(value)
    summary = get(reg, "sum", Kind.SUMMARY)
    assert isinstance(summary, SummarySeries)
    for value in range(1, 101):
        summary.observe(float(value), now[0])
    members = get(reg, "uniq", Kind.SET)
    assert isinstance(members, SetSeries)
    for member in ("a", "b", "a"):
        members.add(member, now[0])
    text = render(reg, now[0])
    families = {f.name: f for f in text_string_to_metric_families(text)}
    buckets = {s.labels["le"]: s.value for s in families["lat"].samples if s.name == "lat_bucket"}
    assert buckets == {"0.1": 1, "1": 3, "+Inf": 4}
    assert families["lat"].samples[0].labels["path"] == 'a"b\\c\nd'
    quantile = next(s for s in families["sum"].samples if s.labels.get("quantile") == "0.5")
    assert quantile.value == 50
    assert "uniq 2\n" in text
    assert families["uniq"].type == "gauge"


def test_summary_window_forgets_old_observations() -> None:
    series = SummarySeries(0.0, SummaryOptions(MEDIAN, max_age=10, age_buckets=2))
    series.observe(100.0, 0.0)
    assert series.quantiles(1.0) == [(0.5, 100.0)]
    series.observe(1.0, 6.0)
    assert series.quantiles(11.0) == [(0.5, 1.0)]
    assert math.isnan(series.quantiles(30.0)[0][1])
    assert series.count == 2  # sum and count are cumulative, as in Prometheus


def test_summary_reservoir_is_bounded() -> None:
    series = SummarySeries(0.0, SummaryOptions(MEDIAN, buf_cap=50))
    for value in range(10000):
        series.observe(float(value), 0.0)
    assert sum(len(bucket) for bucket in series._samples) == 50
    assert series.count == 10000


def test_set_window_and_member_cap() -> None:
    members = SetSeries(0.0, window=10, max_members=2)
    assert members.add("a", 0.0)
    assert members.add("b", 1.0)
    assert not members.add("c", 2.0)  # full
    assert members.add("a", 5.0)  # known members refresh
    assert members.add("c", 11.5)  # b has aged out, so c fits
    assert members.distinct(12.0) == 2
    assert members.distinct(30.0) == 0
