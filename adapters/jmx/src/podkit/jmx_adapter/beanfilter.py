"""What of each MBean is exported: jmx_exporter 1.x's per-bean config keys.

- ``includeObjectNameAttributes`` / ``excludeObjectNameAttributes``: maps of an object name
  (matched exactly, as ``ObjectName.equals`` does: the canonical form) to attribute names. Once
  any include is configured, a bean's attributes are read only if they are listed for it.
- ``autoExcludeObjectNameAttributes`` (default true): attributes jmx_exporter cannot export are
  not read again; here the helper reports them once and they are left out alike.
- ``excludeJvmMetrics``: leaves out the JVM's own beans (``java.lang:*``, ``java.nio:*``,
  ``jdk.management:*``...) except those an explicit ``includeObjectNames`` pattern names.
- ``metricCustomizers``: for the first customizer whose ``mbeanFilter`` matches a bean (same
  domain, its ``properties`` among the bean's key properties), ``attributesAsLabels`` adds the
  values of those attributes as labels to every sample of the bean, and ``extraMetrics`` adds
  constant attributes (name, value, description) ahead of the bean's own.

:func:`parse_bean_filter` reads the keys (one clear line per error); :meth:`BeanFilter.apply`
applies them to a scrape's beans, whatever the backend.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from podkit.jmx_adapter.backend import Attribute, JavaNumber, MBean, Value
from podkit.jmx_adapter.objectname import java_double, matches, parse_object_name

__all__ = ["BeanFilter", "Customizer", "canonical_name", "parse_bean_filter"]

JVM_DOMAINS = frozenset(
    {
        "com.sun.management",
        "com.sun.management.jmxremote",
        "java.lang",
        "java.nio",
        "java.util.logging",
        "javax.management",
        "javax.management.remote",
        "jdk.internal",
        "jdk.management",
        "jdk.management.jfr",
        "sun.management",
    }
)


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
    attributes_as_labels: tuple[str, ...] = ()
    extra_metrics: tuple[Attribute, ...] = ()

    def matches(self, bean: MBean) -> bool:
        have = dict(bean.properties)
        return bean.domain == self.domain and all(have.get(k) == v for k, v in self.properties)


@dataclass(frozen=True)
class BeanFilter:
    include_attributes: dict[str, frozenset[str]] = field(default_factory=dict)
    exclude_attributes: dict[str, frozenset[str]] = field(default_factory=dict)
    auto_exclude: bool = True
    exclude_jvm: bool = False
    customizers: tuple[Customizer, ...] = ()

    @property
    def active(self) -> bool:
        return bool(
            self.include_attributes
            or self.exclude_attributes
            or self.exclude_jvm
            or self.customizers
        )

    def apply(self, beans: list[MBean], include: tuple[str, ...]) -> list[MBean]:
        """The beans as jmx_exporter would export them (``include``: includeObjectNames)."""
        if not self.active:
            return beans
        out: list[MBean] = []
        for bean in beans:
            if (
                self.exclude_jvm
                and bean.domain in JVM_DOMAINS
                and not any(matches(p, bean.domain, bean.properties) for p in include)
            ):
                continue
            out.append(self._one(bean))
        return out

    def _one(self, bean: MBean) -> MBean:
        attrs = bean.attributes
        if self.include_attributes or self.exclude_attributes:
            name = canonical_name(bean.domain, bean.properties)
            excluded = self.exclude_attributes.get(name, frozenset())
            included = self.include_attributes.get(name)
            attrs = [
                a
                for a in attrs
                if a.name not in excluded
                and (not self.include_attributes or (included is not None and a.name in included))
            ]
        customizer = next((c for c in self.customizers if c.matches(bean)), None)
        labels = bean.labels
        if customizer is not None:
            values = {a.name: a.value for a in attrs}
            labels = tuple(
                (name, _to_string(values[name]))
                for name in customizer.attributes_as_labels
                if values.get(name) is not None
            )
            attrs = [*customizer.extra_metrics, *attrs]
        if attrs is bean.attributes and labels is bean.labels:
            return bean
        return replace(bean, attributes=list(attrs), labels=labels)


def _to_string(value: Value) -> str:
    """``Object.toString()`` of an attribute value, as far as it is known here."""
    if isinstance(value, JavaNumber):
        return value.text
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


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
        tuple(str(a) for a in labels or ()),
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
