"""The StatsD line parser: packets and lines in, events out, statsd_exporter's ``pkg/line`` rules.

Format: ``name:value|type[|@rate][|#tags][|c:container][|T<timestamp>]``, several lines per
packet (split on ``\\n``), several samples per line (``a:1|c:2|g``), DogStatsD extended values
(``a:1:2:3|ms``), and tags in four switchable styles: DogStatsD (``|#k:v,k2:v2``), InfluxDB
(``name,k=v``), Librato (``name#k=v``) and SignalFX (``na[k=v]me``). Types: ``c`` counter, ``g``
gauge (``+``/``-`` make it a relative change), ``ms`` timer (converted to seconds), ``h``
histogram and ``d`` distribution (both unconverted observations), and ``s`` sets, which
statsd_exporter rejects (``illegal_event``) and podkit accepts as :class:`SetEvent` unless the
parser is built with ``sets=False``.

Sampling, as statsd_exporter does it: a counter value is divided by the rate; an observer sample
is repeated ``int(1/rate)`` times (the same event object, repeated); gauges ignore it; a rate that
does not parse is counted as ``invalid_sample_factor`` and treated as 1. Timestamps (``|T...``)
are accepted and ignored. The repetition count is capped by ``max_observer_repeat`` (statsd_exporter
has no cap, so ``@0.0000001`` would make ten million events from one line).

Bad input never raises and never costs the good lines around it: each rejected line or sample is
counted in :class:`~podkit.statsd_adapter.stats.ParseStats` under statsd_exporter's reason string,
and passed to the optional ``on_error(reason, line)`` callback (for debug logging).

The parser is the hot path: plain ``name:value|type`` lines take a short path of ``str`` methods
with no regex, and events without tags share one read-only empty labels mapping.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from .escape import escape_metric_name
from .event import EMPTY_LABELS, CounterEvent, Event, GaugeEvent, ObserverEvent, SetEvent
from .gofloat import NUMERIC_CHARS, FloatRangeError, parse_float
from .stats import (
    ILLEGAL_EVENT,
    INVALID_EXTENDED_AGGREGATE_TYPE,
    INVALID_SAMPLE_FACTOR,
    MALFORMED_COMPONENT,
    MALFORMED_CONTAINER_ID,
    MALFORMED_LINE,
    MALFORMED_VALUE,
    MIXED_TAGGING_STYLES,
    NOT_ENOUGH_PARTS_AFTER_COLON,
    ParseStats,
)

__all__ = ["DEFAULT_MAX_OBSERVER_REPEAT", "ErrorCallback", "LineParser"]

#: Default cap on how many times one observer sample is repeated for its sample rate.
DEFAULT_MAX_OBSERVER_REPEAT = 1000

ErrorCallback = Callable[[str, str], None]
"""``on_error(reason, line)``: called for every sample error, after it is counted."""

_INFINITIES = (float("inf"), float("-inf"))
_OBSERVER_TYPES = frozenset(("ms", "h", "d"))
_INT64_LIMIT = 9.223372036854775807e18


def _value_or_none(text: str) -> float | None:
    """A sample value by Go's ParseFloat rules, or None when Go would reject it."""
    if text and not text.lstrip(NUMERIC_CHARS):
        try:
            value = float(text)
        except ValueError:
            return None
        if value in _INFINITIES:
            return None
        return value
    try:
        return parse_float(text)
    except ValueError:
        return None


def _repeat_count(rate: float) -> int:
    """Go's ``int(1 / rate)`` on amd64: NaN and out-of-range become MinInt64 (so: no events)."""
    inverse = 1.0 / rate
    if inverse != inverse or inverse >= _INT64_LIMIT or inverse < -_INT64_LIMIT:
        return 0
    return int(inverse)


class LineParser:
    """Parse StatsD packets and lines into events; configure once, call from the listener.

    Every tag style is on by default, as in statsd_exporter (``--statsd.parse-*-tags``). Several
    parsers may share one :class:`ParseStats` through ``stats``.
    """

    __slots__ = (
        "_dogstatsd",
        "_influxdb",
        "_librato",
        "_max_repeat",
        "_on_error",
        "_sets",
        "_signalfx",
        "stats",
    )

    def __init__(
        self,
        *,
        dogstatsd_tags: bool = True,
        influxdb_tags: bool = True,
        librato_tags: bool = True,
        signalfx_tags: bool = True,
        sets: bool = True,
        max_observer_repeat: int = DEFAULT_MAX_OBSERVER_REPEAT,
        stats: ParseStats | None = None,
        on_error: ErrorCallback | None = None,
    ) -> None:
        if max_observer_repeat < 1:
            raise ValueError(f"max_observer_repeat must be at least 1, got {max_observer_repeat}")
        self._dogstatsd = dogstatsd_tags
        self._influxdb = influxdb_tags
        self._librato = librato_tags
        self._signalfx = signalfx_tags
        self._sets = sets
        self._max_repeat = max_observer_repeat
        self._on_error = on_error
        self.stats = stats if stats is not None else ParseStats()

    # -- public entry points -------------------------------------------------------------------

    def parse_packet(self, packet: bytes | bytearray | memoryview | str) -> list[Event]:
        """Parse one datagram (or any chunk of ``\\n``-separated lines) into events, in order.

        Lines are not stripped (statsd_exporter does not strip UDP lines either); a line that is
        not valid UTF-8 is counted as ``malformed_line`` and the other lines still parse.
        """
        out: list[Event] = []
        if isinstance(packet, str):
            text = packet
        else:
            raw = packet if isinstance(packet, bytes) else bytes(packet)
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                self._parse_undecodable(raw, out)
                return out
        self.parse_lines_into(text.split("\n"), out)
        return out

    def parse_line(self, line: str) -> list[Event]:
        """Parse one line (no ``\\n`` in it) into a new list of events."""
        out: list[Event] = []
        self.parse_lines_into((line,), out)
        return out

    def parse_line_into(self, line: str, out: list[Event]) -> None:
        """Parse one line and append its events to ``out``."""
        self.parse_lines_into((line,), out)

    def parse_lines_into(self, lines: Sequence[str], out: list[Event]) -> None:
        """Parse decoded lines (no ``\\n`` in them) and append their events to ``out``.

        The hot loop: a plain ``name:value|type`` line never leaves it; anything else (tags after
        the type, sample rates, several samples) goes through :meth:`_parse_rest`.
        """
        stats = self.stats
        stats.lines_received += len(lines)
        signalfx = self._signalfx
        librato = self._librato
        influxdb = self._influxdb
        sets = self._sets
        append = out.append
        samples = 0
        tagged = 0
        for line in lines:
            name, colon, rest = line.partition(":")
            if not name or not colon:
                if line:
                    self._error(MALFORMED_LINE, line)
                continue
            labels: dict[str, str] | None = None
            if (
                (signalfx and ("[" in name or "]" in name))
                or (librato and "#" in name)
                or (influxdb and "," in name)
            ):
                labels = {}
                name = self._parse_name_and_tags(name, labels)
            if ":" in rest:
                self._parse_rest(line, name, rest, labels if labels is not None else {}, out)
                continue
            # One sample: no multi-value, no extended aggregation, no DogStatsD tag values.
            value_str, bar, stat_type = rest.partition("|")
            if not bar:
                self._error(NOT_ENOUGH_PARTS_AFTER_COLON, line)
                continue
            if labels and "|#" in rest:
                self._error(MIXED_TAGGING_STYLES, line)
                continue
            if "|" in stat_type:
                self._parse_sample(rest, name, labels if labels is not None else {}, line, out)
                continue
            # Fast path: exactly ``value|type``.
            samples += 1
            if stat_type == "s" and sets:
                if not value_str:
                    self._error(MALFORMED_VALUE, line)
                    continue
                if labels:
                    tagged += 1
                append(SetEvent(name, value_str, labels or EMPTY_LABELS))
                continue
            if value_str and not value_str.lstrip(NUMERIC_CHARS):
                try:
                    value = float(value_str)
                except ValueError:
                    self._error(MALFORMED_VALUE, line)
                    continue
                if value in _INFINITIES:
                    self._error(MALFORMED_VALUE, line)
                    continue
            else:
                maybe = _value_or_none(value_str)
                if maybe is None:
                    self._error(MALFORMED_VALUE, line)
                    continue
                value = maybe
            if labels:
                tagged += 1
                event_labels: Mapping[str, str] = labels
            else:
                event_labels = EMPTY_LABELS
            if stat_type == "c":
                append(CounterEvent(name, value, event_labels))
            elif stat_type == "ms":
                append(ObserverEvent(name, value / 1000, event_labels))
            elif stat_type == "g":
                append(GaugeEvent(name, value, event_labels, value_str[0] in "+-"))
            elif stat_type == "h" or stat_type == "d":
                append(ObserverEvent(name, value, event_labels))
            else:
                self._error(ILLEGAL_EVENT, line)
        stats.samples_received += samples
        stats.tags_received += tagged

    def _parse_rest(
        self, line: str, name: str, rest: str, labels: dict[str, str], out: list[Event]
    ) -> None:
        """Everything after the name when it holds a ``:``: several samples, or tag values."""
        using_dogstatsd_tags = "|#" in rest
        if using_dogstatsd_tags and labels:
            self._error(MIXED_TAGGING_STYLES, line)
            return
        bar = rest.find("|")
        if bar < 0:
            self._error(NOT_ENOUGH_PARTS_AFTER_COLON, line)
            return
        head = rest[:bar]
        if ":" in head:
            # DogStatsD extended aggregation: ``v1:v2:v3|ms...`` -> one sample per value.
            bar2 = rest.find("|", bar + 1)
            agg_type = rest[bar + 1 :] if bar2 < 0 else rest[bar + 1 : bar2]
            if agg_type not in _OBSERVER_TYPES:
                self._error(INVALID_EXTENDED_AGGREGATE_TYPE, line)
                return
            suffix = rest[bar:]
            for agg_value in head.split(":"):
                self._parse_sample(agg_value + suffix, name, labels, line, out)
        elif using_dogstatsd_tags:
            self._parse_sample(rest, name, labels, line, out)
        else:
            for sample in rest.split(":"):
                self._parse_sample(sample, name, labels, line, out)

    # -- samples -------------------------------------------------------------------------------

    def _parse_sample(
        self, sample: str, metric: str, labels: dict[str, str], line: str, out: list[Event]
    ) -> None:
        stats = self.stats
        stats.samples_received += 1
        components = sample.split("|")
        count = len(components)
        if count < 2 or count > 8:
            self._error(MALFORMED_COMPONENT, line)
            return
        value_str = components[0]
        stat_type = components[1]
        is_set = stat_type == "s" and self._sets
        value = 0.0
        if is_set:
            if not value_str:
                self._error(MALFORMED_VALUE, line)
                return
        else:
            maybe = _value_or_none(value_str)
            if maybe is None:
                self._error(MALFORMED_VALUE, line)
                return
            value = maybe

        repeat = 1
        if count > 2:
            extras = components[2:]
            for component in extras:
                if not component:
                    self._error(MALFORMED_COMPONENT, line)
                    return
            for component in extras:
                first = component[0]
                if first == "@":
                    try:
                        rate = parse_float(component[1:])
                    except FloatRangeError as exc:
                        self._error(INVALID_SAMPLE_FACTOR, line)
                        rate = exc.go_value
                    except ValueError:
                        self._error(INVALID_SAMPLE_FACTOR, line)
                        rate = 0.0
                    if rate == 0:
                        rate = 1.0
                    if stat_type == "c":
                        value /= rate
                    elif stat_type in _OBSERVER_TYPES:
                        repeat = _repeat_count(rate)
                elif first == "#":
                    if self._dogstatsd:
                        self._parse_dogstatsd_tags(component[1:], labels)
                elif first == "c":
                    if len(component) > 2 and component[1] == ":":
                        labels["container_id"] = component[2:]
                    else:
                        self._error(MALFORMED_CONTAINER_ID, line)
                        return
                elif first == "T":
                    # DogStatsD v1.3 timestamp: statsd_exporter ignores it, and so do we.
                    pass
                else:
                    self._error(INVALID_SAMPLE_FACTOR, line)
                    return

        event_labels: Mapping[str, str] = labels if labels else EMPTY_LABELS
        if labels:
            stats.tags_received += 1
        if stat_type == "c":
            out.append(CounterEvent(metric, value, event_labels))
        elif stat_type == "g":
            out.append(GaugeEvent(metric, value, event_labels, value_str[0] in "+-"))
        elif stat_type in _OBSERVER_TYPES:
            if repeat <= 0:
                return
            if stat_type == "ms":
                value = value / 1000
            event = ObserverEvent(metric, value, event_labels)
            if repeat == 1:
                out.append(event)
            else:
                out.extend([event] * min(repeat, self._max_repeat))
        elif is_set:
            out.append(SetEvent(metric, value_str, event_labels))
        else:
            self._error(ILLEGAL_EVENT, line)

    # -- tags ----------------------------------------------------------------------------------

    def _parse_name_and_tags(self, name: str, labels: dict[str, str]) -> str:
        """Strip SignalFX, Librato or InfluxDB tags from ``name`` into ``labels``."""
        if self._signalfx:
            start = name.find("[")
            end = name.find("]")
            if start >= 0 and end >= 0:
                if end < start:
                    # ``a]b[c``: statsd_exporter would crash slicing; count it as a tag error.
                    self.stats.tag_errors += 1
                    return name
                self._parse_name_tags(name[start + 1 : end], labels)
                return name[:start] + name[end + 1 :]
            if start >= 0 or end >= 0:
                self.stats.tag_errors += 1
                return name
        index = name.find("#") if self._librato else -1
        if self._influxdb:
            comma = name.find(",")
            if comma >= 0 and (index < 0 or comma < index):
                index = comma
        if index >= 0:
            self._parse_name_tags(name[index + 1 :], labels)
            return name[:index]
        return name

    def _parse_name_tags(self, component: str, labels: dict[str, str]) -> None:
        tags = component.split(",")
        last = tags.pop()
        for tag in tags:
            self._parse_tag(tag, "=", labels)
        if last:
            self._parse_tag(last, "=", labels)

    def _parse_dogstatsd_tags(self, component: str, labels: dict[str, str]) -> None:
        tags = component.split(",")
        last = tags.pop()
        for tag in tags:
            self._parse_tag(tag[1:] if tag[:1] == "#" else tag, ":", labels)
        if last:
            self._parse_tag(last[1:] if last[:1] == "#" else last, ":", labels)

    def _parse_tag(self, tag: str, separator: str, labels: dict[str, str]) -> None:
        index = tag.find(separator)
        if index <= 0 or index == len(tag) - 1:
            # empty tag, no separator, empty key or empty value
            self.stats.tag_errors += 1
            return
        labels[escape_metric_name(tag[:index])] = tag[index + 1 :]

    # -- errors --------------------------------------------------------------------------------

    def _parse_undecodable(self, raw: bytes, out: list[Event]) -> None:
        parse = self.parse_line_into
        for chunk in raw.split(b"\n"):
            try:
                line = chunk.decode("utf-8")
            except UnicodeDecodeError:
                self.stats.lines_received += 1
                self._error(MALFORMED_LINE, chunk.decode("utf-8", "backslashreplace"))
                continue
            parse(line, out)

    def _error(self, reason: str, line: str) -> None:
        errors = self.stats.sample_errors
        errors[reason] = errors.get(reason, 0) + 1
        if self._on_error is not None:
            self._on_error(reason, line)
