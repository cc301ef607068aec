"""The Jolokia backend: MBeans read over HTTP from a Jolokia agent, with aiohttp.

One bulk ``POST`` to the agent per scrape: a ``read`` request per include pattern (``*:*`` when
there are none), with ``canonicalNaming=false`` so key properties keep their registration order
(jmx_exporter's default naming uses the first one) and ``ignoreErrors`` so one unreadable
attribute does not fail the bean. JSON has no composite/tabular distinction, so every JSON object
is flattened like composite data (keys in sorted order), JSON arrays are skipped, and Jolokia
sends no attribute descriptions (help texts use the attribute name). Integers keep their digits
and fractions are printed as Java's ``Double.toString``, so rule patterns on values behave the
same as with the JMX backends. The ``username``/``password`` of the config are sent as HTTP basic
auth.
"""

from __future__ import annotations

import base64
from typing import Any

import aiohttp

from podkit.jmx_adapter.backend import (
    Attribute,
    BackendError,
    Composite,
    JavaNumber,
    MBean,
    ScrapeFilter,
    Value,
)
from podkit.jmx_adapter.engine import Exposition, RuleEngine
from podkit.jmx_adapter.objectname import java_double, matches, parse_object_name

__all__ = ["JolokiaBackend", "json_value"]


def json_value(raw: Any) -> Value:
    """A Jolokia JSON value as a backend value (objects become composites)."""
    if raw is None or isinstance(raw, bool | str):
        return raw
    if isinstance(raw, int):
        return JavaNumber(float(raw), str(raw))
    if isinstance(raw, float):
        return JavaNumber(raw, java_double(raw))
    if isinstance(raw, dict):
        return Composite(tuple((str(k), json_value(raw[k])) for k in sorted(raw, key=str)))
    return None


class JolokiaBackend:
    """One bulk read request per scrape against ``url`` (e.g. ``http://127.0.0.1:8778/jolokia``)."""

    name = "jolokia"

    def __init__(self, url: str, *, username: str = "", password: str = "") -> None:
        if not url.startswith(("http://", "https://")):
            raise BackendError(f"the Jolokia backend needs an http(s) URL, got {url!r}")
        self.url = url.rstrip("/") + "/"
        self.headers: dict[str, str] = {}
        if username:
            token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
            self.headers["Authorization"] = f"Basic {token}"
        self._session: aiohttp.ClientSession | None = None

    async def scrape(self, beans: ScrapeFilter) -> list[MBean]:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(headers=self.headers)
        patterns = list(beans.include) or ["*:*"]
        body = [
            {
                "type": "read",
                "mbean": pattern,
                "config": {"canonicalNaming": False, "ignoreErrors": True},
            }
            for pattern in patterns
        ]
        try:
            async with self._session.post(self.url, json=body) as response:
                if response.status != 200:
                    raise BackendError(f"Jolokia answered HTTP {response.status} at {self.url}")
                replies = await response.json(content_type=None)
        except aiohttp.ClientError as exc:
            raise BackendError(f"cannot reach Jolokia at {self.url}: {exc}") from None
        except ValueError as exc:
            raise BackendError(f"Jolokia at {self.url} sent invalid JSON: {exc}") from None
        if isinstance(replies, dict):
            replies = [replies]
        if not isinstance(replies, list):
            raise BackendError(f"Jolokia at {self.url} sent an unexpected reply")
        found: dict[str, MBean] = {}
        for pattern, reply in zip(patterns, replies, strict=False):
            if not isinstance(reply, dict):
                raise BackendError("Jolokia sent an unexpected reply item")
            status = reply.get("status")
            if status == 404:
                continue  # nothing matches this pattern
            if status != 200:
                raise BackendError(
                    f"Jolokia read of {pattern} failed: {status} {reply.get('error', '')}".strip()
                )
            value = reply.get("value") or {}
            if not isinstance(value, dict):
                continue
            by_bean = value if ("*" in pattern or "?" in pattern) else {pattern: value}
            for name, attrs in by_bean.items():
                if name in found or not isinstance(attrs, dict):
                    continue
                try:
                    domain, props = parse_object_name(name)
                except ValueError:
                    continue
                if any(matches(p, domain, props) for p in beans.exclude):
                    continue
                found[name] = MBean(
                    name,
                    domain,
                    props,
                    [Attribute(str(attr), json_value(raw)) for attr, raw in attrs.items()],
                )
        return list(found.values())

    async def collect(
        self, engine: RuleEngine, beans: ScrapeFilter, timeout: float | None
    ) -> Exposition:
        """One scrape: the beans read here, the rules applied by ``engine``."""
        return await engine.evaluate(await self.scrape(beans), beans.include, timeout)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
