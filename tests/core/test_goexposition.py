"""podkit.core.goexposition: floats and families exactly as Go's client_golang writes them."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry, Counter, Gauge, Summary

from podkit.core.goexposition import format_float, render


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1.0, "1"),
        (0.0, "0"),
        (-2.0, "-2"),
        (2.5, "2.5"),
        (0.0001, "0.0001"),
        (0.00001, "1e-05"),
        (123456.5, "123456.5"),
        (1e6, "1e+06"),
        (1234567.0, "1.234567e+06"),
        (0.1 + 0.2, "0.30000000000000004"),
        (float("inf"), "+Inf"),
        (float("-inf"), "-Inf"),
        (float("nan"), "NaN"),
    ],
)
def test_floats_as_strconv_format_float_g(value: float, text: str) -> None:
    assert format_float(value) == text


def test_render_sorts_drops_created_and_orders_summary_samples() -> None:
    registry = CollectorRegistry()
    count = Counter("b_count", "How many.", ["status"], registry=registry)
    count.labels("success").inc()
    count.labels("error").inc(2)
    Summary("a_seconds", "How long.", ["status"], registry=registry).labels("ok").observe(0.25)
    Gauge("c_value", 'A "quoted"\nhelp.', ["path"], registry=registry).labels('x"y').set(1e6)
    Counter("d_unused", "Never touched.", ["status"], registry=registry)
    assert render(registry.collect()).decode() == (
        "# HELP a_seconds How long.\n"
        "# TYPE a_seconds summary\n"
        'a_seconds_sum{status="ok"} 0.25\n'
        'a_seconds_count{status="ok"} 1\n'
        "# HELP b_count_total How many.\n"
        "# TYPE b_count_total counter\n"
        'b_count_total{status="error"} 2\n'
        'b_count_total{status="success"} 1\n'
        '# HELP c_value A "quoted"\\nhelp.\n'
        "# TYPE c_value gauge\n"
        'c_value{path="x\\"y"} 1e+06\n'
    )
