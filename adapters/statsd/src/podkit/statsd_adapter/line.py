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
are accepted and ignored, as statsd_exporter's 0.30 line does. The repetition count is capped by
``max_observer_repeat`` (default 100,000: rates down to ``@0.00001``, far beyond real ones;
statsd_exporter has no cap, so ``@0.000000001`` would make a billion events from one line).

A tag whose (escaped) name starts with ``__`` is reserved by Prometheus (``__name__``): such a
line cannot make a valid series and is rejected as ``invalid_label_name`` (statsd_exporter takes
it and then fails every scrape).

Bad input never raises and never costs the good lines around it: each rejected line or sample is
counted in :class:`~podkit.statsd_adapter.stats.ParseStats` under statsd_exporter's reason string,
and passed to the optional ``on_error(reason, line)`` callback (for debug logging).

Speed: the parser is the hot path. A plain ``name:value|type`` line stays in one loop of ``str``
methods (no regex, no helper calls). What follows the value (``ms|@0.5|#env:prod``) and a name
with tags (``db.query,table=users``) repeat across lines, so each is parsed once into a small
immutable template and cached (bounded); a line then costs a dict lookup and a float parse.
Labels are shared read-only mappings (``EMPTY_LABELS`` when there are none), never copied per line.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType

from podkit.statsd_adapter.escape import escape_metric_name
from podkit.statsd_adapter.event import (
    EMPTY_LABELS,
    CounterEvent,
    Event,
    GaugeEvent,
    ObserverEvent,
    SetEvent,
)
from podkit.statsd_adapter.gofloat import NUMERIC_CHARS, FloatRangeError, parse_float
from podkit.statsd_adapter.stats import (
    ILLEGAL_EVENT,
    INVALID_EXTENDED_AGGREGATE_TYPE,
    INVALID_LABEL_NAME,
    INVALID_SAMPLE_FACTOR,
    MALFORMED_COMPONENT,
    MALFORMED_CONTAINER_ID,
    MALFORMED_LINE,
    MALFORMED_VALUE,
    MIXED_TAGGING_STYLES,
    NOT_ENOUGH_PARTS_AFTER_COLON,
    ParseStats,
)

__all__ = ["DEFAULT_MAX_OBSERVER_REPEAT", "ErrorCallback", "LineParser", "SamplePlan"]

#: Default cap on how many times one observer sample is repeated for its sample rate.
DEFAULT_MAX_OBSERVER_REPEAT = 100_000

ErrorCallback = Callable[[str, str], None]
"""``on_error(reason, line)``: called for every sample error, after it is counted."""

_INFINITIES = (float("inf"), float("-inf"))
_OBSERVER_TYPES = frozenset(("ms", "h", "d"))
_INT64_LIMIT = 9.223372036854775807e18
_CACHE_LIMIT = 4096  # entries per template cache; a full cache is simply emptied
_CACHEABLE = 512  # longer names/suffixes are parsed every time (bounds the caches' memory)
_MAX_COMPONENTS = 8  # value, type and at most six more, as statsd_exporter allows

_Pairs = tuple[tuple[str, str], ...]
_NameTags = tuple[str, int, Mapping[str, str] | None]
"""A parsed tagged name: (metric name, tag errors, the tags as read-only labels, or None when a
tag name is reserved)."""


def _value_or_none(text: str) -> float | None:
    """A sample value by Go's ParseFloat rules, or None when Go would reject it.

    The slow path: callers try the inlined fast path (``float()`` on ``[0-9.eE+-]`` text) first.
    """
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


def _tag_pairs(component: str, separator: str, dogstatsd: bool) -> tuple[_Pairs, int]:
    """statsd_exporter's tag list parsing: (escaped key, value) pairs in order, and error count.

    A tag is an error when empty, without separator, or with an empty key or value; a trailing
    comma is not a tag. DogStatsD tags may each start with ``#``.
    """
    tags = component.split(",")
    if not tags[-1]:
        tags.pop()
    pairs: list[tuple[str, str]] = []
    errors = 0
    for tag in tags:
        if dogstatsd and tag[:1] == "#":
            tag = tag[1:]
        index = tag.find(separator)
        if index <= 0 or index == len(tag) - 1:
            errors += 1
            continue
        pairs.append((escape_metric_name(tag[:index]), tag[index + 1 :]))
    return tuple(pairs), errors


def _frozen(pairs: _Pairs) -> Mapping[str, str]:
    return MappingProxyType(dict(pairs)) if pairs else EMPTY_LABELS


def _reserved(pairs: _Pairs) -> bool:
    """Whether a label name is reserved by Prometheus (``__`` prefix, as ``__name__``)."""
    return any(key[:2] == "__" for key, _ in pairs)


class _Suffix:
    """What follows a sample's value (``type|@rate|#tags|c:id|T...``), parsed once.

    Replays statsd_exporter's per-component processing: errors in order (the last one fatal when
    ``fatal``), tag errors up to that point, the labels the components add (read-only), the
    counter divisors and the observer repeat count.
    """

    __slots__ = (
        "errors",
        "fatal",
        "labels",
        "rates",
        "repeat",
        "stat_type",
        "tag_errors",
        "too_many",
    )

    def __init__(self, suffix: str, dogstatsd: bool) -> None:
        components = suffix.split("|")
        stat_type = components[0]
        self.stat_type = stat_type
        self.too_many = len(components) + 1 > _MAX_COMPONENTS
        errors: list[str] = []
        pairs: list[tuple[str, str]] = []
        rates: list[float] = []
        tag_errors = 0
        repeat = 1
        fatal = False
        extras = components[1:]
        if "" in extras:
            errors.append(MALFORMED_COMPONENT)
            fatal = True
            extras = []
        for component in extras:
            first = component[0]
            if first == "#":
                if dogstatsd:
                    tag_pairs, bad = _tag_pairs(component[1:], ":", True)
                    pairs.extend(tag_pairs)
                    tag_errors += bad
            elif first == "@":
                try:
                    rate = parse_float(component[1:])
                except FloatRangeError as exc:
                    errors.append(INVALID_SAMPLE_FACTOR)
                    rate = exc.go_value
                except ValueError:
                    errors.append(INVALID_SAMPLE_FACTOR)
                    rate = 0.0
                if rate == 0:
                    rate = 1.0
                if stat_type == "c":
                    rates.append(rate)
                elif stat_type in _OBSERVER_TYPES:
                    repeat = _repeat_count(rate)
            elif first == "c":
                if len(component) > 2 and component[1] == ":":
                    pairs.append(("container_id", component[2:]))
                else:
                    errors.append(MALFORMED_CONTAINER_ID)
                    fatal = True
                    break
            elif first != "T":  # "T": a DogStatsD timestamp, ignored as statsd_exporter does
                errors.append(INVALID_SAMPLE_FACTOR)
                fatal = True
                break
        if not fatal and _reserved(tuple(pairs)):
            errors.append(INVALID_LABEL_NAME)
            fatal = True
        self.errors = tuple(errors)
        self.fatal = fatal
        self.labels = _frozen(tuple(pairs))
        self.rates = tuple(rates)
        self.repeat = repeat
        self.tag_errors = tag_errors


class SamplePlan:
    """What :meth:`LineParser.plan` found a line shape to make, whatever its (valid) value."""

    __slots__ = ("labels", "name", "rates", "repeat", "stat_type")

    def __init__(
        self,
        name: str,
        stat_type: str,
        labels: Mapping[str, str],
        rates: tuple[float, ...],
        repeat: int,
    ) -> None:
        self.name = name
        self.stat_type = stat_type
        self.labels = labels
        self.rates = rates
        self.repeat = repeat


_PLANNED_TYPES = frozenset(("c", "g", "ms", "h", "d"))


class LineParser:
    """Parse StatsD packets and lines into events; configure once, call from the listener.

    Every tag style is on by default, as in statsd_exporter (``--statsd.parse-*-tags``). Several
    parsers may share one :class:`ParseStats` through ``stats``. Not thread-safe (one per task
    or thread, or a lock around it); asyncio listeners can share one.
    """

    __slots__ = (
        "_dogstatsd",
        "_influxdb",
        "_librato",
        "_max_repeat",
        "_name_cache",
        "_on_error",
        "_sets",
        "_signalfx",
        "_suffix_cache",
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
        self._name_cache: dict[str, _NameTags] = {}
        self._suffix_cache: dict[str, _Suffix] = {}

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

        The hot loop: a plain ``name:value|type`` line never leaves it; a single sample with more
        after its type goes to :meth:`_parse_sample`; several samples to :meth:`_parse_samples`.
        """
        stats = self.stats
        stats.lines_received += len(lines)
        signalfx = self._signalfx
        librato = self._librato
        influxdb = self._influxdb
        sets = self._sets
        name_cache = self._name_cache
        append = out.append
        samples = 0
        tagged = 0
        for line in lines:
            name, colon, rest = line.partition(":")
            if not name or not colon:
                if line:
                    self._error(MALFORMED_LINE, line)
                continue
            labels: Mapping[str, str] = EMPTY_LABELS
            if (
                (signalfx and ("[" in name or "]" in name))
                or (librato and "#" in name)
                or (influxdb and "," in name)
            ):
                parsed = name_cache.get(name)
                if parsed is None:
                    parsed = self._split_name(name)
                    if len(name) <= _CACHEABLE:
                        if len(name_cache) >= _CACHE_LIMIT:
                            name_cache.clear()
                        name_cache[name] = parsed
                name, errors, maybe_labels = parsed
                if errors:
                    stats.tag_errors += errors
                if maybe_labels is None:
                    self._error(INVALID_LABEL_NAME, line)
                    continue
                labels = maybe_labels
            value_str, bar, suffix = rest.partition("|")
            if not bar:
                self._error(NOT_ENOUGH_PARTS_AFTER_COLON, line)
                continue
            if labels and "|#" in rest:
                self._error(MIXED_TAGGING_STYLES, line)
                continue
            if ":" in value_str or (":" in suffix and "|#" not in rest):
                self._parse_samples(line, name, value_str, suffix, labels, out)
                continue
            if "|" in suffix:
                self._parse_sample(value_str, suffix, name, labels, line, out)
                continue
            # Fast path: exactly ``value|type``.
            samples += 1
            if suffix == "s" and sets:
                if not value_str:
                    self._error(MALFORMED_VALUE, line)
                    continue
                if labels:
                    tagged += 1
                append(SetEvent(name, value_str, labels))
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
            if suffix == "c":
                append(CounterEvent(name, value, labels))
            elif suffix == "ms":
                append(ObserverEvent(name, value / 1000, labels))
            elif suffix == "g":
                append(GaugeEvent(name, value, labels, value_str[0] in "+-"))
            elif suffix == "h" or suffix == "d":
                append(ObserverEvent(name, value, labels))
            else:
                self._error(ILLEGAL_EVENT, line)
        stats.samples_received += samples
        stats.tags_received += tagged

    def plan(self, name: str, suffix: str) -> SamplePlan | None:
        """The one event a line ``name:VALUE|suffix`` makes for any plain number ``VALUE``
        (``[0-9.eE+-]``, no ``:``) -- or None when the line is anything else (several samples,
        a set, an error or a tag error of any kind), so only the general path may take it.

        For callers that memoize per line shape (:mod:`podkit.statsd_adapter.pipeline`):
        parsing such a line gives exactly ``SamplePlan`` applied to the value, and counts one
        sample, and one tagged sample when ``labels`` is not empty.
        """
        if not name:
            return None
        labels: Mapping[str, str] = EMPTY_LABELS
        if (
            (self._signalfx and ("[" in name or "]" in name))
            or (self._librato and "#" in name)
            or (self._influxdb and "," in name)
        ):
            name, errors, maybe_labels = self._split_name(name)
            if errors or maybe_labels is None:
                return None
            labels = maybe_labels
        dogstatsd = suffix[:1] == "#" or "|#" in suffix
        if (labels and dogstatsd) or (":" in suffix and not dogstatsd):
            return None
        rates: tuple[float, ...] = ()
        repeat = 1
        stat_type = suffix
        if "|" in suffix:
            template = _Suffix(suffix, self._dogstatsd)
            if template.too_many or template.errors or template.tag_errors or template.fatal:
                return None
            stat_type = template.stat_type
            if template.labels:
                labels = template.labels if not labels else {**labels, **template.labels}
            rates = template.rates
            repeat = min(template.repeat, self._max_repeat)
        if stat_type not in _PLANNED_TYPES or (stat_type == "s" and self._sets) or repeat <= 0:
            return None
        return SamplePlan(name, stat_type, labels, rates, repeat)

    # -- samples -------------------------------------------------------------------------------

    def _parse_samples(
        self,
        line: str,
        name: str,
        head: str,
        suffix: str,
        labels: Mapping[str, str],
        out: list[Event],
    ) -> None:
        """Several samples on one line: DogStatsD extended values, or ``:``-separated samples."""
        if ":" in head:
            # ``v1:v2:v3|ms...``: one sample per value, all with the same suffix.
            stat_type = suffix.partition("|")[0]
            if stat_type not in _OBSERVER_TYPES:
                self._error(INVALID_EXTENDED_AGGREGATE_TYPE, line)
                return
            for value_str in head.split(":"):
                self._parse_sample(value_str, suffix, name, labels, line, out)
            return
        # ``a:1|c:2|g``: each ``:``-separated part is a sample of its own.
        for sample in (head + "|" + suffix).split(":"):
            value_str, bar, sample_suffix = sample.partition("|")
            if not bar:
                self.stats.samples_received += 1
                self._error(MALFORMED_COMPONENT, line)
                continue
            self._parse_sample(value_str, sample_suffix, name, labels, line, out)

    def _parse_sample(
        self,
        value_str: str,
        suffix: str,
        metric: str,
        labels: Mapping[str, str],
        line: str,
        out: list[Event],
    ) -> None:
        """One ``value|suffix`` sample (statsd_exporter's per-sample loop body)."""
        stats = self.stats
        stats.samples_received += 1
        cache = self._suffix_cache
        template = cache.get(suffix)
        if template is None:
            template = _Suffix(suffix, self._dogstatsd)
            if len(suffix) <= _CACHEABLE:
                if len(cache) >= _CACHE_LIMIT:
                    cache.clear()
                cache[suffix] = template
        if template.too_many:
            self._error(MALFORMED_COMPONENT, line)
            return
        stat_type = template.stat_type
        is_set = stat_type == "s" and self._sets
        value = 0.0
        if is_set:
            if not value_str:
                self._error(MALFORMED_VALUE, line)
                return
        elif value_str and not value_str.lstrip(NUMERIC_CHARS):
            try:
                value = float(value_str)
            except ValueError:
                self._error(MALFORMED_VALUE, line)
                return
            if value in _INFINITIES:
                self._error(MALFORMED_VALUE, line)
                return
        else:
            maybe = _value_or_none(value_str)
            if maybe is None:
                self._error(MALFORMED_VALUE, line)
                return
            value = maybe
        for reason in template.errors:
            self._error(reason, line)
        if template.tag_errors:
            stats.tag_errors += template.tag_errors
        if template.fatal:
            return
        if template.labels:
            labels = template.labels if not labels else {**labels, **template.labels}
        if labels:
            stats.tags_received += 1
        if stat_type == "c":
            for rate in template.rates:
                value /= rate
            out.append(CounterEvent(metric, value, labels))
        elif stat_type == "g":
            out.append(GaugeEvent(metric, value, labels, value_str[0] in "+-"))
        elif stat_type in _OBSERVER_TYPES:
            repeat = template.repeat
            if repeat <= 0:
                return
            if stat_type == "ms":
                value = value / 1000
            event = ObserverEvent(metric, value, labels)
            if repeat == 1:
                out.append(event)
            else:
                out.extend([event] * min(repeat, self._max_repeat))
        elif is_set:
            out.append(SetEvent(metric, value_str, labels))
        else:
            self._error(ILLEGAL_EVENT, line)

    # -- names with tags -----------------------------------------------------------------------

    def _split_name(self, name: str) -> _NameTags:
        """Parse a name carrying tags (cached by the caller): SignalFX, else Librato/InfluxDB."""
        if self._signalfx:
            start = name.find("[")
            end = name.find("]")
            if start >= 0 and end >= 0:
                if end < start:
                    # ``a]b[c``: statsd_exporter would crash slicing; count it as a tag error.
                    return name, 1, EMPTY_LABELS
                pairs, errors = _tag_pairs(name[start + 1 : end], "=", False)
                labels = None if _reserved(pairs) else _frozen(pairs)
                return name[:start] + name[end + 1 :], errors, labels
            if start >= 0 or end >= 0:
                return name, 1, EMPTY_LABELS
        index = name.find("#") if self._librato else -1
        if self._influxdb:
            comma = name.find(",")
            if comma >= 0 and (index < 0 or comma < index):
                index = comma
        if index >= 0:
            pairs, errors = _tag_pairs(name[index + 1 :], "=", False)
            return name[:index], errors, None if _reserved(pairs) else _frozen(pairs)
        return name, 0, EMPTY_LABELS

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
        self.stats.add_sample_error(reason)
        if self._on_error is not None:
            self._on_error(reason, line)
