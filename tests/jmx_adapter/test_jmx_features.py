"""Every rule feature against a real JVM, with the exact Prometheus output, per backend."""

from __future__ import annotations

from pathlib import Path

import pytest

from podkit.jmx_adapter.backend import (
    Attribute,
    BackendError,
    JavaNumber,
    MBean,
    ScrapeFilter,
    Target,
)
from podkit.jmx_adapter.backend_jmxquery import JmxqueryBackend
from podkit.jmx_adapter.backend_persistent import PersistentBackend
from podkit.jmx_adapter.config import Config, parse_config
from podkit.jmx_adapter.engine import RuleEngine
from podkit.jmx_adapter.helper import Helper
from tests.jmx_adapter.jmx_support import (
    FEATURES,
    SAMPLES_SIMPLE,
    SAMPLES_TABULAR,
    sample_lines,
)

EXPECTED_PERSISTENT = """\
# HELP podkit_big_value a big one podkit.test:name=alpha,type=Simple,attribute=Big
# TYPE podkit_big_value untyped
podkit_big_value 1.5E10
# HELP podkit_cache_hits cache statistics podkit.test:name=null,type=Structured,attribute=hits
# TYPE podkit_cache_hits untyped
podkit_cache_hits{cache="users"} 7.0
# HELP podkit_cache_misses cache statistics podkit.test:name=null,type=Structured,attribute=misses
# TYPE podkit_cache_misses untyped
podkit_cache_misses{cache="users"} 3.0
# HELP podkit_count Count of alpha
# TYPE podkit_count gauge
podkit_count{bean="alpha",raw="42"} 42.0
# HELP podkit_disabled off podkit.test:name=alpha,type=Simple,attribute=Disabled
# TYPE podkit_disabled untyped
podkit_disabled 0.0
# HELP podkit_dup dup podkit.test:name=b,type=Dup,attribute=Value
# TYPE podkit_dup untyped
podkit_dup{_objectname="podkit.test<type=Dup, name=b, scope=x><>Value",scope="x"} 2.0
podkit_dup{_objectname="podkit.test<type=Dup, name=a, scope=x><>Value",scope="x"} 1.0
# HELP podkit_enabled on or off podkit.test:name=alpha,type=Simple,attribute=Enabled
# TYPE podkit_enabled untyped
podkit_enabled 1.0
# HELP podkit_label_info a string podkit.test:name=alpha,type=Simple,attribute=Label
# TYPE podkit_label_info untyped
podkit_label_info{text="hello"} 1.0
# HELP podkit_long_total a long podkit.test:name=alpha,type=Simple,attribute=Total
# TYPE podkit_long_total counter
podkit_long_total 1.2345678901E10
# HELP podkit_map key and value podkit.test:name=null,type=Structured,attribute=Map
# TYPE podkit_map untyped
podkit_map{key="a"} 1.0
podkit_map{key="b"} 2.0
# HELP podkit_numeric a number as text podkit.test:name=alpha,type=Simple,attribute=Numeric
# TYPE podkit_numeric untyped
podkit_numeric 34.0
# HELP podkit_ratio_percent a ratio podkit.test:name=alpha,type=Simple,attribute=Ratio
# TYPE podkit_ratio_percent gauge
podkit_ratio_percent 50.0
# HELP podkit_test_camel_heap_used_bytes camel podkit.test:name=null,type=Camel,attribute=HeapUsedBytes
# TYPE podkit_test_camel_heap_used_bytes untyped
podkit_test_camel_heap_used_bytes 5.0
# HELP podkit_usage_max_bytes memory-like usage podkit.test:name=null,type=Structured,attribute=max
# TYPE podkit_usage_max_bytes gauge
podkit_usage_max_bytes 200.0
# HELP podkit_usage_used_bytes memory-like usage podkit.test:name=null,type=Structured,attribute=used
# TYPE podkit_usage_used_bytes gauge
podkit_usage_used_bytes 100.0
"""


async def scrape_persistent(config: Config, engine: RuleEngine) -> str:
    """One scrape of the config's target and object names through the test's helper."""
    out = await PersistentBackend(Target(config.jmx_url)).collect(
        engine, ScrapeFilter(config.include, config.exclude), None
    )
    return out.text


async def test_persistent_backend_exact_output(jvm, helper: Helper, engine_for) -> None:
    config = parse_config(FEATURES.format(host_port=jvm.host_port))
    engine = await engine_for(config)
    first = await engine.scrape(Target(config.jmx_url), ScrapeFilter(config.include), None)
    assert first.text == EXPECTED_PERSISTENT
    # jmx_exporter 1.x's cache (one entry per bean attribute) keeps what the cached rule matched
    # (hits, misses) and what no rule matched (Started, Unit), not what uncached rules matched
    assert first.cached == 4
    again = await engine.scrape(Target(config.jmx_url), ScrapeFilter(config.include), None)
    assert again.text == EXPECTED_PERSISTENT  # now from the cache
    assert helper.starts == 1  # one JVM, one connection, both scrapes


async def test_jmxquery_backend_same_samples(jvm, engine_for) -> None:
    """jmxquery has no tabular data or descriptions: the other samples are identical."""
    config = parse_config(FEATURES.format(host_port=jvm.host_port))
    backend = JmxqueryBackend(Target(config.jmx_url))
    out = await backend.collect(
        await engine_for(config), ScrapeFilter(config.include, config.exclude), None
    )
    assert sorted(sample_lines(out.text)) == sorted(SAMPLES_SIMPLE)
    # no descriptions over jmxquery: the help is jmx_exporter's bare bean text
    assert (
        "# HELP podkit_enabled podkit.test:name=alpha,type=Simple,attribute=Enabled\n" in out.text
    )


async def test_exclude_and_default_naming(jvm, engine_for) -> None:
    config = parse_config(
        f"""
hostPort: {jvm.host_port}
whitelistObjectNames: ["podkit.test:type=Simple,*", "podkit.test:type=Dup,*"]
blacklistObjectNames: ["podkit.test:type=Dup,name=b,*"]
"""
    )
    lines = sample_lines(await scrape_persistent(config, await engine_for(config)))
    assert sorted(lines) == sorted(
        [
            'podkit_test_Dup_Value{name="a",scope="x"} 1.0',
            'podkit_test_Simple_Big{name="alpha"} 1.5E10',
            'podkit_test_Simple_Count{name="alpha"} 42.0',
            'podkit_test_Simple_Disabled{name="alpha"} 0.0',
            'podkit_test_Simple_Enabled{name="alpha"} 1.0',
            'podkit_test_Simple_Ratio{name="alpha"} 0.5',
            'podkit_test_Simple_Started{name="alpha"} 1.7E9',
            'podkit_test_Simple_Total{name="alpha"} 1.2345678901E10',
        ]
    )


@pytest.mark.parametrize("backend_name", ["persistent", "jmxquery"])
async def test_pattern_matching_nothing(jvm, engine_for, backend_name: str) -> None:
    config = parse_config(
        f"""
hostPort: {jvm.host_port}
includeObjectNames: ["podkit.nothing:*"]
rules:
  - pattern: 'no such bean'
    name: never
"""
    )
    backend = (
        PersistentBackend(Target(config.jmx_url))
        if backend_name == "persistent"
        else JmxqueryBackend(Target(config.jmx_url))
    )
    engine = await engine_for(config)
    out = await backend.collect(engine, ScrapeFilter(config.include, config.exclude), None)
    assert (out.text, out.samples, out.beans) == ("", 0, 0)
    # and a rule that matches no attribute of a bean that does exist (which the default rule maps)
    bean = MBean(
        "podkit.test:type=Simple,name=alpha",
        "podkit.test",
        (("type", "Simple"), ("name", "alpha")),
        [Attribute("Count", JavaNumber(42.0, "42"))],
    )
    assert (await engine.evaluate([bean])).text == ""
    assert (await (await engine_for(parse_config(""))).evaluate([bean])).samples == 1


async def test_tabular_lines_only_from_full_backends(jvm, engine_for) -> None:
    config = parse_config(FEATURES.format(host_port=jvm.host_port))
    lines = sample_lines(await scrape_persistent(config, await engine_for(config)))
    assert sorted(lines) == sorted(SAMPLES_SIMPLE + SAMPLES_TABULAR)


async def test_unreadable_values_skip_only_themselves(jvm, engine_for) -> None:
    """An application class the helper cannot unmarshal, an array: skipped (with the reason);
    the rest is read: an enum as its name, a Date as epoch seconds."""
    config = parse_config(f"hostPort: {jvm.host_port}\n")
    engine = await engine_for(config)
    out = await engine.scrape(Target(jvm.url), ScrapeFilter(("podkit.test:type=Simple,*",)), None)
    reasons = {attr: reason for _, attr, reason in out.skipped}
    assert reasons["Array"] == "unsupported type long[]"
    assert "ClassNotFoundException" in reasons["Custom"]
    lines = sample_lines(out.text)
    assert not any("Custom" in line or "Array" in line for line in lines)
    assert 'podkit_test_Simple_Started{name="alpha"} 1.7E9' in lines
    assert 'podkit_test_Simple_Count{name="alpha"} 42.0' in lines
    unit = parse_config(
        f"hostPort: {jvm.host_port}\n"
        "rules: [{pattern: 'Unit: (\\w+)', name: unit, value: 1, labels: {unit: $1}}]\n"
    )
    out = await (await engine_for(unit)).scrape(
        Target(jvm.url), ScrapeFilter(("podkit.test:type=Simple,*",)), None
    )
    assert sample_lines(out.text) == ['unit{unit="SECONDS"} 1.0']


async def test_helper_that_cannot_start_says_why(jvm, helper_cache: Path) -> None:
    helper = Helper(cache_dir=helper_cache, java_options=("-XX:+NoSuchPodkitOption",))
    try:
        with pytest.raises(BackendError, match=r"JMX helper .*NoSuchPodkitOption"):
            await RuleEngine(helper).scrape(Target(jvm.url), ScrapeFilter(), None)
    finally:
        await helper.close()
