"""The Prometheus text format (0.0.4) of the registry's series, written directly for speed.

Counters keep exactly the name the mapping gave them (statsd_exporter does not append
``_total``), histograms are cumulative with ``le`` labels, summaries carry ``quantile`` labels,
sets are gauges of distinct members. Series of one name are ordered as client_golang orders them:
fewer labels first, then by label values in label-name order. Floats are printed the way Go prints them (``1``, ``0.5``,
``1e+06``, ``+Inf``, ``NaN``), so output compares equal to statsd_exporter's.
"""

from __future__ import annotations

from collections.abc import Iterable

from podkit.core.goexposition import format_float
from podkit.statsd_adapter.registry import (
    Family,
    HistogramSeries,
    Kind,
    LabelKey,
    SetSeries,
    SummarySeries,
)

__all__ = ["format_float", "render"]

_TYPE_NAMES = {
    Kind.COUNTER: "counter",
    Kind.GAUGE: "gauge",
    Kind.SET: "gauge",
    Kind.HISTOGRAM: "histogram",
    Kind.SUMMARY: "summary",
}


_INF_LE = 'le="+Inf"'


def _escape_help(text: str) -> str:
    if "\\" in text or "\n" in text:
        return text.replace("\\", "\\\\").replace("\n", "\\n")
    return text


def _escape_value(text: str) -> str:
    if "\\" in text or '"' in text or "\n" in text:
        return text.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')
    return text


def _order(key: LabelKey) -> tuple[int, tuple[str, ...], tuple[str, ...]]:
    names, values = key
    return len(names), values, names


def _labels(names: tuple[str, ...], values: tuple[str, ...], extra: str = "") -> str:
    if not names:
        return "{" + extra + "}" if extra else ""
    parts = [f'{n}="{_escape_value(v)}"' for n, v in zip(names, values, strict=True)]
    if extra:
        parts.append(extra)
    return "{" + ",".join(parts) + "}" if parts else ""


def render(families: Iterable[Family], now: float) -> str:
    """The exposition of ``families``, sorted by name; ``now`` ages summaries and sets."""
    out: list[str] = []
    append = out.append
    for family in sorted(families, key=lambda f: f.name):
        if not family.series:
            continue
        name = family.name
        append(
            f"# HELP {name} {_escape_help(family.help)}\n# TYPE {name} {_TYPE_NAMES[family.kind]}\n"
        )
        kind = family.kind
        # one set of label names (the usual case): the keys sort by their values alone
        keys = sorted(family.series, key=_order) if family.mixed else sorted(family.series)
        for key in keys:
            series = family.series[key]
            names, values = key
            if kind is Kind.COUNTER or kind is Kind.GAUGE:
                append(f"{name}{_labels(names, values)} {format_float(series.value)}\n")
            elif kind is Kind.SET:
                assert isinstance(series, SetSeries)
                append(f"{name}{_labels(names, values)} {series.distinct(now)}\n")
            elif kind is Kind.HISTOGRAM:
                assert isinstance(series, HistogramSeries)
                cumulative = 0
                for bound, count in zip(series.bounds, series.buckets, strict=False):
                    cumulative += count
                    le = f'le="{format_float(bound)}"'
                    append(f"{name}_bucket{_labels(names, values, le)} {cumulative}\n")
                append(f"{name}_bucket{_labels(names, values, _INF_LE)} {series.count}\n")
                append(f"{name}_sum{_labels(names, values)} {format_float(series.value)}\n")
                append(f"{name}_count{_labels(names, values)} {series.count}\n")
            else:
                assert isinstance(series, SummarySeries)
                for quantile, value in series.quantiles(now):
                    q = f'quantile="{format_float(quantile)}"'
                    append(f"{name}{_labels(names, values, q)} {format_float(value)}\n")
                append(f"{name}_sum{_labels(names, values)} {format_float(series.value)}\n")
                append(f"{name}_count{_labels(names, values)} {series.count}\n")
    return "".join(out)


def self_metric_names(page: bytes) -> frozenset[str]:
    """The family and sample names in a text-format page (the names series may not take)."""
    names: set[str] = set()
    for line in page.decode("utf-8", "replace").splitlines():
        if line.startswith("# TYPE ") or line.startswith("# HELP "):
            names.add(line.split(" ", 3)[2])
        elif line and not line.startswith("#"):
            names.add(line.split("{", 1)[0].split(" ", 1)[0])
    return frozenset(names)
