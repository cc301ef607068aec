"""The line parser beyond the reference vectors: sets, bad input, sampling edges, the API."""

from __future__ import annotations

import math

import pytest

from podkit.statsd_adapter.event import (
    EMPTY_LABELS,
    CounterEvent,
    GaugeEvent,
    MetricType,
    ObserverEvent,
    SetEvent,
)
from podkit.statsd_adapter.line import LineParser
from podkit.statsd_adapter.stats import SAMPLE_ERROR_REASONS, ParseStats


def parse(packet: bytes | str, **options: object) -> tuple[list[object], ParseStats]:
    parser = LineParser(**options)  # type: ignore[arg-type]
    return list(parser.parse_packet(packet)), parser.stats


# -- sets ------------------------------------------------------------------------------------------


def test_sets_become_set_events_by_default() -> None:
    events, stats = parse("users:alice|s\nusers:bob|s|#env:prod")
    assert events == [
        SetEvent("users", "alice", {}),
        SetEvent("users", "bob", {"env": "prod"}),
    ]
    assert stats.sample_errors == {}
    assert stats.samples_received == 2
    assert stats.tags_received == 1


def test_set_members_are_strings_not_numbers() -> None:
    events, _ = parse("ids:1.50|s:abc-1|s")
    assert [e.member for e in events] == ["1.50", "abc-1"]  # type: ignore[attr-defined]
    assert all(e.metric_type is MetricType.GAUGE for e in events)  # type: ignore[attr-defined]


def test_sets_ignore_sample_rates_and_keep_name_tags() -> None:
    events, stats = parse("users,env=prod:carol|s|@0.5")
    assert events == [SetEvent("users", "carol", {"env": "prod"})]
    assert stats.sample_errors == {}


def test_empty_set_member_is_a_malformed_value() -> None:
    events, stats = parse("users:|s")
    assert events == []
    assert stats.sample_errors == {"malformed_value": 1}


def test_compatible_mode_rejects_sets_like_statsd_exporter() -> None:
    events, stats = parse("users:1|s\nusers:alice|s\nok:1|c", sets=False)
    assert events == [CounterEvent("ok", 1.0, {})]
    # a numeric member is an illegal event; a non-numeric one fails value parsing first
    assert stats.sample_errors == {"illegal_event": 1, "malformed_value": 1}


# -- malformed lines never cost the good ones -----------------------------------------------------


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("foo", "malformed_line"),
        (":1|c", "malformed_line"),
        ("foo:1", "not_enough_parts_after_colon"),
        ("foo:1|c|", "malformed_component"),
        ("foo:1|c|@0.1|#a:b|c:x|T1|x|y|z", "malformed_component"),
        ("foo:|c", "malformed_value"),
        ("foo:abc|c", "malformed_value"),
        ("foo: 1|c", "malformed_value"),
        ("foo:1 |c", "malformed_value"),
        ("foo:1_0x|c", "malformed_value"),
        ("foo:+nan|g", "malformed_value"),
        ("foo:1e400|c", "malformed_value"),
        ("foo:\u0661|c", "malformed_value"),  # ARABIC-INDIC DIGIT ONE
        ("foo:1|c|x", "invalid_sample_factor"),
        ("foo:1|c|c", "malformed_container_id"),
        ("foo:1|c|#a:b|c:", "malformed_container_id"),
        ("foo:1|zz", "illegal_event"),
        ("foo:1|", "illegal_event"),
        ("foo:1:2|c", "invalid_extended_aggregate_type"),
        ("foo,a=b:1|c|#c:d", "mixed_tagging_styles"),
    ],
)
def test_each_bad_line_is_counted_by_reason_and_the_rest_survive(line: str, reason: str) -> None:
    seen: list[tuple[str, str]] = []
    parser = LineParser(on_error=lambda r, text: seen.append((r, text)))
    events = parser.parse_packet(f"before:1|c\n{line}\nafter:2|g")
    assert reason in SAMPLE_ERROR_REASONS
    assert parser.stats.sample_errors == {reason: 1}
    assert seen == [(reason, line)]
    assert events[0] == CounterEvent("before", 1.0, {})
    assert events[-1] == GaugeEvent("after", 2.0, {}, relative=False)


def test_invalid_utf8_line_is_malformed_and_neighbours_parse() -> None:
    packet = b"a:1|c\n\xff\xfe:1|c\nb:2|c\nc\xc3(:3|c"
    events, stats = parse(packet)
    assert events == [CounterEvent("a", 1.0, {}), CounterEvent("b", 2.0, {})]
    assert stats.sample_errors == {"malformed_line": 2}
    assert stats.lines_received == 4


def test_surrogate_encodings_are_not_utf8() -> None:
    events, stats = parse(b"a\xed\xa0\x80:1|c")
    assert events == []
    assert stats.sample_errors == {"malformed_line": 1}


@pytest.mark.parametrize("packet", [b"", b"\n", b"\n\n\n", ""])
def test_empty_packets_and_lines_are_silent(packet: bytes | str) -> None:
    events, stats = parse(packet)
    assert events == []
    assert stats.sample_errors == {}
    assert stats.samples_received == 0


def test_packets_accept_bytearray_and_memoryview() -> None:
    data = b"a:1|c\nb:2|ms"
    for packet in (bytearray(data), memoryview(data)):
        events, _ = parse(packet)
        assert events == [CounterEvent("a", 1.0, {}), ObserverEvent("b", 0.002, {})]


def test_carriage_returns_are_not_stripped_like_statsd_exporter_udp() -> None:
    events, stats = parse("a:1|c\r\nb:2|c")
    assert events == [CounterEvent("b", 2.0, {})]
    assert stats.sample_errors == {"illegal_event": 1}


def test_a_thousand_garbage_lines_do_not_raise() -> None:
    junk = "\n".join(["|||", ":::", "a:|", "#:#", "[]:1|c", "a:1|@", "a:1|c|@", "\x00:1|c"] * 125)
    events, stats = parse(junk)
    assert stats.lines_received == 1000
    assert sum(stats.sample_errors.values()) >= 500
    assert all(isinstance(e, CounterEvent) for e in events)


# -- values ----------------------------------------------------------------------------------------


def test_huge_and_tiny_values() -> None:
    events, stats = parse(
        "a:1.7976931348623157e308|c\nb:1e-400|g\nc:123456789012345678901234567890|h"
    )
    assert [e.value for e in events] == [1.7976931348623157e308, 0.0, 1.2345678901234568e29]  # type: ignore[attr-defined]
    assert stats.sample_errors == {}


def test_infinity_and_nan_are_accepted_as_go_does() -> None:
    events, stats = parse("a:inf|g\nb:-Infinity|g\nc:NaN|g\nd:+inf|c")
    assert stats.sample_errors == {}
    values = [e.value for e in events]  # type: ignore[attr-defined]
    assert values[0] == math.inf
    assert values[1] == -math.inf
    assert math.isnan(values[2])
    assert values[3] == math.inf
    assert [e.relative for e in events[:3]] == [False, True, False]  # type: ignore[attr-defined]


def test_hex_floats_are_accepted_as_go_does() -> None:
    events, stats = parse("a:0x1.8p1|c\nb:0x10|c")
    assert events == [CounterEvent("a", 3.0, {})]
    assert stats.sample_errors == {"malformed_value": 1}


def test_relative_gauges() -> None:
    events, _ = parse("g:+5|g\ng:-5|g\ng:5|g\ng:-0|g")
    assert [(e.value, e.relative) for e in events] == [  # type: ignore[attr-defined]
        (5.0, True),
        (-5.0, True),
        (5.0, False),
        (0.0, True),
    ]


def test_timers_are_seconds_histograms_and_distributions_are_not_converted() -> None:
    events, _ = parse("t:250|ms\nh:250|h\nd:250|d")
    assert [e.value for e in events] == [0.25, 250.0, 250.0]  # type: ignore[attr-defined]


# -- sample rates ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rate", "counter", "observations", "errors"),
    [
        ("0.5", 2.0, 2, {}),
        ("1", 1.0, 1, {}),
        ("0", 1.0, 1, {}),  # a zero rate is treated as 1
        ("bad", 1.0, 1, {"invalid_sample_factor": 3}),  # counted (even for the gauge), then 1
        ("", 1.0, 1, {"invalid_sample_factor": 3}),
        ("2", 0.5, 0, {}),  # int(1/2) == 0 observations, as in statsd_exporter
        ("-0.5", -2.0, 0, {}),
        ("1e400", 0.0, 0, {"invalid_sample_factor": 3}),  # Go: +Inf with a range error
        ("nan", math.nan, 0, {}),
    ],
)
def test_sample_rates(rate: str, counter: float, observations: int, errors: dict[str, int]) -> None:
    events, stats = parse(f"c:1|c|@{rate}\no:1|ms|@{rate}\ng:1|g|@{rate}")
    counters = [e for e in events if isinstance(e, CounterEvent)]
    assert len(counters) == 1
    if math.isnan(counter):
        assert math.isnan(counters[0].value)
    else:
        assert counters[0].value == counter
    assert sum(isinstance(e, ObserverEvent) for e in events) == observations
    assert [e.value for e in events if isinstance(e, GaugeEvent)] == [1.0]
    assert stats.sample_errors == errors


def test_observer_repeats_share_one_event_and_are_capped() -> None:
    events, _ = parse("o:1|h|@0.01")
    assert len(events) == 100
    assert all(e is events[0] for e in events)
    capped, _ = parse("o:1|h|@0.0000001", max_observer_repeat=50)
    assert len(capped) == 50
    hopeless, _ = parse("o:1|h|@1e-300")  # Go's int(1e300) overflows: no events at all
    assert hopeless == []


def test_max_observer_repeat_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_observer_repeat"):
        LineParser(max_observer_repeat=0)


# -- tags ------------------------------------------------------------------------------------------


def test_tag_styles_can_be_switched_off() -> None:
    events, stats = parse(
        "a,x=1:1|c\nb#y=2:1|c\nc[z=3]:1|c\nd:1|c|#w:4",
        influxdb_tags=False,
        librato_tags=False,
        signalfx_tags=False,
        dogstatsd_tags=False,
    )
    assert [(e.name, dict(e.labels)) for e in events] == [  # type: ignore[attr-defined]
        ("a,x=1", {}),
        ("b#y=2", {}),
        ("c[z=3]", {}),
        ("d", {}),
    ]
    assert stats.tags_received == 0


def test_tag_names_are_escaped_and_values_kept() -> None:
    events, _ = parse("a:1|c|#my.tag:some value,2x:y:z")
    assert dict(events[0].labels) == {"my_tag": "some value", "_2x": "y:z"}  # type: ignore[attr-defined]


def test_reversed_signalfx_brackets_are_a_tag_error_not_a_crash() -> None:
    events, stats = parse("a]b[c:1|c")
    assert events == [CounterEvent("a]b[c", 1.0, {})]
    assert stats.tag_errors == 1


def test_container_id_and_timestamp_fields() -> None:
    events, stats = parse("a:1|c|#env:dev|c:abc123|T1700000000")
    assert events == [CounterEvent("a", 1.0, {"env": "dev", "container_id": "abc123"})]
    assert stats.sample_errors == {}


def test_events_without_tags_share_a_read_only_empty_mapping() -> None:
    events, _ = parse("a:1|c\nb:2|g")
    assert all(e.labels is EMPTY_LABELS for e in events)  # type: ignore[attr-defined]
    with pytest.raises(TypeError):
        EMPTY_LABELS["x"] = "y"  # type: ignore[index]


# -- API -------------------------------------------------------------------------------------------


def test_parse_line_and_shared_stats() -> None:
    stats = ParseStats()
    first = LineParser(stats=stats)
    second = LineParser(stats=stats, sets=False)
    assert first.parse_line("a:1|c") == [CounterEvent("a", 1.0, {})]
    out: list[object] = []
    second.parse_line_into("b:1|c:2|c", out)  # type: ignore[arg-type]
    assert out == [CounterEvent("b", 1.0, {}), CounterEvent("b", 2.0, {})]
    assert stats.samples_received == 3
    assert stats.lines_received == 2
    assert stats.snapshot()["samples_received"] == 3


def test_template_caches_stay_bounded() -> None:
    parser = LineParser()
    lines = [f"n{i},k=v{i}:1|c" for i in range(5_000)]
    lines += [f"d:1|c|#t:{i}" for i in range(5_000)]
    lines.append("long" + ",k=v" * 400 + ":1|c")
    lines.append("long:1|c|#" + "t:v," * 400)
    events = parser.parse_packet("\n".join(lines))
    assert len(events) == 10_002
    assert parser.stats.sample_errors == {}
    assert len(parser._name_cache) <= 4096  # type: ignore[attr-defined]
    assert len(parser._suffix_cache) <= 4096  # type: ignore[attr-defined]
    assert all(len(key) <= 512 for key in parser._suffix_cache)  # type: ignore[attr-defined]
