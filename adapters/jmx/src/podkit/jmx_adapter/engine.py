"""jmx_exporter's rules, applied in the helper JVM: the config goes in once, expositions come out.

The rule engine is ``java/PodkitJmxRules.java``, run by the helper JVM (:mod:`.helper`): rule
patterns are Java regexes, and users copy them from jmx_exporter's docs (named groups,
``\\p{javaLowerCase}``, ``\\Q...\\E``, class intersections, inline flags anywhere), so they are
compiled and matched by ``java.util.regex`` itself, exactly as jmx_exporter compiles them
(``^.*(?:PATTERN).*$``). The same JVM walks the values, names the samples and writes the text
exposition, so a scrape of thousands of attributes costs little beyond its JMX round trips.
Matching reads the text through a ``CharSequence`` that fails at the scrape's deadline: a
pattern with catastrophic backtracking ends that scrape with the reason, it cannot wedge
anything, and the event loop only ever waits on a pipe.

:class:`RuleEngine` sends a config (:meth:`~RuleEngine.load`, where an invalid pattern is
refused with Java's own message), then either scrapes through the helper's JMX connection
(:meth:`~RuleEngine.scrape`, the persistent backend) or applies the rules to beans another
backend read (:meth:`~RuleEngine.evaluate`). :func:`check_patterns` checks a config
synchronously for ``--check-config``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from podkit.jmx_adapter.backend import (
    BackendError,
    Composite,
    JavaNumber,
    MBean,
    ScrapeFilter,
    Tabular,
    Target,
    Value,
)
from podkit.jmx_adapter.config import Config, ConfigError, check_group_counts
from podkit.jmx_adapter.helper import Helper, run_once
from podkit.jmx_adapter.objectname import java_double

__all__ = ["Exposition", "RuleEngine", "check_patterns", "config_request", "encode_value"]

_TYPES = {"gauge": "GAUGE", "counter": "COUNTER", "untyped": "UNKNOWN"}


@dataclass(frozen=True, slots=True)
class Exposition:
    """What one scrape produced: the text exposition and its counts."""

    text: str = ""
    samples: int = 0
    beans: int = 0
    cached: int = 0
    """Fresh entries of the match cache (``jmx_scrape_cached_beans``)."""
    skipped: tuple[tuple[str, str, str], ...] = ()
    """Attributes that could not be exported: (bean, attribute, reason)."""


def encode_value(value: Value) -> Any:
    """A value in the helper's JSON encoding (see ``PodkitJmxHelper.java``)."""
    if isinstance(value, JavaNumber):
        return {"n": value.text, "d": java_double(value.value)}
    if isinstance(value, Composite):
        return {"c": [[k, encode_value(v)] for k, v in value.items], "d": value.description}
    if isinstance(value, Tabular):
        columns = sorted({k for row in value.rows for k, _ in row.items} | set(value.index))
        return {
            "t": {
                "index": list(value.index),
                "columns": columns,
                "d": value.description,
                "rows": [encode_value(row) for row in value.rows],
            }
        }
    return value


def config_request(config: Config) -> dict[str, Any]:
    """The ``config`` request: every rule and every key the engine needs."""
    beans = config.beans
    return {
        "op": "config",
        "rules": [
            {
                "pattern": r.pattern,
                "name": r.name,
                "value": r.value,
                "valueFactor": r.value_factor,
                "help": r.help,
                "type": _TYPES[r.type],
                "labels": None if r.labels is None else [list(pair) for pair in r.labels],
                "snake": r.attr_name_snake_case,
                "cache": r.cache,
            }
            for r in config.rules
        ],
        "lowercaseOutputName": config.lowercase_output_name,
        "lowercaseOutputLabelNames": config.lowercase_output_label_names,
        "inferCounterTypeFromName": config.infer_counter_type_from_name,
        "autoExcludeObjectNameAttributes": beans.auto_exclude,
        "excludeJvmMetrics": beans.exclude_jvm,
        "includeObjectNameAttributes": {k: sorted(v) for k, v in beans.include_attributes.items()},
        "excludeObjectNameAttributes": {k: sorted(v) for k, v in beans.exclude_attributes.items()},
        "metricCustomizers": [
            {
                "domain": c.domain,
                "properties": dict(c.properties),
                "attributesAsLabels": None
                if c.attributes_as_labels is None
                else list(c.attributes_as_labels),
                "extraMetrics": [
                    [a.name, a.description, encode_value(a.value)] for a in c.extra_metrics
                ],
            }
            for c in beans.customizers
        ],
    }


def _target(target: Target) -> dict[str, Any]:
    """The target as the helper reads it (passwords travel over its stdin only)."""
    options = target.ssl_options
    return {
        "url": target.url,
        "username": target.username,
        "password": target.password,
        "ssl": target.ssl,
        "ssl_options": None
        if options is None
        else {
            "key_store": None if options.key_store is None else asdict(options.key_store),
            "trust_store": None if options.trust_store is None else asdict(options.trust_store),
            "protocols": list(options.protocols),
            "ciphers": list(options.ciphers),
        },
    }


def _checked(config: Config, reply: dict[str, Any]) -> None:
    if not reply.get("ok"):
        raise ConfigError(f"{config.origin}: {reply.get('error')}")
    check_group_counts(config, [int(n) for n in reply["groups"]])


def check_patterns(
    config: Config,
    *,
    java: str = "java",
    java_options: tuple[str, ...] = (),
    cache_dir: Path | None = None,
) -> None:
    """Compile the config's patterns in a one-off helper JVM; :class:`ConfigError` if one is bad."""
    (reply,) = run_once(
        [config_request(config)], java=java, java_options=java_options, cache_dir=cache_dir
    )
    _checked(config, reply)


def _exposition(reply: dict[str, Any]) -> Exposition:
    if not reply.get("ok"):
        raise BackendError(str(reply.get("error") or "scrape failed"))
    return Exposition(
        str(reply["text"]),
        int(reply["samples"]),
        int(reply["beans"]),
        int(reply["cached"]),
        tuple((str(b), str(a), str(r)) for b, a, r in reply["skipped"]),
    )


class RuleEngine:
    """jmx_exporter's collector in the helper JVM: one config at a time."""

    def __init__(self, helper: Helper) -> None:
        self.helper = helper

    async def load(self, config: Config) -> None:
        """Install ``config`` (also on every later helper start).

        Raises :class:`ConfigError` for an invalid pattern; the helper keeps the previous config.
        """
        request = config_request(config)
        try:
            reply = await self.helper.request(dict(request), None)
        except BackendError as exc:
            raise ConfigError(f"{config.origin}: cannot check the rule patterns: {exc}") from None
        _checked(config, reply)
        self.helper.replay_on_start(request)

    async def scrape(
        self, target: Target, beans: ScrapeFilter, timeout: float | None
    ) -> Exposition:
        """Read the target's beans over the helper's connection and apply the rules."""
        request = {
            "op": "scrape",
            "target": _target(target),
            "include": list(beans.include),
            "exclude": list(beans.exclude),
        }
        return _exposition(await self.helper.request(request, timeout))

    async def evaluate(
        self, beans: list[MBean], include: tuple[str, ...] = (), timeout: float | None = None
    ) -> Exposition:
        """Apply the rules to beans another backend read (``include``: includeObjectNames)."""
        request = {
            "op": "evaluate",
            "include": list(include),
            "beans": [
                {
                    "name": bean.object_name,
                    "attrs": [
                        [a.name, a.description, encode_value(a.value)] for a in bean.attributes
                    ],
                }
                for bean in beans
            ],
        }
        return _exposition(await self.helper.request(request, timeout))
