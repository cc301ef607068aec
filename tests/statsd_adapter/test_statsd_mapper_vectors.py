"""Every scenario of statsd_exporter's recorded mapper behaviour (mapper_vectors.json), one test each.

Valid configs: every input metric must map exactly as recorded (matched, final Prometheus name,
labels, action, match type, observer type, buckets, quantiles, TTL, scale), looked up twice so the
cached answer is checked too. Invalid configs: loading must fail with an error that says the same
thing as statsd_exporter's (the meaning, not the words).
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from podkit.core.durations import format_go_duration
from podkit.statsd_adapter.mapper import MapperConfigError, MappingResult, MetricMapper
from tests.statsd_adapter import statsd_vectors

SCENARIOS, LOAD_ERROR = statsd_vectors.load("mapper_vectors.json")

# A phrase of the reference error -> a phrase our message must contain (same meaning).
ERROR_MEANINGS = {
    "invalid match": "invalid glob match",
    "doesn't match regex": "invalid metric name",
    "didn't set a metric name": "does not set a metric name",
    "did not find expected alphabetic or numeric character": "not valid YAML",
    "found unknown escape character": "not valid YAML",
    "invalid observer type": "invalid observer type",
    "field quantiles not found": "unknown key 'quantiles'",
    "invalid metric type": "invalid metric type",
    "invalid regex": "invalid regex",
    "invalid action type": "invalid action type",
}


def _params() -> list[Any]:
    if LOAD_ERROR is not None:
        return [pytest.param(None, id="vectors-missing")]
    return [pytest.param(s, id=f"{i:02d}-{s['name']}") for i, s in enumerate(SCENARIOS)]


def observed(result: MappingResult) -> dict[str, Any]:
    """Our result in the vectors' vocabulary (keys absent where statsd_exporter leaves them unset)."""
    out: dict[str, Any] = {
        "matched": result.matched,
        "final_prometheus_name": result.name,
        "labels": dict(result.labels),
    }
    mapping = result.mapping
    if mapping is None:
        return out
    out["mapping_name"] = result.raw_name
    out["action"] = mapping.action.value
    out["match_type"] = mapping.match_type.value
    if mapping.observer_type is not None:
        out["observer_type"] = mapping.observer_type.value
    if mapping.match_metric_type is not None:
        out["match_metric_type"] = mapping.match_metric_type.value
    if mapping.histogram_options is not None and mapping.histogram_options.buckets:
        out["histogram_buckets"] = list(mapping.histogram_options.buckets)
    summary = mapping.summary_options
    if summary is not None:
        if summary.quantiles:
            out["summary_quantiles"] = [
                {"Quantile": q.quantile, "Error": q.error} for q in summary.quantiles
            ]
        if summary.max_age:
            out["summary_max_age"] = format_go_duration(round(summary.max_age * 1e9))
        if summary.age_buckets:
            out["summary_age_buckets"] = summary.age_buckets
        if summary.buf_cap:
            out["summary_buf_cap"] = summary.buf_cap
    if mapping.ttl:
        out["ttl"] = format_go_duration(round(mapping.ttl * 1e9))
    if mapping.scale is not None:
        out["scale"] = mapping.scale
    return out


def assert_same(ours: dict[str, Any], expected: dict[str, Any], where: str) -> None:
    assert set(ours) == set(expected), f"{where}: fields differ\nours={ours}\nexpected={expected}"
    for key, want in expected.items():
        got = ours[key]
        if isinstance(want, float) and isinstance(got, float):
            assert math.isclose(got, want, rel_tol=1e-12), f"{where}: {key} {got!r} != {want!r}"
        else:
            assert got == want, f"{where}: {key} {got!r} != {want!r}"


@pytest.mark.parametrize("scenario", _params())
def test_mapper_vector(scenario: dict[str, Any] | None) -> None:
    if scenario is None:
        pytest.fail(LOAD_ERROR or "conformance vectors missing")
    text = scenario["config_yaml"]
    if not scenario["config_valid"]:
        with pytest.raises(MapperConfigError) as caught:
            MetricMapper.from_yaml(text)
        reference = scenario["config_error"]
        meanings = [ours for theirs, ours in ERROR_MEANINGS.items() if theirs in reference]
        assert meanings, f"no expected meaning recorded for reference error {reference!r}"
        message = str(caught.value)
        assert any(m in message for m in meanings), (
            f"{message!r} does not say {meanings} ({reference!r})"
        )
        return

    mapper = MetricMapper.from_yaml(text)
    if "expected_first_mapping_action" in scenario:
        assert mapper.config.mappings[0].action.value == scenario["expected_first_mapping_action"]
    for attempt in ("lookup", "cached"):
        for case in scenario["cases"]:
            result = mapper.get_mapping(case["input_metric"], case["metric_type"])
            where = f"{attempt} {case['input_metric']!r} ({case['metric_type']})"
            assert_same(observed(result), case["expected"], where)
    if scenario["cases"]:
        assert mapper.cache.hits >= len(scenario["cases"])


def test_all_mapper_vectors_cover_the_reference() -> None:
    if LOAD_ERROR is not None:
        pytest.fail(LOAD_ERROR)
    assert len(SCENARIOS) == 61
    assert sum(len(s["cases"]) for s in SCENARIOS) == 70
