"""The optimised parser against a literal port of statsd_exporter's LineToEvents, on random lines.

The reference below follows pkg/line/line.go statement by statement (one shared labels map per
line, components processed in order, errors counted as they happen). Thousands of lines built from
the fragments that matter (colons, pipes, rates, tags of every style, container ids, timestamps,
bad numbers) must give the same events and the same counters under every tag-style combination.
"""

from __future__ import annotations

import itertools
import math
import random
from typing import Any

import pytest

from podkit.statsd_adapter.escape import escape_metric_name
from podkit.statsd_adapter.event import CounterEvent, Event, GaugeEvent, ObserverEvent, SetEvent
from podkit.statsd_adapter.gofloat import FloatRangeError, parse_float
from podkit.statsd_adapter.line import LineParser
from podkit.statsd_adapter.stats import ParseStats


class Reference:
    def __init__(self, dog: bool, influx: bool, librato: bool, signalfx: bool, sets: bool) -> None:
        self.dog, self.influx, self.librato, self.signalfx, self.sets = (
            dog,
            influx,
            librato,
            signalfx,
            sets,
        )
        self.stats = ParseStats()

    def err(self, reason: str) -> None:
        self.stats.add_sample_error(reason)

    def parse_tag(self, tag: str, sep: str, labels: dict[str, str]) -> None:
        if not tag:
            self.stats.tag_errors += 1
            return
        i = tag.find(sep)
        if i < 0:
            self.stats.tag_errors += 1
            return
        k, v = tag[:i], tag[i + 1 :]
        if not k or not v:
            self.stats.tag_errors += 1
        else:
            labels[escape_metric_name(k)] = v

    def parse_tags(self, component: str, sep: str, labels: dict[str, str], trim: bool) -> None:
        last = 0
        for i, c in enumerate(component):
            if c == ",":
                tag = component[last:i]
                last = i + 1
                self.parse_tag(tag[1:] if trim and tag[:1] == "#" else tag, sep, labels)
        if last < len(component):
            tag = component[last:]
            self.parse_tag(tag[1:] if trim and tag[:1] == "#" else tag, sep, labels)

    def name_and_tags(self, name: str, labels: dict[str, str]) -> str:
        if self.signalfx:
            s, e = name.find("["), name.find("]")
            if s != -1 and e != -1:
                if e < s:  # Go would panic; podkit counts a tag error (documented deviation)
                    self.stats.tag_errors += 1
                    return name
                self.parse_tags(name[s + 1 : e], "=", labels, False)
                return name[:s] + name[e + 1 :]
            if (s != -1) != (e != -1):
                self.stats.tag_errors += 1
                return name
        for i, c in enumerate(name):
            if (c == "#" and self.librato) or (c == "," and self.influx):
                self.parse_tags(name[i + 1 :], "=", labels, False)
                return name[:i]
        return name

    def line_to_events(self, line: str) -> list[tuple[Event, dict[str, str]]]:
        events: list[tuple[Event, dict[str, str]]] = []
        if line == "":
            return events
        elements = line.split(":", 1)
        if len(elements) < 2 or not elements[0]:
            self.err("malformed_line")
            return events
        labels: dict[str, str] = {}
        metric = self.name_and_tags(elements[0], labels)
        using_dog = "|#" in elements[1]
        if using_dog and labels:
            self.err("mixed_tagging_styles")
            return events
        parts = elements[1].split("|", 2)
        if len(parts) < 2:
            self.err("not_enough_parts_after_colon")
            return events
        if ":" in parts[0]:
            if parts[1] in ("ms", "h", "d"):
                suffix = elements[1].split("|", 1)[1]
                samples = [v + "|" + suffix for v in parts[0].split(":")]
            else:
                self.err("invalid_extended_aggregate_type")
                return events
        elif using_dog:
            samples = elements[1:]
        else:
            samples = elements[1].split(":")
        for sample in samples:
            self.stats.samples_received += 1
            comps = sample.split("|")
            if len(comps) < 2 or len(comps) > 8:
                self.err("malformed_component")
                continue
            value_str, stat_type = comps[0], comps[1]
            relative = value_str.startswith(("+", "-"))
            is_set = stat_type == "s" and self.sets
            if is_set:
                if not value_str:
                    self.err("malformed_value")
                    continue
                value = 0.0
            else:
                try:
                    value = parse_float(value_str)
                except ValueError:
                    self.err("malformed_value")
                    continue
            multiply = 1
            bad = False
            if len(comps) >= 3:
                if any(not c for c in comps[2:]):
                    self.err("malformed_component")
                    continue
                for comp in comps[2:]:
                    if comp[0] == "@":
                        try:
                            rate = parse_float(comp[1:])
                        except FloatRangeError as exc:
                            self.err("invalid_sample_factor")
                            rate = exc.go_value
                        except ValueError:
                            self.err("invalid_sample_factor")
                            rate = 0.0
                        if rate == 0:
                            rate = 1.0
                        if stat_type == "g":
                            continue
                        if stat_type == "c":
                            value /= rate
                        elif stat_type in ("ms", "h", "d"):
                            inv = 1 / rate
                            multiply = 0 if (inv != inv or abs(inv) >= 9.2e18) else int(inv)
                    elif comp[0] == "#":
                        if self.dog:
                            self.parse_tags(comp[1:], ":", labels, True)
                    elif comp[0] == "c":
                        if comp.startswith("c:") and len(comp) > 2:
                            labels["container_id"] = comp[2:]
                        else:
                            self.err("malformed_container_id")
                            bad = True
                            break
                    elif comp[0] == "T":
                        pass
                    else:
                        self.err("invalid_sample_factor")
                        bad = True
                        break
            if bad:
                continue
            if labels:
                self.stats.tags_received += 1
            for _ in range(min(multiply, 1000)):
                if stat_type == "c":
                    events.append((CounterEvent(metric, value, labels), labels))
                elif stat_type == "g":
                    events.append((GaugeEvent(metric, value, labels, relative), labels))
                elif stat_type == "ms":
                    events.append((ObserverEvent(metric, value / 1000, labels), labels))
                elif stat_type in ("h", "d"):
                    events.append((ObserverEvent(metric, value, labels), labels))
                elif is_set:
                    events.append((SetEvent(metric, value_str, labels), labels))
                else:
                    self.err("illegal_event")
        return events


NAMES = [
    "foo",
    "a.b",
    "x,k=v",
    "x,k=v,,j=",
    "y#t=1",
    "z[a=b]q",
    "[k=v]",
    "w]",
    "[w",
    "e,=",
    "1.2",
    "n[a=b",
    "m]x[y",
]
VALUES = ["1", "-2", "+3", "0.5", "1e3", "abc", "", "nan", "inf", "1e400", "0x1p2", "5."]
TYPES = ["c", "g", "ms", "h", "d", "s", "x", ""]
EXTRAS = [
    "@0.5",
    "@0.1",
    "@0",
    "@bad",
    "@",
    "@2",
    "#a:b",
    "#a:b,c:d",
    "#bad",
    "#a:",
    "#,",
    "##x:y",
    "c:abc",
    "c:",
    "c",
    "T123",
    "T",
    "",
    "zz",
    "#k:v:w",
]


def random_line(rng: random.Random) -> str:
    name = rng.choice(NAMES)
    samples = []
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        values = ":".join(rng.choice(VALUES) for _ in range(rng.choice((1, 1, 2, 3))))
        parts = [values, rng.choice(TYPES)] + [
            rng.choice(EXTRAS) for _ in range(rng.choice((0, 0, 1, 2, 3, 7)))
        ]
        samples.append("|".join(parts))
    line = name + ":" + ":".join(samples)
    if rng.random() < 0.05:
        line = line.replace(":", "", 1)
    return line


def comparable(event: Event, labels: dict[str, str] | None = None) -> tuple[Any, ...]:
    value: Any = getattr(event, "value", None)
    if isinstance(value, float) and math.isnan(value):
        value = "nan"
    return (
        type(event).__name__,
        event.name,
        value,
        getattr(event, "member", None),
        getattr(event, "relative", None),
        dict(labels if labels is not None else event.labels),
    )


@pytest.mark.parametrize("styles", list(itertools.product((True, False), repeat=4)), ids=str)
@pytest.mark.parametrize("sets", [True, False], ids=["sets", "compatible"])
def test_parser_matches_the_literal_port(styles: tuple[bool, bool, bool, bool], sets: bool) -> None:
    dog, influx, librato, signalfx = styles
    rng = random.Random(hash((styles, sets)) & 0xFFFF)
    for _ in range(400):
        lines = [random_line(rng) for _ in range(rng.randint(1, 4))]
        reference = Reference(dog, influx, librato, signalfx, sets)
        expected = []
        for line in lines:
            # Go's labels map is shared by a line's events: compare what it holds afterwards.
            expected.extend(comparable(e, labels) for e, labels in reference.line_to_events(line))
        parser = LineParser(
            dogstatsd_tags=dog,
            influxdb_tags=influx,
            librato_tags=librato,
            signalfx_tags=signalfx,
            sets=sets,
        )
        got = [comparable(e) for e in parser.parse_packet("\n".join(lines))]
        assert got == expected, lines
        ours, theirs = parser.stats.snapshot(), reference.stats.snapshot()
        ours.pop("lines_received")
        theirs.pop("lines_received")
        assert ours == theirs, lines
