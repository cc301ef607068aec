"""The mapper: a StatsD metric name and type in, a Prometheus name, labels and options out.

Lookup order, as statsd_exporter's ``MetricMapper.GetMapping``: the cache; then every glob
mapping at once through the FSM (:mod:`.glob`); then, only if no glob matched, the regex mappings
in file order (unanchored search; the first whose regex matches and whose ``match_metric_type``
fits wins). Misses are cached too.

:meth:`MetricMapper.get_mapping` answers with a :class:`MappingResult`: the escaped Prometheus
name, the labels, and every option resolved against ``defaults`` (resolved once per mapping at
load time, so a cache miss costs the match and the substitutions only).

A mapper is immutable once built; to reload a mapping file build a new one (:func:`load_mapper`)
and swap it in (the cache goes with the old one, as statsd_exporter resets its cache on reload).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from podkit.statsd_adapter.escape import escape_metric_name
from podkit.statsd_adapter.event import EMPTY_LABELS, MetricType
from podkit.statsd_adapter.mapper.cache import DEFAULT_CACHE_SIZE, LookupCache, make_cache
from podkit.statsd_adapter.mapper.config import load_config, load_config_file
from podkit.statsd_adapter.mapper.glob import GlobMatcher
from podkit.statsd_adapter.mapper.goregex import compile_go_regex
from podkit.statsd_adapter.mapper.schema import (
    Action,
    Defaults,
    MapperConfig,
    MatchType,
    MetricMapping,
    ObserverType,
    SummaryOptions,
)
from podkit.statsd_adapter.mapper.template import ExpandTemplate, GlobTemplate

__all__ = ["MappingResult", "MetricMapper", "load_mapper"]


_Options = tuple[
    Action,
    float,
    bool,
    "str | None",
    "float | None",
    ObserverType,
    tuple[float, ...],
    SummaryOptions,
]


def _resolve(mapping: MetricMapping | None, defaults: Defaults) -> _Options:
    """A mapping's options resolved against the defaults, as statsd_exporter's exporter does."""
    if mapping is None:
        observer = defaults.observer_type
        histogram = None
        summary = None
        head: tuple[Action, float, bool, str | None, float | None] = (
            Action.MAP,
            defaults.ttl,
            False,
            None,
            None,
        )
    else:
        observer = mapping.observer_type or defaults.observer_type
        histogram = mapping.histogram_options
        summary = mapping.summary_options
        head = (mapping.action, mapping.ttl, mapping.honor_labels, mapping.help, mapping.scale)
    buckets = (
        histogram.buckets
        if histogram is not None and histogram.buckets
        else defaults.histogram_options.buckets
    )
    if summary is None:
        summary = SummaryOptions(quantiles=defaults.summary_options.quantiles)
    elif not summary.quantiles:
        summary = SummaryOptions(
            defaults.summary_options.quantiles,
            summary.max_age,
            summary.age_buckets,
            summary.buf_cap,
        )
    return (*head, observer or ObserverType.SUMMARY, buckets, summary)


class MappingResult:
    """The outcome of one lookup; shared through the cache, so never mutate ``labels``.

    ``name`` is the final Prometheus name (escaped); ``raw_name`` is the mapping's name after
    capture substitution, before escaping (the StatsD name when unmatched); ``mapping`` is the
    matching mapping as configured (None when unmatched). ``labels`` are the
    labels the mapping sets; the exporter merges them over the event's tags (or under them when
    ``honor_labels``). The rest is resolved the way statsd_exporter's exporter and registry
    resolve it, so the exporter need not know about defaults:

    * ``action``: ``map`` or ``drop`` (unmatched metrics are mapped);
    * ``ttl``: seconds a series lives without updates, 0 = forever (default TTL when unmatched);
    * ``observer_type``: histogram or summary (mapping, else defaults, else summary);
    * ``histogram_buckets``: the mapping's buckets, else the default buckets;
    * ``summary_options``: the mapping's options with the default quantiles when it has none;
    * ``scale``: multiply observed values by this (None = unchanged); ``help``: HELP text or None.
    """

    __slots__ = (
        "action",
        "help",
        "histogram_buckets",
        "honor_labels",
        "labels",
        "mapping",
        "matched",
        "name",
        "observer_type",
        "raw_name",
        "scale",
        "summary_options",
        "ttl",
    )

    def __init__(
        self,
        matched: bool,
        name: str,
        raw_name: str,
        labels: Mapping[str, str],
        mapping: MetricMapping | None,
        options: _Options,
    ) -> None:
        self.matched = matched
        self.name = name
        self.raw_name = raw_name
        self.labels = labels
        self.mapping = mapping
        (
            self.action,
            self.ttl,
            self.honor_labels,
            self.help,
            self.scale,
            self.observer_type,
            self.histogram_buckets,
            self.summary_options,
        ) = options

    def __repr__(self) -> str:
        return (
            f"MappingResult(matched={self.matched!r}, name={self.name!r}, "
            f"labels={dict(self.labels)!r}, action={self.action.value!r})"
        )


@dataclass(frozen=True, slots=True)
class _GlobEntry:
    mapping: MetricMapping
    name: GlobTemplate
    labels: tuple[tuple[str, GlobTemplate], ...]
    options: _Options


@dataclass(frozen=True, slots=True)
class _RegexEntry:
    mapping: MetricMapping
    regex: re.Pattern[str]
    name: ExpandTemplate
    labels: tuple[tuple[str, ExpandTemplate], ...]
    options: _Options


_METRIC_TYPES = tuple(t.value for t in MetricType)


class MetricMapper:
    """Maps StatsD names to Prometheus names and labels with one mapping configuration."""

    __slots__ = ("_cache", "_glob", "_regexes", "_unmatched", "config")

    def __init__(
        self,
        config: MapperConfig | None = None,
        *,
        cache_size: int = DEFAULT_CACHE_SIZE,
        cache_type: str = "lru",
    ) -> None:
        self.config = config if config is not None else MapperConfig()
        self._cache: LookupCache[tuple[str, str], MappingResult] = make_cache(
            cache_size, cache_type
        )
        defaults = self.config.defaults
        self._unmatched = _resolve(None, defaults)
        glob: GlobMatcher[_GlobEntry] = GlobMatcher(
            _METRIC_TYPES, ordering_disabled=defaults.glob_disable_ordering
        )
        has_glob = False
        regexes: list[_RegexEntry] = []
        for mapping in self.config.mappings:
            if mapping.match_type is MatchType.GLOB:
                has_glob = True
                captures = mapping.match.split(".").count("*")
                entry = _GlobEntry(
                    mapping,
                    GlobTemplate(mapping.name, captures),
                    tuple((k, GlobTemplate(v, captures)) for k, v in mapping.labels.items()),
                    _resolve(mapping, defaults),
                )
                added = glob.add(
                    mapping.match,
                    mapping.match_metric_type.value if mapping.match_metric_type else None,
                    entry,
                )
                assert added == captures
            else:
                regexes.append(
                    _RegexEntry(
                        mapping,
                        compile_go_regex(mapping.match),
                        ExpandTemplate(mapping.name),
                        tuple((k, ExpandTemplate(v)) for k, v in mapping.labels.items()),
                        _resolve(mapping, defaults),
                    )
                )
        glob.finish()
        self._glob = glob if has_glob else None
        self._regexes = tuple(regexes)

    @classmethod
    def from_yaml(
        cls, text: str, *, cache_size: int = DEFAULT_CACHE_SIZE, cache_type: str = "lru"
    ) -> MetricMapper:
        """Build a mapper from mapping YAML (raises ``MapperConfigError``)."""
        return cls(load_config(text), cache_size=cache_size, cache_type=cache_type)

    @classmethod
    def from_file(
        cls, path: str | Path, *, cache_size: int = DEFAULT_CACHE_SIZE, cache_type: str = "lru"
    ) -> MetricMapper:
        """Build a mapper from a mapping file (raises ``MapperConfigError``)."""
        return cls(load_config_file(str(path)), cache_size=cache_size, cache_type=cache_type)

    def __len__(self) -> int:
        """The number of mappings (statsd_exporter's ``statsd_exporter_loaded_mappings``)."""
        return len(self.config.mappings)

    @property
    def cache(self) -> LookupCache[tuple[str, str], MappingResult]:
        """The lookup cache (``gets``, ``hits``, ``len()`` for self-metrics)."""
        return self._cache

    def get_mapping(self, name: str, metric_type: str) -> MappingResult:
        """Map StatsD ``name`` of ``metric_type`` (an event's ``metric_type``).

        The full, resolved, cached answer; it is shared, so never mutate it or its labels.
        """
        key = (name, metric_type)
        cache = self._cache
        cached = cache.get(key)
        if cached is not None:
            return cached
        result = self._lookup(name, metric_type)
        cache.put(key, result)
        return result

    def _lookup(self, name: str, metric_type: str) -> MappingResult:
        if self._glob is not None:
            found = self._glob.match(name, metric_type)
            if found is not None:
                entry, captures = found
                raw = entry.name.format(captures)
                labels = {key: template.format(captures) for key, template in entry.labels}
                return MappingResult(
                    True,
                    escape_metric_name(raw),
                    raw,
                    labels or EMPTY_LABELS,
                    entry.mapping,
                    entry.options,
                )
        for regex_entry in self._regexes:
            match = regex_entry.regex.search(name)
            if match is None:
                continue
            wanted = regex_entry.mapping.match_metric_type
            if wanted is not None and wanted != metric_type:
                continue
            raw = regex_entry.name.expand(match)
            labels = {key: template.expand(match) for key, template in regex_entry.labels}
            return MappingResult(
                True,
                escape_metric_name(raw),
                raw,
                labels or EMPTY_LABELS,
                regex_entry.mapping,
                regex_entry.options,
            )
        return MappingResult(
            False, escape_metric_name(name), name, EMPTY_LABELS, None, self._unmatched
        )


def load_mapper(
    path: str | Path | None,
    *,
    cache_size: int = DEFAULT_CACHE_SIZE,
    cache_type: str = "lru",
) -> MetricMapper:
    """A mapper for ``--statsd.mapping-config`` (``None``/empty: no mappings, names escaped).

    Raises ``MapperConfigError`` for an unreadable or invalid file; ``ValueError`` for a bad
    cache type or size.
    """
    if path is None or str(path) == "":
        return MetricMapper(cache_size=cache_size, cache_type=cache_type)
    return MetricMapper.from_file(path, cache_size=cache_size, cache_type=cache_type)
