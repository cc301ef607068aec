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

from collections.abc import Callable
from typing import Final

from podkit.statsd_adapter.event import CounterEvent, Event, GaugeEvent, ObserverEvent
from podkit.statsd_adapter.exporter import DROP, Exporter, Target
from podkit.statsd_adapter.gofloat import NUMERIC_CHARS
from podkit.statsd_adapter.line import LineParser
from podkit.statsd_adapter.registry import NO_LABELS, HistogramSeries, Kind, LabelKey, Series

__all__ = ["Pipeline"]

_COUNTER, _GAUGE, _HISTOGRAM, _SUMMARY, _DROPPED, _GENERAL = range(6)
_EVENT_TYPES: Final[dict[str, type[Event]]] = {
    "c": CounterEvent,
    "g": GaugeEvent,
    "ms": ObserverEvent,
    "h": ObserverEvent,
    "d": ObserverEvent,
}
_KIND_NAMES = ("counter", "gauge", "observer", "observer")
_SEEN_LIMIT = 10_000
#: a packet's events are tallied in a list: ``2 * kind + mapped`` for the series kinds, then drops
_DROPPED_TALLY = 2 * _DROPPED
_TALLY_SIZE = _DROPPED_TALLY + 1


def _no_observe(*_: object) -> None:
    """The ``observe`` of a shape whose series is no observer (never called)."""


class _Shape:
    """How a value of one line shape is applied: to which series, by which arithmetic.

    ``plain`` says a counter's value is added as it is (no sample rate, no scale); ``observe``
    is the series' bound ``observe`` and ``repeats`` a ``range(repeat)`` for an observer;
    ``tally`` is where its events are counted (see ``_DROPPED_TALLY``).
    """

    __slots__ = (
        "kind",
        "mapped",
        "millis",
        "observe",
        "plain",
        "rates",
        "repeat",
        "repeats",
        "scale",
        "series",
        "tagged",
        "tally",
    )

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
        self.repeats = range(repeat)
        self.millis = millis
        self.scale = scale
        self.mapped = mapped
        self.tagged = int(tagged)
        self.plain = not rates and scale is None
        self.observe: Callable[..., None] = getattr(series, "observe", _no_observe)
        self.tally = _DROPPED_TALLY if kind >= _DROPPED else 2 * kind + int(mapped)


_NOT_MEMOIZABLE = _Shape(_GENERAL, None, (), 0, False, None, False, False)


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
        memo_get = memo.get
        general = self._general
        numeric = NUMERIC_CHARS
        now = -1.0
        fast = tagged = made = 0
        tally = [0] * _TALLY_SIZE  # observations made, by _Shape.tally
        for line in lines:
            name, colon, rest = line.partition(":")
            value_str, bar, suffix = rest.partition("|")
            shape = memo_get((name, suffix))
            if shape is None:
                made += general(line)
                if colon and bar:
                    self._learn((name, suffix))
                continue
            # a plain number as Go and Python both read it ("" and "1:2" fail float() below);
            # inf - inf is NaN: an overflow Go rejects
            if value_str.lstrip(numeric):
                made += general(line)
                continue
            try:
                value = float(value_str)
            except ValueError:
                made += general(line)
                continue
            if value - value:
                made += general(line)
                continue
            kind = shape.kind
            if kind == _COUNTER:
                if not shape.plain:
                    for rate in shape.rates:
                        value /= rate
                    if shape.scale is not None:
                        value *= shape.scale
                if value < 0:
                    made += general(line)  # counted as illegal_negative_counter there
                    continue
                series = shape.series
                series.value += value  # type: ignore[union-attr]
            elif kind == _GAUGE:
                if shape.scale is not None:
                    value *= shape.scale
                series = shape.series
                if value_str[0] in "+-":
                    series.value += value  # type: ignore[union-attr]
                else:
                    series.value = value  # type: ignore[union-attr]
            elif kind == _SUMMARY:
                if shape.millis:
                    value = value / 1000
                if shape.scale is not None:
                    value *= shape.scale
                if now < 0:
                    now = registry.clock()
                observe = shape.observe
                for _ in shape.repeats:
                    observe(value, now)
                series = shape.series
            elif kind == _HISTOGRAM:
                if shape.millis:
                    value = value / 1000
                if shape.scale is not None:
                    value *= shape.scale
                observe = shape.observe
                for _ in shape.repeats:
                    observe(value)
                series = shape.series
            elif kind == _DROPPED:
                tally[shape.tally] += shape.repeat
                fast += 1
                tagged += shape.tagged
                continue
            else:
                made += general(line)  # _NOT_MEMOIZABLE
                continue
            if series.ttl:  # type: ignore[union-attr]
                if now < 0:
                    now = registry.clock()
                series.touched = now  # type: ignore[union-attr]
            tally[shape.tally] += shape.repeat
            fast += 1
            tagged += shape.tagged
        if fast:
            self._count(fast, tagged, tally)
            made += sum(tally)
        return made

    def _count(self, fast: int, tagged: int, tally: list[int]) -> None:
        """Add what the memoized lines of one packet made to the parser's and exporter's stats."""
        parse_stats = self.parser.stats
        parse_stats.lines_received += fast
        parse_stats.samples_received += fast
        parse_stats.tags_received += tagged
        stats = self.exporter.stats
        events = stats.events
        actions = stats.actions
        mapped = unmapped = 0
        for kind in (_COUNTER, _GAUGE, _HISTOGRAM, _SUMMARY):
            made_mapped = tally[2 * kind + 1]
            made_unmapped = tally[2 * kind]
            if made_mapped or made_unmapped:
                events[_KIND_NAMES[kind]] += made_mapped + made_unmapped
                mapped += made_mapped
                unmapped += made_unmapped
        if mapped:
            actions["map"] = actions.get("map", 0) + mapped
        stats.unmapped += unmapped
        dropped = tally[_DROPPED_TALLY]
        if dropped:
            actions["drop"] = actions.get("drop", 0) + dropped

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
