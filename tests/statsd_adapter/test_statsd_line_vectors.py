"""Every case of statsd_exporter's recorded line-parser behaviour (line_vectors.json), one test each.

The parser runs in statsd_exporter-compatible mode (``sets=False``) with the tag styles each case
had switched on; events (name, type, value, labels, relative) and the error counters must match.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from podkit.statsd_adapter.event import CounterEvent, Event, GaugeEvent, ObserverEvent
from podkit.statsd_adapter.line import LineParser
from tests.statsd_adapter import statsd_vectors

CASES, LOAD_ERROR = statsd_vectors.load("line_vectors.json")


def _params() -> list[Any]:
    if LOAD_ERROR is not None:
        return [pytest.param(None, id="vectors-missing")]
    return [pytest.param(case, id=f"{i:03d}-{case['name']}") for i, case in enumerate(CASES)]


def make_parser(case: dict[str, Any], *, sets: bool) -> LineParser:
    styles = case["parser_tag_styles_enabled"]
    return LineParser(
        dogstatsd_tags=styles["dogstatsd"],
        influxdb_tags=styles["influxdb"],
        librato_tags=styles["librato"],
        signalfx_tags=styles["signalfx"],
        sets=sets,
    )


def packet_of(case: dict[str, Any]) -> bytes:
    if case.get("input_hex"):
        return bytes.fromhex(case["input_hex"])
    return str(case["input"]).encode("utf-8")


def describe(event: Event) -> dict[str, Any]:
    if isinstance(event, CounterEvent):
        return {
            "metric_name": event.name,
            "type": "counter",
            "value": event.value,
            "labels": dict(event.labels),
        }
    if isinstance(event, GaugeEvent):
        return {
            "metric_name": event.name,
            "type": "gauge",
            "value": event.value,
            "labels": dict(event.labels),
            "relative": event.relative,
        }
    if isinstance(event, ObserverEvent):
        return {
            "metric_name": event.name,
            "type": "observer",
            "value": event.value,
            "labels": dict(event.labels),
        }
    raise AssertionError(f"unexpected event kind in compatible mode: {event!r}")


def assert_events_match(got: list[Event], expected: Any) -> None:
    if expected == "no events":
        assert got == [], f"expected no events, got {got!r}"
        return
    described = [describe(e) for e in got]
    assert len(described) == len(expected), (
        f"{len(described)} events, expected {len(expected)}:\n{described}\nvs\n{expected}"
    )
    for i, (ours, theirs) in enumerate(zip(described, expected, strict=True)):
        where = f"event {i}: ours={ours} expected={theirs}"
        assert ours["metric_name"] == theirs["metric_name"], where
        assert ours["type"] == theirs["type"], where
        assert ours["labels"] == theirs["labels"], where
        assert math.isclose(ours["value"], theirs["value"], rel_tol=1e-9, abs_tol=1e-12), where
        if theirs["type"] == "gauge":
            assert ours["relative"] == theirs.get("relative", False), where


def assert_counters_match(parser: LineParser, case: dict[str, Any]) -> None:
    stats = parser.stats
    counters = case["counters"]
    assert stats.sample_errors == counters["sample_errors"]
    assert stats.tag_errors == counters["tag_errors"]
    assert stats.samples_received == counters["samples_received"]
    assert stats.tags_received == counters["tags_received"]
    reasons = case.get("error")
    if reasons:
        assert set(reasons) <= set(stats.sample_errors), (reasons, stats.sample_errors)
    else:
        assert not stats.sample_errors


@pytest.mark.parametrize("case", _params())
def test_line_vector(case: dict[str, Any] | None) -> None:
    if case is None:
        pytest.fail(LOAD_ERROR or "conformance vectors missing")
    parser = make_parser(case, sets=False)
    events = parser.parse_packet(packet_of(case))
    assert_events_match(events, case["expected"])
    assert_counters_match(parser, case)


def test_all_line_vectors_cover_the_reference() -> None:
    if LOAD_ERROR is not None:
        pytest.fail(LOAD_ERROR)
    assert len(CASES) == 330


def test_default_mode_agrees_with_compatible_mode_on_every_vector() -> None:
    """Set support must not change anything the reference defines (the vectors have no ``|s``)."""
    if LOAD_ERROR is not None:
        pytest.fail(LOAD_ERROR)
    for case in CASES:
        parser = make_parser(case, sets=True)
        events = parser.parse_packet(packet_of(case))
        assert_events_match(events, case["expected"])
        assert_counters_match(parser, case)


def test_packets_as_str_give_the_same_events() -> None:
    if LOAD_ERROR is not None:
        pytest.fail(LOAD_ERROR)
    for case in CASES:
        if case.get("input_hex"):
            continue
        parser = make_parser(case, sets=False)
        assert_events_match(parser.parse_packet(case["input"]), case["expected"])
