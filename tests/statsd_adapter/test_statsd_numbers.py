"""Go-compatible number parsing (strconv.ParseFloat) used by the StatsD line parser."""

from __future__ import annotations

import math

import pytest

from podkit.statsd_adapter.gofloat import FloatRangeError, FloatSyntaxError, parse_float


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1", 1.0),
        ("-1.5", -1.5),
        ("+.5", 0.5),
        ("5.", 5.0),
        ("1e3", 1000.0),
        ("1E-3", 0.001),
        ("1_000", 1000.0),
        ("1e-400", 0.0),
        ("0x1p-2", 0.25),
        ("0x_1.8p1", 3.0),
        ("-0X1P3", -8.0),
        ("inf", math.inf),
        ("+Inf", math.inf),
        ("-INFINITY", -math.inf),
    ],
)
def test_go_accepts(text: str, value: float) -> None:
    assert parse_float(text) == value


def test_go_nan() -> None:
    assert math.isnan(parse_float("NaN"))
    assert math.isnan(parse_float("nan"))


@pytest.mark.parametrize(
    "text",
    [
        "",
        " 1",
        "1 ",
        "1\n",
        "+nan",
        "-nan",
        "1__0",
        "_1",
        "1_",
        "0x10",
        "0x",
        "\u0661",  # ARABIC-INDIC DIGIT ONE
        "1e",
        "e1",
        ".",
        "infinit",
        "1.2.3",
        "--1",
    ],
)
def test_go_rejects(text: str) -> None:
    with pytest.raises(FloatSyntaxError):
        parse_float(text)


@pytest.mark.parametrize(("text", "sign"), [("1e400", 1.0), ("-1e400", -1.0), ("0x1p2000", 1.0)])
def test_go_range_errors_carry_infinity(text: str, sign: float) -> None:
    with pytest.raises(FloatRangeError) as caught:
        parse_float(text)
    assert caught.value.go_value == sign * math.inf
