"""The persistent backend: MBeans read through the helper JVM's one long-lived JMX connection.

The helper (:mod:`.helper`) keeps the connection to the target across scrapes and reopens it
when the target restarts; the target and credentials travel in each scrape request over its
stdin (never its command line, where ``ps`` would show them). One request per scrape, one
reply with every MBean, attribute and value, and the attributes it had to leave out with the
reason (an application class it cannot load, an array, a getter that threw).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from podkit.jmx_adapter.backend import (
    Attribute,
    BackendError,
    Composite,
    JavaNumber,
    MBean,
    ScrapeFilter,
    Tabular,
    Target,
    Value,
)
from podkit.jmx_adapter.helper import Helper
from podkit.jmx_adapter.objectname import parse_object_name

__all__ = ["PersistentBackend", "decode_value"]


def decode_value(raw: Any) -> Value:
    """The helper's JSON encoding of a value back into :mod:`.backend` types."""
    if raw is None or isinstance(raw, bool | str):
        return raw
    if isinstance(raw, dict):
        if "n" in raw:
            text = str(raw["n"])
            return JavaNumber(float(raw.get("d") or text), text)
        if "c" in raw:
            return Composite(
                tuple((str(k), decode_value(v)) for k, v in raw["c"]), str(raw.get("d") or "")
            )
        if "t" in raw:
            table = raw["t"]
            rows = tuple(decode_value(row) for row in table["rows"])
            return Tabular(
                tuple(table["index"]),
                tuple(row for row in rows if isinstance(row, Composite)),
                str(table.get("d") or ""),
            )
    return None


class PersistentBackend:
    """Scrapes through the helper JVM, which stays up (and connected) between scrapes."""

    name = "persistent"

    def __init__(self, target: Target, helper: Helper, *, timeout: float | None = None) -> None:
        if not target.url:
            raise BackendError("no JMX target: set hostPort or jmxUrl in the config")
        self.target = target
        self.helper = helper
        self.timeout = timeout
        """Seconds a scrape may take; the helper stops reading MBeans at that deadline."""

    async def start(self) -> None:
        await self.helper.start()

    async def scrape(self, beans: ScrapeFilter) -> list[MBean]:
        reply = await self.helper.request(
            {
                "op": "scrape",
                "target": _target(self.target),
                "include": list(beans.include),
                "exclude": list(beans.exclude),
            },
            self.timeout,
        )
        if not reply.get("ok"):
            raise BackendError(str(reply.get("error") or "scrape failed"))
        out = [_bean(item) for item in reply["beans"]]
        skipped = reply.get("skipped") or []
        if skipped:
            by_name = {bean.object_name: bean for bean in out}
            for name, attr, reason in skipped:
                bean = by_name.get(name)
                if bean is None:
                    domain, props = parse_object_name(name)
                    bean = by_name[name] = MBean(name, domain, props)
                    out.append(bean)
                bean.skipped.append((str(attr), str(reason)))
        return out

    async def close(self) -> None:
        """The helper belongs to the service (it matches rules too); nothing to close here."""


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


def _bean(item: dict[str, Any]) -> MBean:
    name = str(item["name"])
    domain, props = parse_object_name(name)
    attrs = [
        Attribute(str(a[0]), decode_value(a[2]), None if a[1] is None else str(a[1]))
        for a in item["attrs"]
    ]
    return MBean(name, domain, props, attrs)
