"""The Prometheus text format (0.0.4) exactly as Go's client_golang writes it, from a registry.

A drop-in replacement for a Go exporter must print what Go prints, because scripts and tests read
``/metrics`` as text: ``git_sync_count_total{status="success"} 1`` where prometheus-client writes
``1.0``. :func:`format_float` is Go's ``strconv.FormatFloat(v, 'g', -1, 64)`` with client_golang's
own spellings (``+Inf``, ``-Inf``, ``NaN``). :func:`render` writes a prometheus-client registry the
way ``promhttp`` does: families sorted by name, series sorted by label values, ``# HELP`` and
``# TYPE`` named after the series (a counter's ``_total``), a summary's ``_sum`` before its
``_count``, and none of prometheus-client's ``_created`` series, which Go does not have. A counter
collected under a name without ``_total`` keeps that exact name (Go lets a counter be named
anything).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

__all__ = ["CONTENT_TYPE", "format_float", "render"]

# what promhttp answers for the text format (prometheus-client now says version=1.0.0)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# within one series of a summary or histogram, the order in which Go writes the samples
_SUFFIX_ORDER = {"_bucket": 0, "": 0, "_sum": 1, "_count": 2}


def format_float(value: float) -> str:
    """``value`` as Go's ``strconv.FormatFloat(v, 'g', -1, 64)`` writes it in the exposition."""
    value = float(value)  # an int from a config file must print the same way
    if value.is_integer() and -1e6 < value < 1e6:  # the common case first: it is a hot path
        return str(int(value))
    if value != value:
        return "NaN"
    if value in (math.inf, -math.inf):
        return "+Inf" if value > 0 else "-Inf"
    sign = "-" if value < 0 else ""
    digits, point = _shortest_digits(abs(value))
    exp = point - 1
    if exp < -4 or exp >= 6:  # Go's rule for the shortest 'g' form
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{mantissa}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    if point <= 0:
        return f"{sign}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return sign + digits + "0" * (point - len(digits))
    return f"{sign}{digits[:point]}.{digits[point:]}"


def _shortest_digits(value: float) -> tuple[str, int]:
    """The shortest round-trip decimal digits of ``value`` and where the decimal point goes."""
    mantissa, _, exponent = f"{value!r}".partition("e")
    whole, _, fraction = mantissa.partition(".")
    all_digits = whole + fraction.rstrip("0")
    stripped = all_digits.lstrip("0")
    point = len(whole) + (int(exponent) if exponent else 0) - (len(all_digits) - len(stripped))
    return stripped.rstrip("0") or "0", point


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _escape_label(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(labels: dict[str, str]) -> str:
    if not labels:
        return ""
    inner = ",".join(f'{name}="{_escape_label(value)}"' for name, value in labels.items())
    return "{" + inner + "}"


_GO_TYPES = {"counter", "gauge", "summary", "histogram"}


def _family_name(metric: Any) -> str:
    if metric.type == "counter" and not any(s.name == metric.name for s in metric.samples):
        return f"{metric.name}_total"
    return str(metric.name)


def _sort_key(metric: Any, sample: Any) -> tuple[Any, ...]:
    series = tuple(
        value for name, value in sorted(sample.labels.items()) if name not in ("le", "quantile")
    )
    suffix = sample.name[len(metric.name) :]
    bound = sample.labels.get("le", sample.labels.get("quantile"))
    position = float(bound.replace("+Inf", "inf")) if bound is not None else 0.0
    return (series, _SUFFIX_ORDER.get(suffix, 3), position)


def render(families: Iterable[Any]) -> bytes:
    """The text exposition of ``families`` (what ``registry.collect()`` yields), as Go writes it."""
    blocks: list[tuple[str, str]] = []
    for metric in families:
        samples = [s for s in metric.samples if not s.name.endswith("_created")]
        if not samples:
            continue
        name = _family_name(metric)
        kind = metric.type if metric.type in _GO_TYPES else "untyped"
        lines = [f"# HELP {name} {_escape_help(metric.documentation)}", f"# TYPE {name} {kind}"]
        for sample in sorted(samples, key=lambda s: _sort_key(metric, s)):
            labels = _labels(dict(sorted(sample.labels.items())))
            lines.append(f"{sample.name}{labels} {format_float(sample.value)}")
        blocks.append((name, "\n".join(lines) + "\n"))
    return "".join(text for _, text in sorted(blocks)).encode()
