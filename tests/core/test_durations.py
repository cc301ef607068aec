"""Go durations: parsing and printing exactly as Go's time package does."""

from __future__ import annotations

import pytest

from podkit.core.durations import format_go_duration, parse_go_duration


@pytest.mark.parametrize(
    ("text", "ns"),
    [
        ("0", 0),
        ("10s", 10_000_000_000),
        ("1m2s", 62_000_000_000),
        ("1.5h", 5_400_000_000_000),
        ("250ms", 250_000_000),
        ("3us", 3_000),
        ("3µs", 3_000),
        ("-2m", -120_000_000_000),
        ("1h0m0s", 3_600_000_000_000),
        (".5s", 500_000_000),
    ],
)
def test_parse_go_duration(text: str, ns: int) -> None:
    assert parse_go_duration(text) == ns


@pytest.mark.parametrize("text", ["", "10", "1x", "s", "1.s.", "1 s", "-", "1e3s"])
def test_parse_go_duration_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_go_duration(text)


@pytest.mark.parametrize(
    ("ns", "text"),
    [
        (0, "0s"),
        (10_000_000_000, "10s"),
        (62_000_000_000, "1m2s"),
        (300_000_000_000, "5m0s"),
        (3_600_000_000_000, "1h0m0s"),
        (1_500_000, "1.5ms"),
        (1_000, "1µs"),
        (999, "999ns"),
        (1_500_000_000, "1.5s"),
        (-62_000_000_000, "-1m2s"),
    ],
)
def test_format_go_duration(ns: int, text: str) -> None:
    assert format_go_duration(ns) == text
