"""The mapping stage: statsd_exporter's mapping YAML, glob FSM, regex rules and lookup cache.

Build a :class:`MetricMapper` with :func:`load_mapper` (a file path, or none for no mappings),
``MetricMapper.from_file`` or ``MetricMapper.from_yaml``, then call
``get_mapping(name, event.metric_type)`` per event: it answers with a cached
:class:`MappingResult` (the escaped Prometheus name, the labels, and every option resolved
against ``defaults``). :class:`MapperConfigError` explains any invalid configuration.
``Mapper`` and ``MappingError`` are short aliases of ``MetricMapper`` and ``MapperConfigError``.
"""

from podkit.statsd_adapter.mapper.cache import (
    CACHE_TYPES,
    DEFAULT_CACHE_SIZE,
    LookupCache,
    LRUCache,
    RandomReplacementCache,
    make_cache,
)
from podkit.statsd_adapter.mapper.config import MapperConfigError, load_config, load_config_file
from podkit.statsd_adapter.mapper.mapper import MappingResult, MetricMapper, load_mapper
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

Mapper = MetricMapper
MappingError = MapperConfigError

__all__ = [
    "CACHE_TYPES",
    "DEFAULT_BUCKETS",
    "DEFAULT_CACHE_SIZE",
    "DEFAULT_QUANTILES",
    "Action",
    "Defaults",
    "HistogramOptions",
    "LRUCache",
    "LookupCache",
    "Mapper",
    "MapperConfig",
    "MapperConfigError",
    "MappingError",
    "MappingResult",
    "MatchType",
    "MetricMapper",
    "MetricMapping",
    "ObserverType",
    "Quantile",
    "RandomReplacementCache",
    "SummaryOptions",
    "load_config",
    "load_config_file",
    "load_mapper",
    "make_cache",
]
