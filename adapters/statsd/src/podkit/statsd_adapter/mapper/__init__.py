"""The mapping stage: statsd_exporter's mapping YAML, glob FSM, regex rules and lookup cache.

Build a :class:`MetricMapper` with :func:`load_mapper` (or ``MetricMapper.from_file``/
``from_yaml``) and call ``get_mapping(name, event.metric_type)`` (Go-shaped ``(mapping, labels)``)
or ``lookup(name, event.metric_type)`` (a resolved :class:`MappingResult`) per event;
:class:`MapperConfigError` explains any invalid configuration. ``Mapper`` and ``MappingError``
are short aliases of ``MetricMapper`` and ``MapperConfigError``.
"""

from .cache import (
    CACHE_TYPES,
    DEFAULT_CACHE_SIZE,
    LookupCache,
    LRUCache,
    RandomReplacementCache,
    make_cache,
)
from .config import MapperConfigError, load_config, load_config_file
from .mapper import MappingResult, MetricMapper, load_mapper
from .schema import (
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
