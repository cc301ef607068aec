"""What of each MBean is exported: jmx_exporter 1.x's per-bean config keys.

- ``includeObjectNameAttributes`` / ``excludeObjectNameAttributes``: maps of an object name
  (matched exactly, as ``ObjectName.equals`` does: the canonical form) to attribute names. Once
  any include is configured, a bean's attributes are read only if they are listed for it.
- ``autoExcludeObjectNameAttributes`` (default true): attributes of a type jmx_exporter cannot
  export are not read again.
- ``excludeJvmMetrics``: leaves out the JVM's own beans (``java.lang:*``, ``java.nio:*``,
  ``jdk.management:*``...) except those an explicit ``includeObjectNames`` pattern names.
- ``metricCustomizers``: for the first customizer whose ``mbeanFilter`` matches a bean (same
  domain, its ``properties`` among the bean's key properties), ``attributesAsLabels`` adds the
  values of those attributes as labels to every sample of the bean, and ``extraMetrics`` adds
  constant attributes (name, value, description) ahead of the bean's own.

:func:`parse_bean_filter` reads the keys (one clear line per error); the helper JVM applies them
as it reads, for every backend (``java/PodkitJmxRules.java``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from podkit.jmx_adapter.backend import Attribute, JavaNumber, Value
from podkit.jmx_adapter.objectname import java_double, parse_object_name

__all__ = ["BeanFilter", "Customizer", "canonical_name", "parse_bean_filter"]


class BeanFilterError(ValueError):
    """A per-bean key is malformed; the message is one line."""


def canonical_name(domain: str, properties: Iterable[tuple[str, str]]) -> str:
    """``ObjectName.getCanonicalName()``: the key properties sorted by key."""
    return domain + ":" + ",".join(f"{k}={v}" for k, v in sorted(properties))


@dataclass(frozen=True)
class Customizer:
    """One ``metricCustomizers`` entry."""

    domain: str
    properties: tuple[tuple[str, str], ...] = ()
    attributes_as_labels: tuple[str, ...] | None = None
    extra_metrics: tuple[Attribute, ...] = ()


@dataclass(frozen=True)
class BeanFilter:
    """The per-bean keys; the helper JVM applies them while it reads (:mod:`.engine`)."""

    include_attributes: dict[str, frozenset[str]] = field(default_factory=dict)
    exclude_attributes: dict[str, frozenset[str]] = field(default_factory=dict)
    auto_exclude: bool = True
    exclude_jvm: bool = False
    customizers: tuple[Customizer, ...] = ()


def _object_name_map(data: dict[str, Any], key: str, where: str) -> dict[str, frozenset[str]]:
    raw = data.get(key)
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise BeanFilterError(f"{where}: {key} must map object names to lists of attribute names")
    out: dict[str, set[str]] = {}
    for name, attrs in raw.items():
        if not isinstance(name, str) or not isinstance(attrs, list):
            raise BeanFilterError(
                f"{where}: {key} must map object names to lists of attribute names"
            )
        try:
            domain, props = parse_object_name(name)
        except ValueError:
            raise BeanFilterError(f"{where}: {key}: not an object name: {name!r}") from None
        out.setdefault(canonical_name(domain, props), set()).update(str(a) for a in attrs)
    return {k: frozenset(v) for k, v in out.items()}


def _extra_value(raw: Any, where: str) -> Value:
    """An extraMetrics value as SnakeYAML loads it: Integer, Double, Boolean or String."""
    if isinstance(raw, bool | str):
        return raw
    if isinstance(raw, int):
        return JavaNumber(float(raw), str(raw))
    if isinstance(raw, float):
        return JavaNumber(raw, java_double(raw))
    raise BeanFilterError(f"{where}: extraMetrics value must be a number, boolean or string")


def _customizer(item: Any, where: str) -> Customizer:
    if not isinstance(item, dict) or not isinstance(item.get("mbeanFilter"), dict):
        raise BeanFilterError(f"{where}: must provide mbeanFilter, if metricCustomizers is given")
    mbean_filter = item["mbeanFilter"]
    domain = mbean_filter.get("domain")
    if not isinstance(domain, str):
        raise BeanFilterError(f"{where}: must provide domain, if metricCustomizers is given")
    props = mbean_filter.get("properties") or {}
    if not isinstance(props, dict):
        raise BeanFilterError(f"{where}: mbeanFilter.properties must be a mapping")
    labels = item.get("attributesAsLabels")
    extras = item.get("extraMetrics")
    if labels is None and extras is None:
        raise BeanFilterError(
            f"{where}: must provide attributesAsLabels or extraMetrics, if metricCustomizers is given"
        )
    if labels is not None and not isinstance(labels, list):
        raise BeanFilterError(f"{where}: attributesAsLabels must be a list of attribute names")
    extra_metrics: list[Attribute] = []
    for extra in extras or []:
        if not isinstance(extra, dict) or extra.get("name") is None:
            raise BeanFilterError(f"{where}: must provide name, if extraMetric is given")
        if extra.get("value") is None:
            raise BeanFilterError(f"{where}: must provide value, if extraMetric is given")
        description = extra.get("description")
        extra_metrics.append(
            Attribute(
                str(extra["name"]),
                _extra_value(extra["value"], where),
                None if description is None else str(description),
            )
        )
    return Customizer(
        domain,
        tuple((str(k), str(v)) for k, v in props.items()),
        None if labels is None else tuple(str(a) for a in labels),
        tuple(extra_metrics),
    )


def parse_bean_filter(data: dict[str, Any], where: str) -> BeanFilter:
    """The per-bean keys of a config mapping; :class:`BeanFilterError` if one is malformed."""
    auto = data.get("autoExcludeObjectNameAttributes", True)
    jvm = data.get("excludeJvmMetrics", False)
    for key, value in (("autoExcludeObjectNameAttributes", auto), ("excludeJvmMetrics", jvm)):
        if not isinstance(value, bool):
            raise BeanFilterError(f"{where}: {key} must be true or false, got {value!r}")
    raw_customizers = data.get("metricCustomizers")
    if "metricCustomizers" in data and not isinstance(raw_customizers, list):
        raise BeanFilterError(f"{where}: must provide mbeanFilter, if metricCustomizers is given")
    return BeanFilter(
        include_attributes=_object_name_map(data, "includeObjectNameAttributes", where),
        exclude_attributes=_object_name_map(data, "excludeObjectNameAttributes", where),
        auto_exclude=auto,
        exclude_jvm=jvm,
        customizers=tuple(
            _customizer(item, f"{where}: metricCustomizers[{i}]")
            for i, item in enumerate(raw_customizers or [])
        ),
    )
