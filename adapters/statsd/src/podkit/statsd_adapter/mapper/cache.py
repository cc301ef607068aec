"""Bounded caches of mapping lookups (statsd_exporter's ``--statsd.cache-size``/``-cache-type``).

Keys are ``(statsd name, metric type)``; values are the immutable lookup results, misses included,
so a hot metric costs one dict lookup instead of a glob walk or a scan of regexes. Two eviction
policies, as in statsd_exporter: ``lru`` (:class:`LRUCache`, the default) and ``random``
(:class:`RandomReplacementCache`: cheaper hits, evicts a random entry when full). ``size=0``
disables caching. Both count gets and hits for the ``statsd_metric_mapper_cache_*`` self-metrics.
"""

from __future__ import annotations

import random
from collections import OrderedDict
from typing import Generic, Protocol, TypeVar

__all__ = [
    "CACHE_TYPES",
    "DEFAULT_CACHE_SIZE",
    "LRUCache",
    "LookupCache",
    "RandomReplacementCache",
    "make_cache",
]

#: statsd_exporter's default ``--statsd.cache-size``.
DEFAULT_CACHE_SIZE = 1000

#: The ``--statsd.cache-type`` values.
CACHE_TYPES = ("lru", "random")

K = TypeVar("K")
V = TypeVar("V")
KeyT_contra = TypeVar("KeyT_contra", contravariant=True)


class LookupCache(Protocol[KeyT_contra, V]):
    """What the mapper needs of a cache."""

    size: int
    gets: int
    hits: int

    def __len__(self) -> int: ...
    def get(self, key: KeyT_contra) -> V | None: ...
    def put(self, key: KeyT_contra, value: V) -> None: ...
    def clear(self) -> None: ...


class LRUCache(Generic[K, V]):
    """Least-recently-used cache holding at most ``size`` entries (not thread-safe; asyncio-only)."""

    __slots__ = ("_data", "gets", "hits", "size")

    def __init__(self, size: int = DEFAULT_CACHE_SIZE) -> None:
        if size < 0:
            raise ValueError(f"cache size must be >= 0, got {size}")
        self.size = size
        self._data: OrderedDict[K, V] = OrderedDict()
        self.gets = 0
        self.hits = 0

    def __len__(self) -> int:
        return len(self._data)

    def get(self, key: K) -> V | None:
        self.gets += 1
        value = self._data.get(key)
        if value is not None:
            self.hits += 1
            self._data.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        if self.size == 0:
            return
        data = self._data
        data[key] = value
        data.move_to_end(key)
        if len(data) > self.size:
            data.popitem(last=False)

    def clear(self) -> None:
        self._data.clear()


class RandomReplacementCache(Generic[K, V]):
    """At most ``size`` entries; when full, a random entry makes room (no bookkeeping on hits)."""

    __slots__ = ("_data", "_keys", "_random", "gets", "hits", "size")

    def __init__(self, size: int = DEFAULT_CACHE_SIZE, *, seed: int | None = None) -> None:
        if size < 0:
            raise ValueError(f"cache size must be >= 0, got {size}")
        self.size = size
        self._data: dict[K, V] = {}
        self._keys: list[K] = []
        self._random = random.Random(seed)  # noqa: S311 - eviction choice, not security
        self.gets = 0
        self.hits = 0

    def __len__(self) -> int:
        return len(self._data)

    def get(self, key: K) -> V | None:
        self.gets += 1
        value = self._data.get(key)
        if value is not None:
            self.hits += 1
        return value

    def put(self, key: K, value: V) -> None:
        if self.size == 0:
            return
        data = self._data
        if key not in data:
            keys = self._keys
            if len(keys) >= self.size:
                slot = self._random.randrange(len(keys))
                del data[keys[slot]]
                keys[slot] = key
            else:
                keys.append(key)
        data[key] = value

    def clear(self) -> None:
        self._data.clear()
        self._keys.clear()


def make_cache(size: int = DEFAULT_CACHE_SIZE, cache_type: str = "lru") -> LookupCache[K, V]:
    """A cache by ``--statsd.cache-type`` name (``lru`` or ``random``)."""
    if cache_type == "lru":
        return LRUCache(size)
    if cache_type == "random":
        return RandomReplacementCache(size)
    raise ValueError(
        f"unknown cache type {cache_type!r} (expected one of {', '.join(CACHE_TYPES)})"
    )
