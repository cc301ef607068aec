"""Read statsd_exporter's mapping YAML strictly into a :class:`~.schema.MapperConfig`.

Accepts exactly what statsd_exporter 0.30 accepts, with the same defaulting:

* top level: ``defaults``, ``mappings``;
* ``defaults``: ``observer_type`` (legacy spelling ``timer_type``), ``match_type``,
  ``glob_disable_ordering``, ``ttl``, ``summary_options``, ``histogram_options``, and the older
  ``buckets`` and ``quantiles`` (used when the options leave them empty);
* a mapping: ``match``, ``name``, ``labels``, ``honor_labels``, ``observer_type``/``timer_type``,
  ``match_type``, ``help``, ``action``, ``match_metric_type``, ``ttl``, ``summary_options``,
  ``histogram_options``, ``scale`` (statsd_exporter 0.30 no longer takes ``buckets`` or
  ``quantiles`` here; the error says where they go);
* ``summary_options``: ``quantiles`` (each ``quantile``/``error``), ``max_age``, ``age_buckets``,
  ``buf_cap``; ``histogram_options``: ``buckets``, ``native_histogram_bucket_factor``,
  ``native_histogram_max_buckets``.

Anything else -- an unknown or misspelt key, a duplicate key, a wrong type, a bad enum value, an
invalid label or metric name, a glob that is not a metric pattern, a regex RE2 would refuse -- is
a :class:`MapperConfigError` whose message names the place (``mappings[3] (match "a.*")``) and
the key. A label name starting with ``__`` is refused too: Prometheus reserves those names, and
statsd_exporter, which takes them, fails every scrape after such a series appears. Load-time
defaulting follows statsd_exporter: empty default buckets/quantiles fall back
to Prometheus' and statsd_exporter's, histogram/summary observers inherit the default options
they leave unset, and a mapping without ``ttl`` inherits the default TTL.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import yaml

from podkit.core.durations import parse_go_duration
from podkit.statsd_adapter.event import MetricType
from podkit.statsd_adapter.gofloat import parse_float
from podkit.statsd_adapter.mapper.goregex import GoRegexError, compile_go_regex
from podkit.statsd_adapter.mapper.schema import (
    DEFAULT_BUCKETS,
    DEFAULT_QUANTILES,
    Action,
    Defaults,
    HistogramOptions,
    MapperConfig,
    MatchType,
    MetricMapping,
    ObserverType,
    Quantile,
    SummaryOptions,
)

__all__ = ["MapperConfigError", "load_config", "load_config_file"]

# statsd_exporter's validation expressions (pkg/mapper/mapper.go).
_FIRST_SEGMENT = r"[a-zA-Z_](-{0,2}[a-zA-Z0-9_])*"
_LATER_SEGMENT = r"[a-zA-Z0-9_](-{0,2}[a-zA-Z0-9_])*"
_GLOB_MATCH_RE = re.compile(rf"(\*|{_FIRST_SEGMENT})(\.\*|\.{_LATER_SEGMENT})*")
_TEMPLATE_REF = r"(\$\{?\d+\}?)"
_METRIC_NAME_RE = re.compile(
    rf"([a-zA-Z_]|{_TEMPLATE_REF})([a-zA-Z0-9_]|{_TEMPLATE_REF})*", re.ASCII
)
_LABEL_NAME_RE = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]+")

_TOP_KEYS = ("defaults", "mappings")
_DEFAULTS_KEYS = (
    "observer_type",
    "timer_type",
    "buckets",
    "quantiles",
    "match_type",
    "glob_disable_ordering",
    "ttl",
    "summary_options",
    "histogram_options",
)
_MAPPING_KEYS = (
    "match",
    "name",
    "labels",
    "honor_labels",
    "observer_type",
    "timer_type",
    "match_type",
    "help",
    "action",
    "match_metric_type",
    "ttl",
    "summary_options",
    "histogram_options",
    "scale",
)
_SUMMARY_KEYS = ("quantiles", "max_age", "age_buckets", "buf_cap")
_QUANTILE_KEYS = ("quantile", "error")
_HISTOGRAM_KEYS = ("buckets", "native_histogram_bucket_factor", "native_histogram_max_buckets")
_UINT32_MAX = 2**32 - 1

E = TypeVar("E")


class MapperConfigError(ValueError):
    """The mapping configuration is invalid; the message says where and why."""


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate keys (as Go's strict YAML decoding does)."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    result: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in result:
            line = key_node.start_mark.line + 1
            raise MapperConfigError(f"line {line}: key {key!r} is defined twice in one mapping")
        result[key] = loader.construct_object(value_node, deep=True)
    return result


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


# -- scalar coercion ---------------------------------------------------------------------------


def _where_key(where: str, key: str) -> str:
    return f"{where}: {key}"


def _as_str(value: Any, where: str, key: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise MapperConfigError(
        f"{_where_key(where, key)} must be a string, got {type(value).__name__}"
    )


def _as_bool(value: Any, where: str, key: str) -> bool:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    raise MapperConfigError(f"{_where_key(where, key)} must be true or false, got {value!r}")


def _as_float(value: Any, where: str, key: str) -> float:
    if isinstance(value, bool) or value is None:
        raise MapperConfigError(f"{_where_key(where, key)} must be a number, got {value!r}")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return parse_float(value)
        except ValueError:
            pass
    raise MapperConfigError(f"{_where_key(where, key)} must be a number, got {value!r}")


def _as_uint32(value: Any, where: str, key: str) -> int:
    if value is None:
        return 0
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= _UINT32_MAX:
        return value
    raise MapperConfigError(
        f"{_where_key(where, key)} must be a whole number from 0 to {_UINT32_MAX}, got {value!r}"
    )


def _as_duration(value: Any, where: str, key: str) -> float:
    if value is None or (isinstance(value, int) and not isinstance(value, bool) and value == 0):
        return 0.0
    if isinstance(value, str):
        try:
            return parse_go_duration(value) / 1e9
        except ValueError as exc:
            raise MapperConfigError(
                f"{_where_key(where, key)}: {exc} (expected a duration like 30s, 5m or 1h30m)"
            ) from None
    raise MapperConfigError(
        f"{_where_key(where, key)} must be a duration with a unit like 30s, 5m or 1h30m, got {value!r}"
    )


def _as_enum(value: Any, where: str, key: str, parse: Callable[[str], E]) -> E:
    return parse(_as_str(value, where, key))


def _as_dict(value: Any, where: str) -> dict[Any, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise MapperConfigError(
            f"{where} must be a mapping of keys to values, got {type(value).__name__}"
        )
    return value


def _as_list(value: Any, where: str, key: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise MapperConfigError(
            f"{_where_key(where, key)} must be a list, got {type(value).__name__}"
        )
    return value


_MOVED = {
    "quantiles": "in a mapping, quantiles go under summary_options",
    "buckets": "in a mapping, buckets go under histogram_options",
}


def _check_keys(node: Mapping[Any, Any], allowed: tuple[str, ...], where: str) -> None:
    for key in node:
        if key not in allowed:
            hint = _MOVED.get(key) if isinstance(key, str) else None
            detail = hint or f"allowed keys: {', '.join(allowed)}"
            raise MapperConfigError(f"{where}: unknown key {key!r} ({detail})")


# -- enums ---------------------------------------------------------------------------------------


def _observer_type(text: str) -> ObserverType:
    if text == "histogram":
        return ObserverType.HISTOGRAM
    if text in ("summary", ""):
        return ObserverType.SUMMARY
    raise ValueError(f"invalid observer type {text!r} (expected histogram or summary)")


def _match_type(text: str) -> MatchType:
    if text in ("glob", ""):
        return MatchType.GLOB
    if text == "regex":
        return MatchType.REGEX
    raise ValueError(f"invalid match type {text!r} (expected glob or regex)")


def _action(text: str) -> Action:
    if text in ("map", ""):
        return Action.MAP
    if text == "drop":
        return Action.DROP
    raise ValueError(f"invalid action type {text!r} (expected map or drop)")


def _metric_type(text: str) -> MetricType:
    try:
        return MetricType(text)
    except ValueError:
        raise ValueError(
            f"invalid metric type {text!r} (expected counter, gauge or observer)"
        ) from None


def _enum(node: Mapping[str, Any], key: str, where: str, parse: Callable[[str], E]) -> E | None:
    if key not in node:
        return None
    try:
        return _as_enum(node[key], where, key, parse)
    except ValueError as exc:
        if isinstance(exc, MapperConfigError):
            raise
        raise MapperConfigError(f"{_where_key(where, key)}: {exc}") from None


def _observer(node: Mapping[str, Any], where: str) -> ObserverType | None:
    observer = _enum(node, "observer_type", where, _observer_type)
    if "observer_type" not in node or _as_str(node["observer_type"], where, "observer_type") == "":
        legacy = _enum(node, "timer_type", where, _observer_type)
        if legacy is not None:
            return legacy
    return observer


# -- options -------------------------------------------------------------------------------------


def _quantiles(value: Any, where: str) -> tuple[Quantile, ...]:
    quantiles: list[Quantile] = []
    for i, item in enumerate(_as_list(value, where, "quantiles")):
        item_where = f"{where}.quantiles[{i}]"
        entry = _as_dict(item, item_where)
        _check_keys(entry, _QUANTILE_KEYS, item_where)
        quantile = _as_float(entry.get("quantile", 0), item_where, "quantile")
        error = _as_float(entry.get("error", 0), item_where, "error")
        quantiles.append(Quantile(quantile, error))
    return tuple(quantiles)


def _buckets(value: Any, where: str) -> tuple[float, ...]:
    return tuple(
        _as_float(b, where, f"buckets[{i}]")
        for i, b in enumerate(_as_list(value, where, "buckets"))
    )


def _summary_options(value: Any, where: str) -> SummaryOptions:
    node = _as_dict(value, where)
    _check_keys(node, _SUMMARY_KEYS, where)
    return SummaryOptions(
        quantiles=_quantiles(node.get("quantiles"), where),
        max_age=_as_duration(node.get("max_age"), where, "max_age"),
        age_buckets=_as_uint32(node.get("age_buckets"), where, "age_buckets"),
        buf_cap=_as_uint32(node.get("buf_cap"), where, "buf_cap"),
    )


def _histogram_options(value: Any, where: str) -> HistogramOptions:
    node = _as_dict(value, where)
    _check_keys(node, _HISTOGRAM_KEYS, where)
    buckets = _buckets(node.get("buckets"), where)
    factor = node.get("native_histogram_bucket_factor")
    return HistogramOptions(
        buckets=buckets,
        native_histogram_bucket_factor=0.0
        if factor is None
        else _as_float(factor, where, "native_histogram_bucket_factor"),
        native_histogram_max_buckets=_as_uint32(
            node.get("native_histogram_max_buckets"), where, "native_histogram_max_buckets"
        ),
    )


# -- defaults and mappings -----------------------------------------------------------------------


def _defaults(value: Any) -> Defaults:
    where = "defaults"
    node = _as_dict(value, where)
    _check_keys(node, _DEFAULTS_KEYS, where)
    summary = (
        _summary_options(node["summary_options"], f"{where}.summary_options")
        if node.get("summary_options") is not None
        else SummaryOptions()
    )
    histogram = (
        _histogram_options(node["histogram_options"], f"{where}.histogram_options")
        if node.get("histogram_options") is not None
        else HistogramOptions()
    )
    legacy_quantiles = _quantiles(node.get("quantiles"), where)
    if not summary.quantiles and legacy_quantiles:
        summary = SummaryOptions(legacy_quantiles)  # statsd_exporter drops the other options too
    legacy_buckets = _buckets(node.get("buckets"), where)
    if not histogram.buckets and legacy_buckets:
        histogram = HistogramOptions(legacy_buckets)
    if not summary.quantiles:
        summary = SummaryOptions(
            DEFAULT_QUANTILES, summary.max_age, summary.age_buckets, summary.buf_cap
        )
    if not histogram.buckets:
        histogram = HistogramOptions(
            DEFAULT_BUCKETS,
            histogram.native_histogram_bucket_factor,
            histogram.native_histogram_max_buckets,
        )
    return Defaults(
        observer_type=_observer(node, where),
        match_type=_enum(node, "match_type", where, _match_type) or MatchType.GLOB,
        glob_disable_ordering=_as_bool(
            node.get("glob_disable_ordering"), where, "glob_disable_ordering"
        ),
        ttl=_as_duration(node.get("ttl"), where, "ttl"),
        summary_options=summary,
        histogram_options=histogram,
    )


def _mapping(index: int, value: Any, defaults: Defaults) -> MetricMapping:
    where = f"mappings[{index}]"
    if not isinstance(value, dict):
        raise MapperConfigError(
            f"{where} must be a mapping of keys to values, got {type(value).__name__}"
        )
    match = _as_str(value.get("match"), where, "match")
    where = f'mappings[{index}] (match "{match}")'
    _check_keys(value, _MAPPING_KEYS, where)

    labels_node = _as_dict(value.get("labels"), f"{where}: labels")
    labels: dict[str, str] = {}
    for key, label_value in labels_node.items():
        if not isinstance(key, str) or not _LABEL_NAME_RE.fullmatch(key):
            raise MapperConfigError(
                f"{where}: invalid label key {key!r} (label names match [a-zA-Z_][a-zA-Z0-9_]+)"
            )
        if key.startswith("__"):
            raise MapperConfigError(
                f"{where}: label name {key!r} is reserved (names starting with __ are "
                "Prometheus' own)"
            )
        labels[key] = _as_str(label_value, where, f"labels.{key}")

    name = _as_str(value.get("name"), where, "name")
    if not name:
        raise MapperConfigError(f"{where}: the mapping does not set a metric name (key 'name')")
    if not _METRIC_NAME_RE.fullmatch(name):
        raise MapperConfigError(
            f"{where}: invalid metric name {name!r} (letters, digits, '_' and $N captures; "
            "not starting with a digit)"
        )

    match_type = _enum(value, "match_type", where, _match_type) or defaults.match_type
    action = _enum(value, "action", where, _action) or Action.MAP
    match_metric_type = _enum(value, "match_metric_type", where, _metric_type)
    if match_type is MatchType.GLOB:
        if not _GLOB_MATCH_RE.fullmatch(match):
            raise MapperConfigError(
                f"{where}: invalid glob match {match!r} (dot-separated segments of letters, digits, "
                "'_' and '-', or '*'; the first segment cannot start with a digit)"
            )
    else:
        try:
            compile_go_regex(match)
        except GoRegexError as exc:
            raise MapperConfigError(f"{where}: invalid regex {match!r}: {exc}") from None

    observer_type = _observer(value, where) or defaults.observer_type
    summary = (
        _summary_options(value["summary_options"], f"{where}.summary_options")
        if value.get("summary_options") is not None
        else None
    )
    histogram = (
        _histogram_options(value["histogram_options"], f"{where}.histogram_options")
        if value.get("histogram_options") is not None
        else None
    )
    if observer_type is ObserverType.HISTOGRAM:
        if summary is not None:
            raise MapperConfigError(
                f"{where}: cannot use the histogram observer type with summary_options"
            )
        base = histogram or HistogramOptions()
        default = defaults.histogram_options
        histogram = HistogramOptions(
            base.buckets or default.buckets,
            base.native_histogram_bucket_factor or default.native_histogram_bucket_factor,
            base.native_histogram_max_buckets or default.native_histogram_max_buckets,
        )
    if observer_type is ObserverType.SUMMARY:
        if histogram is not None:
            raise MapperConfigError(
                f"{where}: cannot use the summary observer type with histogram_options"
            )
        base_summary = summary or SummaryOptions()
        default_summary = defaults.summary_options
        summary = SummaryOptions(
            base_summary.quantiles or default_summary.quantiles,
            base_summary.max_age or default_summary.max_age,
            base_summary.age_buckets or default_summary.age_buckets,
            base_summary.buf_cap or default_summary.buf_cap,
        )

    ttl = _as_duration(value.get("ttl"), where, "ttl")
    if ttl == 0 and defaults.ttl > 0:
        ttl = defaults.ttl
    help_text = value.get("help")
    scale = value.get("scale")
    return MetricMapping(
        index=index,
        match=match,
        name=name,
        labels=labels,
        honor_labels=_as_bool(value.get("honor_labels"), where, "honor_labels"),
        observer_type=observer_type,
        match_type=match_type,
        help=None if help_text is None else _as_str(help_text, where, "help"),
        action=action,
        match_metric_type=match_metric_type,
        ttl=ttl,
        summary_options=summary,
        histogram_options=histogram,
        scale=None if scale is None else _as_float(scale, where, "scale"),
    )


def load_config(text: str) -> MapperConfig:
    """Parse and validate mapping YAML; raise :class:`MapperConfigError` on any problem."""
    try:
        document = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except MapperConfigError:
        raise
    except yaml.YAMLError as exc:
        raise MapperConfigError(f"mapping config is not valid YAML: {exc}") from None
    root = _as_dict(document, "the mapping config")
    _check_keys(root, _TOP_KEYS, "the mapping config")
    defaults = _defaults(root.get("defaults"))
    mappings_node = _as_list(root.get("mappings"), "the mapping config", "mappings")
    mappings = tuple(_mapping(i, m, defaults) for i, m in enumerate(mappings_node))
    return MapperConfig(defaults=defaults, mappings=mappings)


def _looks_truncated(text: str) -> str | None:
    """Why a mapping *file* looks cut short (a half-written ConfigMap), or None.

    An empty file (or only comments) and a ``mappings:`` key with nothing after it are refused
    for files, where they mean a write in progress; :func:`load_config` still takes them, as
    statsd_exporter does, for configurations built in code.
    """
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError:
        return None  # load_config says what is wrong
    if document is None:
        return "the file is empty (a half-written file?); an empty mapping would unmap everything"
    if isinstance(document, dict) and "mappings" in document and document["mappings"] is None:
        return "'mappings:' has no entries (a truncated file?); write 'mappings: []' for none"
    return None


def load_config_file(path: str) -> MapperConfig:
    """Read and validate a mapping file; unreadable, empty or truncated files are a
    :class:`MapperConfigError` too."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise MapperConfigError(f"cannot read mapping config {path}: {exc}") from None
    problem = _looks_truncated(text)
    if problem is not None:
        raise MapperConfigError(f"{path}: {problem}")
    try:
        return load_config(text)
    except MapperConfigError as exc:
        raise MapperConfigError(f"{path}: {exc}") from None
