"""Prometheus name escaping exactly as statsd_exporter's ``mapper.EscapeMetricName`` does it.

Used for metric names that no mapping renamed, for mapped names, and for label names that come
from tags. Rules: every character outside ``[a-zA-Z0-9_]`` becomes ``_`` (one ``_`` per Unicode
character); a run of dashes becomes a single ``_`` (``foo--bar`` -> ``foo_bar``, so a mapping for
``foo--bar.*`` and the default name agree); a leading ASCII digit gets a ``_`` prefix; the empty
string stays empty. Already-valid names are returned unchanged without allocating.
"""

from __future__ import annotations

import re

__all__ = ["escape_metric_name", "is_valid_metric_name"]

_INVALID_RUN = re.compile(r"-+|[^a-zA-Z0-9_]")


def is_valid_metric_name(name: str) -> bool:
    """True when ``name`` matches ``[a-zA-Z_][a-zA-Z0-9_]*`` (escaping would not change it)."""
    return name.isascii() and name.isidentifier()


def escape_metric_name(name: str) -> str:
    """Return ``name`` as a valid Prometheus metric (or label) name, statsd_exporter style."""
    if name.isascii() and name.isidentifier():
        return name
    if not name:
        return ""
    escaped = _INVALID_RUN.sub("_", name)
    if "0" <= name[0] <= "9":
        return "_" + escaped
    return escaped
