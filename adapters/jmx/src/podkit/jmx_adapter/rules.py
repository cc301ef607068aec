"""jmx_exporter's rules: MBean attributes in, Prometheus metric families out.

Walks each attribute the way jmx_exporter's ``JmxScraper`` does (composite data adds its
attribute name to the key path; tabular data turns index columns into labels, a column called
``value`` keeps the attribute's own name, other columns are added in sorted order) into
:class:`Leaf` items, has :mod:`.matcher` find each one's first matching rule (Java regexes, in
the helper JVM, within the scrape's deadline) on the match string
``domain<key=value, ...><keys>attrName: value``, and turns the matches into families as
jmx_exporter's ``JmxCollector`` and ``MatchedRuleToMetricSnapshotsConverter`` do. Help texts
are jmx_exporter 1.x's ``[description ]domain:name=<name>,type=<type>,attribute=<attr>``. A
rule without ``name`` uses the default naming ``domain_<first property value>_<keys>_<attr>``
with the other properties as labels. Numbers are scaled by ``valueFactor``, booleans become
1/0, anything else is skipped unless the rule's ``value`` gives a number. Names and label names
are made safe as jmx_exporter's ``toSafeName`` does. Samples of one name that share their
labels are told apart with an ``_objectname`` label; families whose rules disagree on the type
are untyped; with ``inferCounterTypeFromName`` a name ending in ``_total`` is a counter.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from podkit.jmx_adapter.backend import Composite, JavaNumber, MBean, Tabular, Value
from podkit.jmx_adapter.config import Config, Rule
from podkit.jmx_adapter.matcher import JavaMatcher, MatchItem, MatchResult

__all__ = [
    "Family",
    "Leaf",
    "RuleEngine",
    "Sample",
    "expand",
    "java_double_of",
    "safe_name",
    "snake_case",
    "walk",
]

_UNSAFE = re.compile(r"[^a-zA-Z0-9:]+")
_JAVA_DOUBLE = re.compile(
    r"[+-]?(NaN|Infinity|(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?[fFdD]?"
    r"|0[xX]([0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)[pP][+-]?\d+[fFdD]?)"
)
_JAVA_TRIM = "".join(chr(c) for c in range(0x21))  # String.trim(): every char <= ' '


def safe_name(name: str) -> str:
    """jmx_exporter's ``safeName``: runs of illegal characters or ``_`` become one ``_``."""
    out = _UNSAFE.sub("_", name)
    return "_" + out if name[:1].isdigit() else out


def snake_case(name: str) -> str:
    """jmx_exporter's ``toSnakeAndLowerCase``: ``HeapMemoryUsage`` -> ``heap_memory_usage``."""
    if not name:
        return name
    first = name[0]
    prev_upper = first.isupper() or first == "_"
    out = [first.lower()]
    for ch in name[1:]:
        upper = ch.isupper()
        if not prev_upper and upper:
            out.append("_")
        out.append(ch.lower())
        prev_upper = upper or ch == "_"
    return "".join(out)


def expand(template: str, groups: Sequence[str | None], names: Mapping[str, int]) -> str:
    """``Matcher.replaceAll(template)`` for a pattern that matched the whole string."""
    if "$" not in template and "\\" not in template:
        return template
    out: list[str] = []
    i, n = 0, len(template)
    count = len(groups) - 1
    while i < n:
        ch = template[i]
        if ch == "\\" and i + 1 < n:
            out.append(template[i + 1])
            i += 2
        elif ch == "$" and i + 1 < n and template[i + 1] == "{":
            end = template.index("}", i)
            out.append(groups[names[template[i + 2 : end]]] or "")
            i = end + 1
        elif ch == "$" and i + 1 < n and template[i + 1].isdigit():
            ref = int(template[i + 1])
            i += 2
            while i < n and template[i].isdigit() and ref * 10 + int(template[i]) <= count:
                ref = ref * 10 + int(template[i])
                i += 1
            out.append(groups[ref] or "")
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def java_double_of(text: str) -> float | None:
    """``Double.valueOf(text)``, or None where Java throws ``NumberFormatException``."""
    text = text.strip(_JAVA_TRIM)
    if not _JAVA_DOUBLE.fullmatch(text):
        return None
    if "x" in text or "X" in text:
        body = text.rstrip("fFdD")
        sign = -1.0 if body.startswith("-") else 1.0
        return sign * float.fromhex(body.lstrip("+-"))
    if text.endswith(("NaN", "Infinity")):
        return float(text.replace("Infinity", "inf"))
    return float(text.rstrip("fFdD"))


def java_text(value: Value) -> str:
    """``String.valueOf`` of a simple value, as it appears in a match string or a label."""
    if isinstance(value, JavaNumber):
        return value.text
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, str):
        return value
    return type(value).__name__


@dataclass(frozen=True, slots=True)
class _Matched:
    name: str
    match_name: str
    type: str
    help: str
    labels: tuple[tuple[str, str], ...]
    value: float


@dataclass(slots=True)
class Sample:
    labels: dict[str, str]
    value: float


@dataclass(slots=True)
class Family:
    """One metric family: ``type`` is gauge, counter or untyped (jmx_exporter's UNKNOWN)."""

    name: str
    type: str
    help: str
    samples: list[Sample] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Path:
    """Where a value sits: its bean's domain and (label) properties, and the composite keys."""

    domain: str
    props: tuple[tuple[str, str], ...]
    keys: tuple[str, ...]
    extra: tuple[tuple[str, str], ...]
    """The bean's ``attributesAsLabels`` labels (``metricCustomizers``)."""
    prefix: str
    """The match string up to the attribute name: ``domain<k=v, ...><key, ...>``."""


@dataclass(frozen=True, slots=True)
class Leaf:
    """One simple value of a scrape, ready to be matched against the rules."""

    path: _Path
    prefix: int
    attr: str
    description: str | None
    value: JavaNumber | bool | str

    @property
    def text(self) -> str:
        return java_text(self.value)


def _path(
    domain: str,
    props: tuple[tuple[str, str], ...],
    keys: tuple[str, ...],
    extra: tuple[tuple[str, str], ...] = (),
) -> _Path:
    prefix = f"{domain}<{', '.join(f'{k}={v}' for k, v in props)}><{', '.join(keys)}>"
    return _Path(domain, props, keys, extra, prefix)


class _Walk:
    """Flattens beans into leaves, sharing each path's match prefix."""

    def __init__(self) -> None:
        self.prefixes: list[str] = []
        self.index: dict[str, int] = {}
        self.leaves: list[Leaf] = []

    def bean(self, bean: MBean) -> None:
        path = _path(bean.domain, bean.properties, (), bean.labels)
        for attr in bean.attributes:
            self.value(path, attr.name, attr.description, attr.value)

    def value(self, path: _Path, attr: str, description: str | None, value: Value) -> None:
        if value is None:
            return
        if isinstance(value, Composite):
            inner = _path(path.domain, path.props, (*path.keys, attr), path.extra)
            for key, item in value.items:
                self.value(inner, key, value.description or None, item)
        elif isinstance(value, Tabular):
            self.table(path, attr, value)
        else:
            number = self.index.get(path.prefix)
            if number is None:
                number = self.index[path.prefix] = len(self.prefixes)
                self.prefixes.append(path.prefix)
            self.leaves.append(Leaf(path, number, attr, description, value))

    def table(self, path: _Path, attr: str, table: Tabular) -> None:
        extended = (*path.keys, attr)
        for row in table.rows:
            cells = dict(row.items)
            labelled = dict(path.props)
            for idx in table.index:
                cell = cells.get(idx)
                if cell is None:
                    continue
                key = idx
                while key in labelled:
                    key += "_"
                if isinstance(cell, Composite):  # a composite index: one label per key
                    for part, part_value in cell.items:
                        labelled[f"{key}_{part}"] = java_text(part_value)
                else:
                    labelled[key] = java_text(cell)
            props = tuple(labelled.items())
            own_path = _path(path.domain, props, path.keys, path.extra)
            column_path = _path(path.domain, props, extended, path.extra)
            for column in sorted(set(cells) - set(table.index)):
                if column.lower() == "value":  # a column called "value" stands for the attribute
                    self.value(own_path, attr, table.description, cells[column])
                else:
                    self.value(column_path, column, table.description, cells[column])


def walk(beans: Iterable[MBean]) -> tuple[list[str], list[Leaf]]:
    """The match prefixes and the leaves of a scrape, in jmx_exporter's visiting order."""
    state = _Walk()
    for bean in beans:
        state.bean(bean)
    return state.prefixes, state.leaves


class RuleEngine:
    """Applies one config's rules, matching in the helper JVM through ``matcher``."""

    def __init__(self, config: Config, matcher: JavaMatcher) -> None:
        self.config = config
        self.matcher = matcher

    @property
    def cached_beans(self) -> int:
        return self.matcher.cached

    async def evaluate(self, beans: Iterable[MBean], timeout: float | None = None) -> list[Family]:
        """The metric families of one scrape, sorted by name; matching ends by ``timeout``."""
        prefixes, leaves = walk(beans)
        items: list[MatchItem] = [
            (leaf.prefix, leaf.attr, snake_case(leaf.attr), leaf.text) for leaf in leaves
        ]
        results = await self.matcher.match(prefixes, items, timeout)
        matched = []
        for leaf, result in zip(leaves, results, strict=True):
            if result is not None:
                one = self._matched(leaf, result)
                if one is not None:
                    matched.append(one)
        return _families(matched)

    def _matched(self, leaf: Leaf, result: MatchResult) -> _Matched | None:
        config = self.config
        rule = config.rules[result.rule]
        path = leaf.path
        attr = snake_case(leaf.attr) if rule.attr_name_snake_case else leaf.attr
        shown = "<cache>" if rule.cache else leaf.text
        match_name = f"{path.prefix}{attr}: {shown}"
        groups = (match_name, *result.groups[1:])
        names = dict(rule.group_names)
        named = dict(path.props)
        help_text = (
            f"{path.domain}:name={named.get('name', 'null')},type={named.get('type', 'null')},"
            f"attribute={leaf.attr}"
        )
        if leaf.description is not None and leaf.description != leaf.attr:
            help_text = f"{leaf.description} {help_text}"
        override: float | None = None
        if rule.value:
            override = java_double_of(expand(rule.value, groups, names))
            if override is None:
                return None
        if override is not None:
            value = override * rule.value_factor
        elif isinstance(leaf.value, bool):
            value = 1.0 if leaf.value else 0.0
        elif isinstance(leaf.value, JavaNumber):
            value = leaf.value.value * rule.value_factor
        else:
            return None
        if rule.name is None:
            name, labels = self._default(path, attr)
        else:
            name = safe_name(expand(rule.name, groups, names))
            if not name:
                return None
            if config.lowercase_output_name:
                name = name.lower()
            if rule.help is not None:
                help_text = expand(rule.help, groups, names)
            labels = self._extra(path) + self._labels(rule, groups, names)
        kind = rule.type
        if config.infer_counter_type_from_name and name.endswith("_total"):
            kind = "counter"
        return _Matched(name, match_name, kind, help_text, labels, value)

    def _labels(
        self, rule: Rule, groups: Sequence[str | None], names: Mapping[str, int]
    ) -> tuple[tuple[str, str], ...]:
        labels: list[tuple[str, str]] = []
        for label_template, value_template in rule.labels or ():
            label = safe_name(expand(label_template, groups, names))
            label_value = expand(value_template, groups, names)
            if self.config.lowercase_output_label_names:
                label = label.lower()
            if label and label_value:
                labels.append((label, label_value))
        return tuple(labels)

    def _default(self, path: _Path, attr: str) -> tuple[str, tuple[tuple[str, str], ...]]:
        parts = [path.domain]
        if path.props:
            parts.append(path.props[0][1])
        parts.extend(path.keys)
        parts.append(attr)
        name = safe_name("_".join(parts))
        if self.config.lowercase_output_name:
            name = name.lower()
        labels = []
        for key, value in path.props[1:]:
            label = safe_name(key)
            if self.config.lowercase_output_label_names:
                label = label.lower()
            labels.append((label, value))
        return name, tuple(labels) + self._extra(path)

    def _extra(self, path: _Path) -> tuple[tuple[str, str], ...]:
        """``attributesAsLabels`` labels, named as jmx_exporter names them."""
        if not path.extra:
            return ()
        lower = self.config.lowercase_output_label_names
        return tuple((safe_name(k).lower() if lower else safe_name(k), v) for k, v in path.extra)


def _families(matched: list[_Matched]) -> list[Family]:
    by_name: dict[str, list[_Matched]] = {}
    for item in matched:
        by_name.setdefault(item.name, []).append(item)
    families: list[Family] = []
    for name in sorted(by_name):
        items = by_name[name]
        types = {m.type for m in items}
        kind = types.pop() if len(types) == 1 else "untyped"
        label_sets = [m.labels for m in items]
        unique = len(set(label_sets)) == len(label_sets)
        family = Family(name, kind, items[0].help)
        keep: set[tuple[tuple[str, str], ...]] = set()
        for m in items:
            labels = dict(m.labels)
            if not unique:
                labels["_objectname"] = m.match_name[: m.match_name.rfind(":")]
            key = tuple(sorted(labels.items()))
            if key in keep:
                continue
            keep.add(key)
            family.samples.append(Sample(labels, m.value))
        families.append(family)
    return families
