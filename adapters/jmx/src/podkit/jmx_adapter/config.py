"""The jmx_exporter 1.x YAML config: every key it reads, with its meaning; one clear line per error.

Reads what jmx_exporter's standalone mode reads: ``hostPort`` or ``jmxUrl`` (not both),
``username`` and ``password`` (``${VAR}`` resolved from the environment, as 1.5 does), ``ssl``
(``true`` or the 1.x map with ``enabled``, ``keyStore``, ``trustStore``, ``protocols``,
``ciphers``), ``lowercaseOutputName``, ``lowercaseOutputLabelNames``,
``inferCounterTypeFromName``, ``includeObjectNames``/``excludeObjectNames`` (or their old names),
the per-bean keys of :mod:`.beanfilter`, ``startDelaySeconds`` and ``rules``. A rule's
``pattern`` is a Java regex, kept as its source: :mod:`.engine` compiles it in the helper JVM as
jmx_exporter does, ``^.*(?:PATTERN).*$``, so it matches anywhere in
``domain<key=value, ...><compositeKeys>attrName: value``. ``$1``/``${name}`` references in
``name``, ``value``, ``help`` and ``labels`` are checked against the pattern's groups up front
(counted here by :func:`java_groups`, confirmed by Java). A known key with a wrong type is an
error, as it is in jmx_exporter. Unknown keys are ignored as jmx_exporter ignores them, each
with a warning in :attr:`Config.warnings`; ``httpServer`` and ``openTelemetry`` are refused,
with the reason, because they configure parts of jmx_exporter a sidecar replaces.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from podkit.jmx_adapter.backend import SslOptions, Store
from podkit.jmx_adapter.beanfilter import BeanFilter, BeanFilterError, parse_bean_filter
from podkit.jmx_adapter.objectname import compile_pattern, java_double

__all__ = ["Config", "ConfigError", "Rule", "load_config", "parse_config"]

TYPES = {"GAUGE": "gauge", "COUNTER": "counter", "UNTYPED": "untyped", "UNKNOWN": "untyped"}
_TOP_KEYS = {
    "startDelaySeconds",
    "hostPort",
    "jmxUrl",
    "username",
    "password",
    "ssl",
    "lowercaseOutputName",
    "lowercaseOutputLabelNames",
    "inferCounterTypeFromName",
    "includeObjectNames",
    "excludeObjectNames",
    "whitelistObjectNames",
    "blacklistObjectNames",
    "includeObjectNameAttributes",
    "excludeObjectNameAttributes",
    "autoExcludeObjectNameAttributes",
    "excludeJvmMetrics",
    "metricCustomizers",
    "rules",
}
_REFUSED = {
    "httpServer": "it configures jmx_exporter's own HTTP server (threads, basic auth, TLS); "
    "podkit serves /metrics from its admin server: put authentication and TLS in front "
    "of the pod (a NetworkPolicy, a TLS-terminating proxy) and remove the key",
    "openTelemetry": "podkit-jmx-adapter serves Prometheus /metrics and does not push OTLP; "
    "scrape it with an OpenTelemetry Collector's prometheus receiver and remove the key",
}
_NO_EFFECT = {
    "attrNameSnakeCase": "attrNameSnakeCase has no effect at the top level (jmx_exporter reads "
    "it per rule and ignores it here, as this adapter does)",
}
_SSL_KEYS = {"enabled", "keyStore", "trustStore", "protocols", "ciphers"}
_STORE_KEYS = {"filename", "password", "type"}
_VARIABLE = re.compile(r"\$\{([^}]+)\}")
_RULE_KEYS = {
    "pattern",
    "name",
    "value",
    "valueFactor",
    "labels",
    "help",
    "type",
    "attrNameSnakeCase",
    "cache",
}
_GROUP_NAME = re.compile(r"[a-zA-Z][a-zA-Z0-9]*")
_GROUP_REF = re.compile(r"\\.|\$(\d+)|\$\{([A-Za-z][A-Za-z0-9]*)\}|\$")


class ConfigError(ValueError):
    """The config is invalid; the message is one line naming the key and what was expected."""


@dataclass(frozen=True)
class Rule:
    """One ``rules`` entry; ``pattern`` is None for a catch-all rule."""

    pattern: str | None = None
    """The Java regex as written (None: matches everything)."""
    name: str | None = None
    value: str | None = None
    value_factor: float = 1.0
    help: str | None = None
    labels: tuple[tuple[str, str], ...] | None = None
    type: str = "untyped"
    attr_name_snake_case: bool = False
    cache: bool = False
    group_names: tuple[tuple[str, int], ...] = ()
    """Named groups ``(?<name>...)`` and their numbers."""
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Config:
    """A parsed config; ``jmx_url`` is empty when the file names no target."""

    jmx_url: str = ""
    username: str = ""
    password: str = ""
    ssl: bool = False
    ssl_options: SslOptions | None = None
    lowercase_output_name: bool = False
    lowercase_output_label_names: bool = False
    infer_counter_type_from_name: bool = False
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    start_delay_seconds: int = 0
    rules: tuple[Rule, ...] = field(default_factory=lambda: (Rule(),))
    beans: BeanFilter = field(default_factory=BeanFilter)
    origin: str = "config"
    warnings: tuple[str, ...] = ()
    """Keys accepted but ignored, as jmx_exporter ignores them (one line each, for the log)."""


def load_config(path: str | Path) -> Config:
    """Read and parse ``path``; raises :class:`ConfigError` (also for a file that cannot be read)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
    return parse_config(text, str(path))


def parse_config(text: str, origin: str = "config") -> Config:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{origin}: not valid YAML: {' '.join(str(exc).split())}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{origin}: the top level must be a mapping of jmx_exporter keys")
    warnings: list[str] = []
    for key in data:
        if key in _REFUSED:
            raise ConfigError(f"{origin}: {key!r} is refused: {_REFUSED[key]}")
        if key in _NO_EFFECT:
            warnings.append(f"{origin}: {_NO_EFFECT[key]}")
        elif key not in _TOP_KEYS:
            # jmx_exporter reads the keys it knows and ignores the rest (its own examples carry
            # such keys: cacheRules, allowedlistObjectNames); so does this adapter, loudly
            warnings.append(f"{origin}: unknown key {key!r} ignored, as jmx_exporter ignores it")
    where = origin

    host_port = _opt_str(data, "hostPort", where)
    jmx_url = _opt_str(data, "jmxUrl", where)
    if host_port is not None and jmx_url is not None:
        raise ConfigError(f"{where}: give at most one of hostPort and jmxUrl")
    url = ""
    if host_port is not None:
        if not re.fullmatch(r"(\[[^\]]+\]|[^:\[\]]+):\d{1,5}", host_port):
            raise ConfigError(f"{where}: hostPort must be HOST:PORT, got {host_port!r}")
        url = f"service:jmx:rmi:///jndi/rmi://{host_port}/jmxrmi"
    elif jmx_url is not None:
        url = jmx_url

    include = _names(data, "includeObjectNames", "whitelistObjectNames", where)
    exclude = _names(data, "excludeObjectNames", "blacklistObjectNames", where)
    delay = data.get("startDelaySeconds", 0)
    if isinstance(delay, bool) or not isinstance(delay, int) or delay < 0:
        raise ConfigError(
            f"{where}: startDelaySeconds must be a non-negative integer, got {delay!r}"
        )

    rules: tuple[Rule, ...] = (Rule(),)
    if "rules" in data:
        raw_rules = data["rules"]
        if raw_rules is None:
            raw_rules = []
        if not isinstance(raw_rules, list):
            raise ConfigError(f"{where}: rules must be a list of rule mappings")
        rules = tuple(_rule(item, f"{where}: rules[{i}]") for i, item in enumerate(raw_rules))

    try:
        beans = parse_bean_filter(data, where)
    except BeanFilterError as exc:
        raise ConfigError(str(exc)) from None
    ssl, ssl_options = _ssl(data.get("ssl", False), where)
    return Config(
        jmx_url=url,
        username=_resolve(_opt_str(data, "username", where) or ""),
        password=_resolve(_opt_str(data, "password", where) or ""),
        ssl=ssl,
        ssl_options=ssl_options,
        lowercase_output_name=_bool(data, "lowercaseOutputName", where),
        lowercase_output_label_names=_bool(data, "lowercaseOutputLabelNames", where),
        infer_counter_type_from_name=_bool(data, "inferCounterTypeFromName", where),
        include=include,
        exclude=exclude,
        start_delay_seconds=delay,
        rules=rules,
        beans=beans,
        origin=origin,
        warnings=tuple(warnings) + tuple(w for r in rules for w in r.warnings),
    )


def _resolve(value: str) -> str:
    """jmx_exporter 1.5's variable resolution of username/password: ``${NAME}`` from the env."""
    return _VARIABLE.sub(lambda m: os.environ.get(m.group(1), m.group(0)), value)


def _store(raw: Any, key: str, where: str) -> Store | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or not isinstance(raw.get("filename"), str):
        raise ConfigError(f"{where}: ssl.{key} must be a mapping with a filename")
    unknown = set(raw) - _STORE_KEYS
    if unknown:
        raise ConfigError(f"{where}: unknown key ssl.{key}.{sorted(unknown)[0]}")
    return Store(
        raw["filename"], _resolve(str(raw.get("password") or "")), str(raw.get("type") or "")
    )


def _names_list(raw: Any, key: str, where: str) -> tuple[str, ...]:
    if raw is None:
        return ()
    if isinstance(raw, str):
        return tuple(p.strip() for p in raw.split(",") if p.strip())
    if isinstance(raw, list):
        return tuple(str(p) for p in raw)
    raise ConfigError(f"{where}: ssl.{key} must be a comma-separated string or a list")


def _ssl(raw: Any, where: str) -> tuple[bool, SslOptions | None]:
    """``ssl: true`` or jmx_exporter 1.x's map form (``enabled``, stores, protocols, ciphers)."""
    if isinstance(raw, bool):
        return raw, None
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: ssl must be true, false or a mapping, got {raw!r}")
    unknown = set(raw) - _SSL_KEYS
    if unknown:
        raise ConfigError(
            f"{where}: unknown key ssl.{sorted(unknown)[0]} "
            f"(expected {', '.join(sorted(_SSL_KEYS))})"
        )
    enabled = raw.get("enabled", True)
    if not isinstance(enabled, bool):
        raise ConfigError(f"{where}: ssl.enabled must be true or false, got {enabled!r}")
    return enabled, SslOptions(
        _store(raw.get("keyStore"), "keyStore", where),
        _store(raw.get("trustStore"), "trustStore", where),
        _names_list(raw.get("protocols"), "protocols", where),
        _names_list(raw.get("ciphers"), "ciphers", where),
    )


def _opt_str(data: dict[str, Any], key: str, where: str) -> str | None:
    if key not in data or data[key] is None:
        return None
    value = data[key]
    if not isinstance(value, str):
        raise ConfigError(f"{where}: {key} must be a string, got {value!r}")
    return value


def _bool(data: dict[str, Any], key: str, where: str) -> bool:
    value = data.get(key, False)
    if not isinstance(value, bool):
        raise ConfigError(f"{where}: {key} must be true or false, got {value!r}")
    return value


def _names(data: dict[str, Any], key: str, old: str, where: str) -> tuple[str, ...]:
    if key in data and old in data:
        raise ConfigError(f"{where}: give {key} or its old name {old}, not both")
    used = key if key in data else old
    raw = data.get(used)
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        raise ConfigError(f"{where}: {used} must be a list of object name patterns")
    for item in raw:
        try:
            compile_pattern(item)
        except ValueError as exc:
            raise ConfigError(f"{where}: {used}: {exc}") from None
    return tuple(raw)


def java_groups(source: str) -> tuple[int, dict[str, int]]:
    """The capturing groups of a Java regex: their count and the named ones' numbers.

    Skips escapes, ``\\Q...\\E`` quoting and (nested) character classes; Java's own count, from
    the helper, is the final word (:func:`check_group_counts`).
    """
    count, names = 0, {}
    i, n, depth = 0, len(source), 0
    while i < n:
        ch = source[i]
        if ch == "\\":
            if source.startswith("\\Q", i):
                end = source.find("\\E", i + 2)
                i = n if end < 0 else end + 2
            else:
                i += 2
            continue
        if depth:
            depth += 1 if ch == "[" else -1 if ch == "]" else 0
        elif ch == "[":
            depth = 1
            if source.startswith("^", i + 1):
                i += 1
        elif ch == "(":
            if not source.startswith("(?", i):
                count += 1
            elif source.startswith("(?<", i) and source[i + 3 : i + 4] not in ("=", "!", ""):
                count += 1
                name = _GROUP_NAME.match(source, i + 3)
                if name is not None:
                    names[name.group(0)] = count
        i += 1
    return count, names


def check_group_counts(config: Config, counts: list[int]) -> None:
    """Check the rules' ``$N`` references again against Java's own group counts."""
    for index, (rule, groups) in enumerate(zip(config.rules, counts, strict=True)):
        if rule.pattern is not None:
            where = f"{config.origin}: rules[{index}]"
            _check_rule_refs(rule, groups, dict(rule.group_names), where)


def _check_rule_refs(rule: Rule, groups: int, names: dict[str, int], where: str) -> None:
    for key, template in (("name", rule.name), ("value", rule.value), ("help", rule.help)):
        if template is not None:
            _check_refs(template, groups, names, key, where)
    for label, text in rule.labels or ():
        _check_refs(label, groups, names, f"labels key {label!r}", where)
        _check_refs(text, groups, names, f"labels.{label}", where)


def _check_refs(template: str, groups: int, names: dict[str, int], key: str, where: str) -> None:
    for match in _GROUP_REF.finditer(template):
        text = match.group(0)
        if text.startswith("\\"):
            continue
        if match.group(1) is not None:
            # Java takes the longest prefix of the digits that names an existing group.
            digits = match.group(1)
            if int(digits[0]) > groups:
                raise ConfigError(
                    f"{where}: {key} refers to group ${digits[0]} but the pattern has "
                    f"{groups} group(s)"
                )
        elif match.group(2) is not None:
            if match.group(2) not in names:
                raise ConfigError(f"{where}: {key} refers to unknown group ${{{match.group(2)}}}")
        else:
            raise ConfigError(
                f"{where}: {key} has a '$' that is not a group reference: {template!r}"
            )


def _rule(item: Any, where: str) -> Rule:
    if not isinstance(item, dict):
        raise ConfigError(f"{where}: a rule must be a mapping, got {item!r}")
    warnings = tuple(
        f"{where}: unknown rule key {key!r} ignored, as jmx_exporter ignores it"
        for key in item
        if key not in _RULE_KEYS
    )
    pattern: str | None = None
    if item.get("pattern") is not None:
        pattern = _java_string_of(item["pattern"])
    name = _opt_str(item, "name", where)
    help_text = _opt_str(item, "help", where)
    value = None if item.get("value") is None else _java_string_of(item["value"])
    factor = 1.0
    if item.get("valueFactor") is not None:
        raw = item["valueFactor"]
        try:
            if isinstance(raw, bool):
                raise ValueError
            factor = float(raw)
        except (TypeError, ValueError):
            raise ConfigError(f"{where}: valueFactor must be a number, got {raw!r}") from None
    labels: tuple[tuple[str, str], ...] | None = None
    if item.get("labels") is not None:
        raw_labels = item["labels"]
        if not isinstance(raw_labels, dict):
            raise ConfigError(f"{where}: labels must be a mapping of label name to value")
        pairs = []
        for label, text in raw_labels.items():
            if not isinstance(label, str) or not isinstance(text, str):
                raise ConfigError(
                    f"{where}: labels must map strings to strings; {label!r}: {text!r} is not"
                )
            pairs.append((label, text))
        labels = tuple(sorted(pairs))
    kind = item.get("type", "UNTYPED")
    if kind not in TYPES:
        raise ConfigError(f"{where}: type must be GAUGE, COUNTER or UNTYPED, got {kind!r}")
    if (labels is not None or help_text is not None) and name is None:
        raise ConfigError(f"{where}: a rule with help or labels needs a name")
    if name is not None and pattern is None:
        raise ConfigError(f"{where}: a rule with a name needs a pattern")
    if value is not None and pattern is None:
        raise ConfigError(f"{where}: a rule with a value needs a pattern")
    groups, names = java_groups(pattern) if pattern is not None else (0, {})
    rule = Rule(
        pattern=pattern,
        name=name,
        value=value,
        value_factor=factor,
        help=help_text,
        labels=labels,
        type=TYPES[kind],
        attr_name_snake_case=_bool(item, "attrNameSnakeCase", where),
        cache=_bool(item, "cache", where),
        group_names=tuple(names.items()),
        warnings=warnings,
    )
    if pattern is not None:
        _check_rule_refs(rule, groups, names, where)
    return rule


def _java_string_of(value: Any) -> str:
    """``String.valueOf`` of a YAML scalar as SnakeYAML loads it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return java_double(value)
    return str(value)
