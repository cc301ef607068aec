"""The jmxquery backend: the ``jmxquery`` package's JMXQuery jar, one JVM per scrape.

jmxquery starts a JVM for every query (a few hundred milliseconds), so a scrape is exactly one
run of its jar with every include pattern batched into one query list (``*:*`` when there are
none), never one run per attribute. The jar is run here with asyncio rather than through
``JMXConnection.query`` so a scrape timeout kills the JVM and the event loop never blocks; the
query strings come from ``jmxquery.JMXQuery`` and its JSON output is read the way jmxquery reads
it. jmxquery flattens composite attributes one level (``attributeKey``) and reports no tabular
data, arrays or attribute descriptions, so those are missing from this backend's output; excluded
object names are filtered here. Credentials go on the jar's command line (its only interface).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import jmxquery  # type: ignore[import-untyped]

from podkit.jmx_adapter.backend import (
    Attribute,
    BackendError,
    Composite,
    JavaNumber,
    MBean,
    ScrapeFilter,
    Target,
    Value,
)
from podkit.jmx_adapter.engine import Exposition, RuleEngine
from podkit.jmx_adapter.objectname import java_double, matches, parse_object_name

__all__ = ["JmxqueryBackend"]

_INTEGRAL = {"Integer", "Long", "Short", "Byte", "BigInteger", "AtomicInteger", "AtomicLong"}
_FLOATING = {"Double", "Float", "BigDecimal"}


def _value(kind: str, raw: Any) -> Value:
    if raw is None:
        return None
    if kind == "Boolean" and isinstance(raw, bool):
        return raw
    if kind in _INTEGRAL and isinstance(raw, int | float) and not isinstance(raw, bool):
        return JavaNumber(float(raw), str(int(raw)))
    if kind in _FLOATING and isinstance(raw, int | float) and not isinstance(raw, bool):
        return JavaNumber(float(raw), java_double(float(raw)))
    if kind == "String" and isinstance(raw, str):
        return raw
    return None


class JmxqueryBackend:
    """One ``java -jar JMXQuery.jar`` per scrape."""

    name = "jmxquery"

    def __init__(
        self, target: Target, *, java: str = "java", java_options: tuple[str, ...] = ()
    ) -> None:
        if not target.url:
            raise BackendError("no JMX target: set hostPort or jmxUrl in the config")
        if target.ssl:
            raise BackendError(
                "the jmxquery backend cannot use ssl: true; use --backend=persistent"
            )
        self.target = target
        self.java = java
        self.java_options = tuple(java_options)

    def command(self, beans: ScrapeFilter) -> list[str]:
        queries = [jmxquery.JMXQuery(pattern) for pattern in (beans.include or ("*:*",))]
        command = [
            self.java,
            *self.java_options,
            "-jar",
            jmxquery.JAR_PATH,
            "-url",
            self.target.url,
            "-json",
        ]
        if self.target.username:
            command += ["-u", self.target.username, "-p", self.target.password]
        command += ["-q", "".join(q.to_query_string() + ";" for q in queries)]
        return command

    async def scrape(self, beans: ScrapeFilter) -> list[MBean]:
        try:
            proc = await asyncio.create_subprocess_exec(
                *self.command(beans),
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
        except OSError as exc:
            raise BackendError(f"cannot start {self.java}: {exc.strerror}") from None
        try:
            out, err = await proc.communicate()
        except BaseException:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            with contextlib.suppress(Exception):
                await proc.wait()
            raise
        try:
            data = json.loads(out or b"null", strict=False)  # its messages hold raw newlines
        except ValueError:
            data = None
        if isinstance(data, dict) and "error" in data:
            message = " ".join(str(data.get("message", data["error"])).split())
            raise BackendError(f"jmxquery: {data['error']}: {message[:300]}")
        if proc.returncode != 0 or not isinstance(data, list):
            detail = " ".join((err or out).decode(errors="replace").split())[:300]
            raise BackendError(f"jmxquery exited with {proc.returncode}: {detail}")
        return _beans(data, beans.exclude)

    async def collect(
        self, engine: RuleEngine, beans: ScrapeFilter, timeout: float | None
    ) -> Exposition:
        """One scrape: the beans read here, the rules applied by ``engine``."""
        return await engine.evaluate(await self.scrape(beans), beans.include, timeout)

    async def close(self) -> None:
        """Nothing to release: every scrape's JVM has exited."""


def _beans(items: list[dict[str, Any]], exclude: tuple[str, ...]) -> list[MBean]:
    by_name: dict[str, MBean] = {}
    composites: dict[tuple[str, str], list[tuple[str, Value]]] = {}
    for item in items:
        name = str(item.get("mBeanName", ""))
        bean = by_name.get(name)
        if bean is None:
            try:
                domain, props = parse_object_name(name)
            except ValueError:
                continue
            bean = by_name[name] = MBean(name, domain, props)
        attr = str(item.get("attribute", ""))
        value = _value(str(item.get("attributeType", "")), item.get("value"))
        key = item.get("attributeKey")
        if key is not None:
            parts = composites.get((name, attr))
            if parts is None:
                parts = composites[(name, attr)] = []
                bean.attributes.append(Attribute(attr, None))
            parts.append((str(key), value))
        elif value is not None:
            bean.attributes.append(Attribute(attr, value))
    for (name, attr), parts in composites.items():
        bean = by_name[name]
        bean.attributes = [
            Attribute(a.name, Composite(tuple(sorted(parts))))
            if a.name == attr and a.value is None
            else a
            for a in bean.attributes
        ]
    return [
        bean
        for bean in by_name.values()
        if not any(matches(pattern, bean.domain, bean.properties) for pattern in exclude)
    ]
