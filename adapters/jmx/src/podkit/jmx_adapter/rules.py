"""jmx_exporter's rules: MBean attributes in, Prometheus metric families out.

Walks each attribute the way jmx_exporter's ``JmxScraper`` does (composite data adds its
attribute name to the key path; tabular data turns index columns into labels, a column called
``value`` keeps the attribute's own name, other columns are added in sorted order), builds the
match string ``domain<key=value, ...><keys>attrName: value`` and gives it to the first rule whose
pattern matches (``^.*(?:PATTERN).*$``). Help texts are jmx_exporter 1.x's
``[description ]domain:name=<name>,type=<type>,attribute=<attr>``. A rule without ``name`` uses the default naming
``domain_<first property value>_<keys>_<attr>`` with the other properties as labels. Numbers are
scaled by ``valueFactor``, booleans become 1/0, anything else is skipped unless the rule's
``value`` gives a number. Names and label names are made safe as jmx_exporter's ``safeName``
does. Samples of one name that share their labels are told apart with an ``_objectname`` label
(jmx_exporter 1.x); families whose rules disagree on the type are untyped. Rules with
``cache: true`` remember their verdict per match string, evicting entries not seen in a scrape.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from podkit.jmx_adapter.backend import Composite, JavaNumber, MBean, Tabular, Value
from podkit.jmx_adapter.config import Config, Rule

__all__ = ["Family", "RuleEngine", "Sample", "expand", "safe_name", "snake_case"]

_UNSAFE = re.compile(r"[^a-zA-Z0-9:]+")
_CACHED = "<cache>"


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


def expand(template: str, match: re.Match[str]) -> str:
    """``Matcher.replaceAll(template)`` for a pattern that matched the whole string."""
    if "$" not in template and "\\" not in template:
        return template
    out: list[str] = []
    i, n = 0, len(template)
    groups = match.re.groups
    while i < n:
        ch = template[i]
        if ch == "\\" and i + 1 < n:
            out.append(template[i + 1])
            i += 2
        elif ch == "$" and i + 1 < n and template[i + 1] == "{":
            end = template.index("}", i)
            out.append(match.group(template[i + 2 : end]) or "")
            i = end + 1
        elif ch == "$" and i + 1 < n and template[i + 1].isdigit():
            ref = int(template[i + 1])
            i += 2
            while i < n and template[i].isdigit() and ref * 10 + int(template[i]) <= groups:
                ref = ref * 10 + int(template[i])
                i += 1
            out.append(match.group(ref) or "")
        else:
            out.append(ch)
            i += 1
    return "".join(out)


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
    value: float | None
    value_factor: float


_UNMATCHED = _Matched("", "", "", "", (), None, 1.0)


@dataclass(slots=True)
class Sample:
    labels: dict[str, str]
    value: float


@dataclass(slots=True)
class Family:
    """One metric family: ``type`` is gauge, counter or untyped (jmx_exporter's UNTYPED)."""

    name: str
    type: str
    help: str
    samples: list[Sample] = field(default_factory=list)


class RuleEngine:
    """Applies one config's rules; keeps the per-rule caches across scrapes."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self._cache: list[dict[str, _Matched]] = [{} for _ in config.rules]
        self.cached_beans = 0

    def evaluate(self, beans: Iterable[MBean]) -> list[Family]:
        """The metric families of one scrape, sorted by name."""
        matched: list[tuple[_Matched, float]] = []
        seen: list[set[str]] = [set() for _ in self.config.rules]
        for bean in beans:
            props = bean.properties
            for attr in bean.attributes:
                self._walk(
                    bean.domain, props, (), attr.name, attr.description, attr.value, matched, seen
                )
        for index, keys in enumerate(seen):
            cache = self._cache[index]
            if cache:
                for key in [k for k in cache if k not in keys]:
                    del cache[key]
        self.cached_beans = sum(len(keys) for keys in seen)
        return _families(matched)

    def _walk(
        self,
        domain: str,
        props: tuple[tuple[str, str], ...],
        keys: tuple[str, ...],
        attr: str,
        description: str | None,
        value: Value,
        out: list[tuple[_Matched, float]],
        seen: list[set[str]],
    ) -> None:
        if value is None:
            return
        if isinstance(value, Composite):
            inner = (*keys, attr)
            for key, item in value.items:
                self._walk(domain, props, inner, key, value.description or None, item, out, seen)
            return
        if isinstance(value, Tabular):
            extended = (*keys, attr)
            index = value.index
            for row in value.rows:
                cells = dict(row.items)
                labelled = dict(props)
                for idx in index:
                    cell = cells.get(idx)
                    if cell is not None:
                        key = idx
                        while key in labelled:
                            key += "_"
                        if isinstance(cell, Composite):  # a composite index: one label per key
                            for part, part_value in cell.items:
                                labelled[f"{key}_{part}"] = java_text(part_value)
                        else:
                            labelled[key] = java_text(cell)
                row_props = tuple(labelled.items())
                for column in sorted(set(cells) - set(index)):
                    # a column called "value" stands for the attribute itself
                    own = column.lower() == "value"
                    self._walk(
                        domain,
                        row_props,
                        keys if own else extended,
                        attr if own else column,
                        value.description,
                        cells[column],
                        out,
                        seen,
                    )
            return
        self._record(domain, props, keys, attr, description, value, out, seen)

    def _record(
        self,
        domain: str,
        props: tuple[tuple[str, str], ...],
        keys: tuple[str, ...],
        attr: str,
        description: str | None,
        value: JavaNumber | bool | str,
        out: list[tuple[_Matched, float]],
        seen: list[set[str]],
    ) -> None:
        config = self.config
        bean_name = (
            domain + "<" + ", ".join(f"{k}={v}" for k, v in props) + "><" + ", ".join(keys) + ">"
        )
        named = dict(props)
        help_text = (
            f"{domain}:name={named.get('name', 'null')},type={named.get('type', 'null')},"
            f"attribute={attr}"
        )
        if description is not None and description != attr:
            help_text = f"{description} {help_text}"
        snake = snake_case(attr)
        text = java_text(value)
        result = _UNMATCHED
        for index, rule in enumerate(config.rules):
            shown_attr = snake if rule.attr_name_snake_case else attr
            match_name = f"{bean_name}{shown_attr}: {_CACHED if rule.cache else text}"
            if rule.cache:
                cached = self._cache[index].get(match_name)
                if cached is not None:
                    seen[index].add(match_name)
                    if cached is not _UNMATCHED:
                        result = cached
                        break
                    continue
            match = None
            if rule.pattern is not None:
                match = rule.pattern.fullmatch(match_name)
                if match is None:
                    self._remember(rule, index, match_name, _UNMATCHED, seen)
                    continue
            override: float | None = None
            if rule.value:
                assert match is not None
                try:
                    override = float(expand(rule.value, match).strip())
                except ValueError:
                    return
            if rule.name is None:
                result = self._default(
                    match_name, domain, props, keys, shown_attr, help_text, override, rule
                )
                self._remember(rule, index, match_name, result, seen)
                break
            assert match is not None
            name = safe_name(expand(rule.name, match))
            if not name:
                return
            if config.lowercase_output_name:
                name = name.lower()
            if rule.help is not None:
                help_text = expand(rule.help, match)
            labels: list[tuple[str, str]] = []
            for label_template, value_template in rule.labels or ():
                label = safe_name(expand(label_template, match))
                label_value = expand(value_template, match)
                if config.lowercase_output_label_names:
                    label = label.lower()
                if label and label_value:
                    labels.append((label, label_value))
            result = _Matched(
                name, match_name, rule.type, help_text, tuple(labels), override, rule.value_factor
            )
            self._remember(rule, index, match_name, result, seen)
            break
        if result is _UNMATCHED:
            return
        if result.value is not None:
            number = result.value * result.value_factor
        elif isinstance(value, bool):
            number = 1.0 if value else 0.0
        elif isinstance(value, JavaNumber):
            number = value.value * result.value_factor
        else:
            return
        out.append((result, number))

    def _remember(
        self, rule: Rule, index: int, key: str, result: _Matched, seen: list[set[str]]
    ) -> None:
        if rule.cache:
            self._cache[index][key] = result
            seen[index].add(key)

    def _default(
        self,
        match_name: str,
        domain: str,
        props: tuple[tuple[str, str], ...],
        keys: tuple[str, ...],
        attr: str,
        help_text: str,
        override: float | None,
        rule: Rule,
    ) -> _Matched:
        parts = [domain]
        if props:
            parts.append(props[0][1])
        parts.extend(keys)
        parts.append(attr)
        name = safe_name("_".join(parts))
        if self.config.lowercase_output_name:
            name = name.lower()
        labels = []
        for key, value in props[1:]:
            label = safe_name(key)
            if self.config.lowercase_output_label_names:
                label = label.lower()
            labels.append((label, value))
        return _Matched(
            name, match_name, rule.type, help_text, tuple(labels), override, rule.value_factor
        )


def _families(matched: list[tuple[_Matched, float]]) -> list[Family]:
    by_name: dict[str, list[tuple[_Matched, float]]] = {}
    for item in matched:
        by_name.setdefault(item[0].name, []).append(item)
    families: list[Family] = []
    for name in sorted(by_name):
        items = by_name[name]
        types = {m.type for m, _ in items}
        kind = types.pop() if len(types) == 1 else "untyped"
        label_sets = [m.labels for m, _ in items]
        unique = len(set(label_sets)) == len(label_sets)
        family = Family(name, kind, items[0][0].help)
        keep: set[tuple[tuple[str, str], ...]] = set()
        for m, number in items:
            labels = dict(m.labels)
            if not unique:
                labels["_objectname"] = m.match_name[: m.match_name.rfind(":")]
            key = tuple(sorted(labels.items()))
            if key in keep:
                continue
            keep.add(key)
            family.samples.append(Sample(labels, number))
        families.append(family)
    return families
