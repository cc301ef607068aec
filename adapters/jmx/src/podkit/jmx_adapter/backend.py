"""What the JMX backends share: the target, the object-name filter, MBeans and typed values.

A backend (:mod:`.backend_persistent`, :mod:`.backend_jmxquery`, :mod:`.backend_jolokia`)
performs one scrape with :meth:`Backend.collect`: the persistent backend lets the helper JVM
read and apply the rules in one go; the others read a list of :class:`MBean` themselves, values
in the shape JMX gave them (numbers with Java's own text, booleans, strings, :class:`Composite`,
:class:`Tabular`), and hand it to the engine. :class:`Target` is the JVM to read and how;
:class:`ScrapeFilter` carries the ``includeObjectNames``/``excludeObjectNames`` patterns;
:class:`BackendError` is a failed scrape (target down, wrong credentials, broken helper) with a
one-line reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, TypeAlias

if TYPE_CHECKING:
    from podkit.jmx_adapter.engine import Exposition, RuleEngine

__all__ = [
    "Attribute",
    "Backend",
    "BackendError",
    "Composite",
    "JavaNumber",
    "MBean",
    "ScrapeFilter",
    "SslOptions",
    "Store",
    "Tabular",
    "Target",
    "Value",
]


@dataclass(frozen=True, slots=True)
class Store:
    """A key or trust store file for SSL (``ssl:`` map form): path, password, type."""

    filename: str
    password: str = ""
    type: str = ""

    def __repr__(self) -> str:  # never the password
        return f"Store(filename={self.filename!r}, type={self.type!r})"


@dataclass(frozen=True, slots=True)
class SslOptions:
    """jmx_exporter 1.x's ``ssl:`` map: stores, protocols and cipher suites for RMI over SSL."""

    key_store: Store | None = None
    trust_store: Store | None = None
    protocols: tuple[str, ...] = ()
    ciphers: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Target:
    """The JMX target: service URL, credentials and whether (and how) RMI uses SSL."""

    url: str
    username: str = ""
    password: str = ""
    ssl: bool = False
    ssl_options: SslOptions | None = None

    def __repr__(self) -> str:  # never the password
        return f"Target(url={self.url!r}, username={self.username!r}, ssl={self.ssl})"


@dataclass(frozen=True, slots=True)
class JavaNumber:
    """A ``java.lang.Number``: ``doubleValue()`` and ``toString()`` (what rule patterns see)."""

    value: float
    text: str


@dataclass(frozen=True, slots=True)
class Composite:
    """A ``CompositeData``: items in the composite type's key order, and the type's description."""

    items: tuple[tuple[str, Value], ...]
    description: str = ""


@dataclass(frozen=True, slots=True)
class Tabular:
    """A ``TabularData``: the index column names, the row type's description and the rows."""

    index: tuple[str, ...]
    rows: tuple[Composite, ...]
    description: str = ""


Value: TypeAlias = JavaNumber | bool | str | Composite | Tabular | None


@dataclass(frozen=True, slots=True)
class Attribute:
    name: str
    value: Value
    description: str | None = None


@dataclass(slots=True)
class MBean:
    """One MBean: its object name as the target spelled it, split into domain and properties."""

    object_name: str
    domain: str
    properties: tuple[tuple[str, str], ...]
    attributes: list[Attribute] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ScrapeFilter:
    """Object name patterns to query (empty: every MBean) and to leave out."""

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()


class BackendError(Exception):
    """A scrape that failed as a whole; the message is one line for the log."""


class Backend(Protocol):
    """One way of reading a target's MBeans; :meth:`collect` is one complete scrape, rules
    applied by ``engine`` (:class:`~podkit.jmx_adapter.engine.RuleEngine`)."""

    name: str

    async def collect(
        self, engine: RuleEngine, beans: ScrapeFilter, timeout: float | None
    ) -> Exposition: ...

    async def close(self) -> None: ...
