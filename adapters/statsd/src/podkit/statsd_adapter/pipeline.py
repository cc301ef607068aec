"""The hot loop: packets to series updates, with one memoized step per line shape.

The general path is :class:`~podkit.statsd_adapter.line.LineParser` then
:class:`~podkit.statsd_adapter.exporter.Exporter`: right for every line, but it builds an event
per sample and resolves each one again. Real traffic repeats a few line *shapes* -- the same name
and the same suffix (type, rate, tags), each time with a new value -- so the pipeline remembers,
per ``(name, suffix)`` seen twice, the series the general path updated and how a value is
applied to it, and a line of a known shape costs two string partitions, a dict look-up, a float
parse and an add. (A shape is learnt on its second sighting, so a flood of one-off names costs
no memory here.)

Anything else goes through the general path, line by line and in order: a shape seen for the
first time, several samples on a line, a set, a value that is not a plain number, a negative
counter increment, any parse or tag error, a refused series. So the series and every self-metric
come out exactly as the general path alone makes them (the tests feed both the same random
traffic and compare pages and counters). The memo is let go when the mapping changes or a series
expires, and holds at most ``limit`` shapes.
"""

from __future__ import annotations

from typing import Final

from podkit.statsd_adapter.event import CounterEvent, Event, GaugeEvent, ObserverEvent
from podkit.statsd_adapter.exporter import DROP, Exporter, Target
from podkit.statsd_adapter.gofloat import NUMERIC_CHARS
from podkit.statsd_adapter.line import LineParser
from podkit.statsd_adapter.registry import NO_LABELS, HistogramSeries, Kind, LabelKey, Series

__all__ = ["Pipeline"]

_COUNTER, _GAUGE, _HISTOGRAM, _SUMMARY, _DROPPED = range(5)
_EVENT_TYPES: Final[dict[str, type[Event]]] = {
    "c": CounterEvent,
    "g": GaugeEvent,
    "ms": ObserverEvent,
    "h": ObserverEvent,
    "d": ObserverEvent,
}
_KIND_NAMES = ("counter", "gauge", "observer", "observer")
_SEEN_LIMIT = 10_000


class _Shape:
    """How a value of one line shape is applied: to which series, by which arithmetic."""

    __slots__ = ("kind", "mapped", "millis", "rates", "repeat", "scale", "series", "tagged")

    def __init__(
        self,
        kind: int,
        series: Series | None,
        rates: tuple[float, ...],
        repeat: int,
        millis: bool,
        scale: float | None,
        mapped: bool,
        tagged: bool,
    ) -> None:
        self.kind = kind
        self.series = series
        self.rates = rates
        self.repeat = repeat
        self.millis = millis
        self.scale = scale
        self.mapped = mapped
        self.tagged = tagged


_NOT_MEMOIZABLE = _Shape(_DROPPED, None, (), 0, False, None, False, False)


class Pipeline:
    """Feeds packets to ``parser`` and ``exporter``, taking known line shapes directly."""

    def __init__(self, parser: LineParser, exporter: Exporter, limit: int = 100_000) -> None:
        self.parser = parser
        self.exporter = exporter
        self.limit = limit
        self._memo: dict[tuple[str, str], _Shape] = {}
        self._seen: set[tuple[str, str]] = set()  # shapes seen once, not learnt yet
        self._mapper = exporter.mapper
        self._generation = exporter.registry.generation

    def feed(self, data: bytes) -> int:
        """Handle one packet (or block of ``\\n``-separated lines); returns the events made."""
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            events = self.parser.parse_packet(data)
            self.exporter.handle(events)
            return len(events)
        return self.feed_lines(text.split("\n"))

    def _general(self, line: str) -> int:
        out: list[Event] = []
        self.parser.parse_lines_into((line,), out)
        self.exporter.handle(out)
        return len(out)

    def feed_lines(self, lines: list[str]) -> int:
        """Handle decoded lines (no ``\\n`` in them), in order; returns the events made."""
        exporter = self.exporter
        registry = exporter.registry
        memo = self._memo
        if exporter.mapper is not self._mapper or registry.generation != self._generation:
            memo.clear()
            self._seen.clear()
            self._mapper = exporter.mapper
            self._generation = registry.generation
        general = self._general
        numeric = NUMERIC_CHARS
        now = -1.0
        fast = samples = tagged = made = mapped = 0
        made_by_kind = [0, 0, 0, 0]
        dropped = 0
        for line in lines:
            name, colon, rest = line.partition(":")
            value_str, bar, suffix = rest.partition("|")
            key = (name, suffix)
            shape = memo.get(key)
            if shape is None:
                made += general(line)
                if colon and bar:
                    self._learn(key)
                continue
            # a plain number as Go and Python both read it ("" and "1:2" fail float() below)
            if shape is _NOT_MEMOIZABLE or value_str.lstrip(numeric):
                made += general(line)
                continue
            try:
                value = float(value_str)
            except ValueError:
                made += general(line)
                continue
            if value - value:  # inf - inf is NaN: an overflow Go rejects
                made += general(line)
                continue
            kind = shape.kind
            repeat = shape.repeat
            if kind == _DROPPED:
                dropped += repeat
            else:
                series = shape.series
                assert series is not None
                if kind == _COUNTER:
                    if shape.rates:
                        for rate in shape.rates:
                            value /= rate
                    if shape.scale is not None:
                        value *= shape.scale
                    if value < 0:
                        made += general(line)  # counted as illegal_negative_counter there
                        continue
                    series.value += value
                elif kind == _GAUGE:
                    if shape.scale is not None:
                        value *= shape.scale
                    if value_str[0] in "+-":
                        series.value += value
                    else:
                        series.value = value
                else:
                    if shape.millis:
                        value = value / 1000
                    if shape.scale is not None:
                        value *= shape.scale
                    if kind == _HISTOGRAM:
                        observe = series.observe  # type: ignore[attr-defined]
                        for _ in range(repeat):
                            observe(value)
                    else:
                        if now < 0:
                            now = registry.clock()
                        observe = series.observe  # type: ignore[attr-defined]
                        for _ in range(repeat):
                            observe(value, now)
                if series.ttl:
                    if now < 0:
                        now = registry.clock()
                    series.touched = now
                made_by_kind[kind] += repeat
                if shape.mapped:
                    mapped += repeat
            fast += 1
            samples += 1
            if shape.tagged:
                tagged += 1
        if fast:
            parse_stats = self.parser.stats
            parse_stats.lines_received += fast
            parse_stats.samples_received += samples
            parse_stats.tags_received += tagged
            stats = exporter.stats
            events = stats.events
            total = 0
            for kind, count in enumerate(made_by_kind):
                if count:
                    events[_KIND_NAMES[kind]] += count
                    total += count
            actions = stats.actions
            if mapped:
                actions["map"] = actions.get("map", 0) + mapped
            stats.unmapped += total - mapped
            if dropped:
                actions["drop"] = actions.get("drop", 0) + dropped
            made += total + dropped
        return made

    def _learn(self, key: tuple[str, str]) -> None:
        """After the general path took ``name:VALUE|suffix``: memoize the shape if it may be."""
        seen = self._seen
        if key not in seen:
            if len(seen) >= _SEEN_LIMIT:
                seen.clear()
            seen.add(key)
            return
        seen.discard(key)
        name, suffix = key
        memo = self._memo
        if len(memo) >= self.limit:
            memo.clear()
        plan = self.parser.plan(name, suffix)
        if plan is None:
            memo[(name, suffix)] = _NOT_MEMOIZABLE
            return
        exporter = self.exporter
        target = exporter.target(plan.name, _EVENT_TYPES[plan.stat_type])
        millis = plan.stat_type == "ms"
        if target is DROP:
            memo[(name, suffix)] = _Shape(
                _DROPPED, None, (), plan.repeat, millis, None, False, bool(plan.labels)
            )
            return
        if not isinstance(target, Target):
            memo[(name, suffix)] = _NOT_MEMOIZABLE  # an empty name: an error every time
            return
        labels = plan.labels
        if target.labels:
            if not labels:
                labels = target.labels
            elif target.honor:
                labels = {**target.labels, **labels}
            else:
                labels = {**labels, **target.labels}
        label_key: LabelKey = NO_LABELS
        if labels:
            if target.reserved_label is not None and target.reserved_label in labels:
                memo[(name, suffix)] = _NOT_MEMOIZABLE
                return
            names = tuple(sorted(labels))
            label_key = (names, tuple([labels[n] for n in names]))
        family = exporter.registry.families.get(target.name)
        if family is None or family.kind is not target.kind:
            return  # refused (or the value was bad): ask again next time
        series = family.series.get(label_key)
        if series is None:
            return
        if target.kind is Kind.COUNTER:
            kind = _COUNTER
        elif target.kind is Kind.GAUGE:
            kind = _GAUGE
        elif isinstance(series, HistogramSeries):
            kind = _HISTOGRAM
        else:
            kind = _SUMMARY
        memo[(name, suffix)] = _Shape(
            kind,
            series,
            plan.rates,
            plan.repeat,
            millis,
            target.scale,
            target.mapped,
            bool(plan.labels),
        )
