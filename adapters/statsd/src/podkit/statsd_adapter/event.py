"""Events: what the line parser produces and the mapper and exporter consume.

One event is one StatsD sample after parsing: a counter increment, a gauge set or change, one
observation of a timer/histogram/distribution, or one member of a set. Events are small slotted
objects; treat them as immutable. The parser may hand out the *same* event object several times
(an observer sample with ``@0.1`` becomes ten references to one event) and events of one line
share one labels mapping, so never mutate ``labels``: copy it (``dict(event.labels)``) to merge.

``metric_type`` is the type the mapper matches ``match_metric_type`` against (statsd_exporter's
``counter``/``gauge``/``observer``); a set is matched as a ``gauge`` because the exporter exposes
it as a gauge of distinct members.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import ClassVar, TypeAlias

__all__ = [
    "EMPTY_LABELS",
    "CounterEvent",
    "Event",
    "GaugeEvent",
    "MetricType",
    "ObserverEvent",
    "SetEvent",
]


class MetricType(StrEnum):
    """The metric types the mapper distinguishes (``match_metric_type`` in the mapping YAML)."""

    COUNTER = "counter"
    GAUGE = "gauge"
    OBSERVER = "observer"


#: The labels of an event without tags: shared and read-only.
EMPTY_LABELS: Mapping[str, str] = MappingProxyType({})


class CounterEvent:
    """``name:value|c``: add ``value`` (already divided by the sample rate) to a counter."""

    __slots__ = ("labels", "name", "value")
    metric_type: ClassVar[MetricType] = MetricType.COUNTER

    def __init__(self, name: str, value: float, labels: Mapping[str, str]) -> None:
        self.name = name
        self.value = value
        self.labels = labels

    def __repr__(self) -> str:
        return f"CounterEvent({self.name!r}, {self.value!r}, {dict(self.labels)!r})"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, CounterEvent)
            and other.name == self.name
            and other.value == self.value
            and dict(other.labels) == dict(self.labels)
        )

    __hash__ = None  # type: ignore[assignment]


class GaugeEvent:
    """``name:value|g``: set a gauge, or change it by ``value`` when ``relative`` (``+3``/``-3``)."""

    __slots__ = ("labels", "name", "relative", "value")
    metric_type: ClassVar[MetricType] = MetricType.GAUGE

    def __init__(
        self, name: str, value: float, labels: Mapping[str, str], relative: bool = False
    ) -> None:
        self.name = name
        self.value = value
        self.labels = labels
        self.relative = relative

    def __repr__(self) -> str:
        return (
            f"GaugeEvent({self.name!r}, {self.value!r}, {dict(self.labels)!r}, "
            f"relative={self.relative!r})"
        )

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, GaugeEvent)
            and other.name == self.name
            and other.value == self.value
            and other.relative == self.relative
            and dict(other.labels) == dict(self.labels)
        )

    __hash__ = None  # type: ignore[assignment]


class ObserverEvent:
    """``ms``/``h``/``d``: one observation for a summary or histogram (``ms`` already in seconds)."""

    __slots__ = ("labels", "name", "value")
    metric_type: ClassVar[MetricType] = MetricType.OBSERVER

    def __init__(self, name: str, value: float, labels: Mapping[str, str]) -> None:
        self.name = name
        self.value = value
        self.labels = labels

    def __repr__(self) -> str:
        return f"ObserverEvent({self.name!r}, {self.value!r}, {dict(self.labels)!r})"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, ObserverEvent)
            and other.name == self.name
            and other.value == self.value
            and dict(other.labels) == dict(self.labels)
        )

    __hash__ = None  # type: ignore[assignment]


class SetEvent:
    """``name:member|s``: ``member`` was seen; the exporter counts distinct members per window.

    statsd_exporter rejects sets; podkit accepts them unless the parser runs with ``sets=False``.
    """

    __slots__ = ("labels", "member", "name")
    metric_type: ClassVar[MetricType] = MetricType.GAUGE

    def __init__(self, name: str, member: str, labels: Mapping[str, str]) -> None:
        self.name = name
        self.member = member
        self.labels = labels

    def __repr__(self) -> str:
        return f"SetEvent({self.name!r}, {self.member!r}, {dict(self.labels)!r})"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, SetEvent)
            and other.name == self.name
            and other.member == self.member
            and dict(other.labels) == dict(self.labels)
        )

    __hash__ = None  # type: ignore[assignment]


Event: TypeAlias = CounterEvent | GaugeEvent | ObserverEvent | SetEvent
