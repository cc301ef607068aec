"""Prometheus name escaping as statsd_exporter's EscapeMetricName does it."""

from __future__ import annotations

import pytest

from podkit.statsd_adapter.escape import escape_metric_name, is_valid_metric_name


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("", ""),
        ("under_scores", "under_scores"),
        ("CamelCase", "CamelCase"),
        ("_leading", "_leading"),
        ("1startswithnumber", "_1startswithnumber"),
        ("9", "_9"),
        ("with.dots", "with_dots"),
        ("with😱emoji", "with_emoji"),
        ("with.*.multiple", "with___multiple"),
        ("test.web-server.foo.bar", "test_web_server_foo_bar"),
        ("foo--bar", "foo_bar"),
        ("foo---bar", "foo_bar"),
        ("foo.-bar", "foo__bar"),
        ("a-.-b", "a___b"),
        ("ünïcödé", "_n_c_d_"),
        ("1.2", "_1_2"),
        ("colon:name", "colon_name"),
        ("space name", "space_name"),
        (
            "٣digit",
            "_digit",
        ),  # non-ASCII digit: replaced, but no prefix (only ASCII digits get one)
    ],
)
def test_escape_metric_name(raw: str, escaped: str) -> None:
    assert escape_metric_name(raw) == escaped
    assert is_valid_metric_name(escaped) or escaped == ""
    assert escape_metric_name(escaped) == escaped  # idempotent


def test_valid_names_are_returned_as_is() -> None:
    name = "already_valid_name"
    assert escape_metric_name(name) is name
    assert is_valid_metric_name(name)
    assert not is_valid_metric_name("1abc")
    assert not is_valid_metric_name("é")
