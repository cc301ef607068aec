"""The config parser's strictness and the rule engine's pieces (matching in a helper JVM)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from podkit.jmx_adapter.backend import Attribute, Composite, JavaNumber, MBean, Tabular
from podkit.jmx_adapter.config import ConfigError, parse_config
from podkit.jmx_adapter.objectname import java_double, matches, parse_object_name
from tests.jmx_adapter.jmx_support import sample_lines


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("hostPort: a:1\njmxUrl: service:jmx:x\n", "at most one of hostPort and jmxUrl"),
        ("hostPort: nohostport\n", "hostPort must be HOST:PORT"),
        ("httpServer: {threads: {minimum: 1}}\n", "'httpServer' is refused: it configures"),
        ("openTelemetry: {endpoint: x}\n", "'openTelemetry' is refused: podkit-jmx-adapter"),
        ("ssl: {enabled: true, keystore: {}}\n", "unknown key ssl.keystore"),
        ("ssl: {trustStore: {password: x}}\n", "ssl.trustStore must be a mapping with a filename"),
        ("metricCustomizers: [{attributesAsLabels: [a]}]\n", "must provide mbeanFilter"),
        ("metricCustomizers: [{mbeanFilter: {domain: d}}]\n", "attributesAsLabels or extraMetrics"),
        ("excludeObjectNameAttributes: [a]\n", "must map object names to lists"),
        ("excludeJvmMetrics: maybe\n", "excludeJvmMetrics must be true or false"),
        ("inferCounterTypeFromName: 1\n", "inferCounterTypeFromName must be true or false"),
        ("ssl: yes please\n", "ssl must be true, false or a mapping"),
        ("startDelaySeconds: -1\n", "startDelaySeconds must be a non-negative integer"),
        ("includeObjectNames: [nocolon]\n", "not an object name pattern"),
        ("includeObjectNames: ['a:*']\nwhitelistObjectNames: ['b:*']\n", "not both"),
        ("rules: [{name: x}]\n", "a rule with a name needs a pattern"),
        ("rules: [{pattern: a, help: h}]\n", "a rule with help or labels needs a name"),
        ("rules: [{value: 1}]\n", "a rule with a value needs a pattern"),
        ("rules: [{pattern: 'a(b)', name: x_$2}]\n", "refers to group $2"),
        (
            "rules: [{pattern: a, name: x, type: SUMMARY}]\n",
            "type must be GAUGE, COUNTER or UNTYPED",
        ),
        ("rules: [{pattern: a, name: x, valueFactor: lots}]\n", "valueFactor must be a number"),
        ("rules: [{pattern: a, name: x, labels: {a: 1}}]\n", "labels must map strings to strings"),
        ("rules: [oops\n", "not valid YAML"),
        ("- a\n", "top level must be a mapping"),
    ],
)
def test_bad_configs(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        parse_config(text, "jmx.yaml")


def test_good_config() -> None:
    config = parse_config(
        "hostPort: '[::1]:9010'\nwhitelistObjectNames: ['java.lang:*']\n"
        "rules: [{pattern: 'a(b)', name: x_$1, valueFactor: 0.001, type: COUNTER, "
        "labels: {z: '1', a: '$1'}}]\n"
    )
    assert config.jmx_url == "service:jmx:rmi:///jndi/rmi://[::1]:9010/jmxrmi"
    assert config.include == ("java.lang:*",)
    rule = config.rules[0]
    assert rule.labels == (("a", "$1"), ("z", "1"))  # sorted, as jmx_exporter's TreeMap
    assert (rule.type, rule.value_factor) == ("counter", 0.001)
    assert parse_config("").rules[0].pattern is None  # no rules: one default rule


def test_object_names_and_java_doubles() -> None:
    assert [java_double(x) for x in (1.0, 1.5e10, 1e-4, 1234567.0, 1e7)] == [
        "1.0",
        "1.5E10",
        "1.0E-4",
        "1234567.0",
        "1.0E7",
    ]
    assert parse_object_name('d:type=A,name="x,y"') == ("d", (("type", "A"), ("name", '"x,y"')))
    assert matches("d:type=A,*", "d", (("type", "A"), ("b", "c")))
    assert not matches("d:type=A", "d", (("type", "A"), ("b", "c")))


async def test_names_templates_and_values_as_jmx_exporter_makes_them(engine_for) -> None:
    """toSafeName, toSnakeAndLowerCase, Matcher.replaceAll's $N and ${name}, Double.valueOf."""
    config = parse_config(
        "rules:\n"
        "  - {pattern: 'Odd', name: 'a.b-c__d  e'}\n"
        "  - {pattern: 'Digit', name: '1st'}\n"
        "  - {pattern: 'heap_memory_usage', attrNameSnakeCase: true, name: snake}\n"
        "  - {pattern: 'httpcount', attrNameSnakeCase: true, name: upper_run}\n"
        "  - pattern: '<>(?<n>T)(e)(m)(p)(l)(a)(t)(e)(s)(x)(y)(z): (.*)'\n"
        "    name: t\n"
        "    labels: {refs: '$1-${n}-$12-$13-$1x-\\$1'}\n"
        "  - {pattern: 'Value: (.*)', name: 'v_$1', value: '$1'}\n"
    )
    number = JavaNumber(1.0, "1")
    bean = _bean(
        "d:type=X",
        Attribute("Odd", number),
        Attribute("Digit", number),
        Attribute("HeapMemoryUsage", number),
        Attribute("HTTPCount", number),
        Attribute("Templatesxyz", number),
    )
    out = sample_lines((await (await engine_for(config)).evaluate([bean])).text)
    assert out == [
        "_1st 1.0",
        "a_b_c_d_e 1.0",
        "snake 1.0",
        't{refs="T-T-z-1-Tx-$1"} 1.0',
        "upper_run 1.0",
    ]
    # value: Double.valueOf of the expanded text; what Java refuses skips the sample
    texts = [" 1.5 ", "2f", "1e3", "-Infinity", "0x1p3", "+.5", "1_000", "inf", "nan", "1,5"]
    beans = [_bean(f"d:type=V{i}", Attribute("Value", text)) for i, text in enumerate(texts)]
    out = sample_lines((await (await engine_for(config)).evaluate(beans)).text)
    assert sorted(line.rsplit(" ", 1)[1] for line in out) == sorted(
        ["1.5", "2.0", "1000.0", "-Inf", "8.0", "0.5"]
    )


def _bean(name: str, *attrs: Attribute) -> MBean:
    domain, props = parse_object_name(name)
    return MBean(name, domain, props, list(attrs))


async def test_tabular_nested_labels_and_value_column(engine_for) -> None:
    row = Composite((("key", "k1"), ("value", JavaNumber(3.0, "3"))), "row")
    table = Tabular(("key",), (row,), "row")
    other = Composite((("key", "r"), ("n", JavaNumber(1.0, "1"))), "row")
    bean = _bean(
        "d:type=T,key=outer",
        Attribute("Map", table, "map"),
        Attribute("Rows", Tabular(("key",), (other,), "row"), "rows"),
        Attribute("Text", "not a number", "t"),
        Attribute("Flag", True, "f"),
    )
    out = (await (await engine_for(parse_config(""))).evaluate([bean])).text
    assert 'd_T_Map{key="outer",key_="k1"} 3.0' in out
    assert 'd_T_Rows_n{key="outer",key_="r"} 1.0' in out
    assert 'd_T_Flag{key="outer"} 1.0' in out
    assert "Text" not in out


async def test_value_override_failure_skips_and_booleans_ignore_factor(engine_for) -> None:
    config = parse_config(
        "rules:\n"
        "  - {pattern: 'Text: (.*)', name: text, value: $1}\n"
        "  - {pattern: 'Flag', name: flag, valueFactor: 10}\n"
    )
    bean = _bean("d:type=X", Attribute("Text", "abc"), Attribute("Flag", True))
    out = (await (await engine_for(config)).evaluate([bean])).text
    assert "text" not in out.replace("# HELP", "")
    assert "flag 1.0" in out


async def test_mixed_types_are_untyped(engine_for) -> None:
    config = parse_config(
        "rules:\n"
        "  - {pattern: 'A', name: same, type: GAUGE, labels: {k: a}}\n"
        "  - {pattern: 'B', name: same, type: COUNTER, labels: {k: b}}\n"
    )
    bean = _bean(
        "d:type=X", Attribute("A", JavaNumber(1.0, "1")), Attribute("B", JavaNumber(2.0, "2"))
    )
    out = (await (await engine_for(config)).evaluate([bean])).text
    assert "# TYPE same untyped" in out


async def test_composite_index_becomes_one_label_per_key(engine_for) -> None:
    index = Composite((("host", "h1"), ("port", JavaNumber(80.0, "80"))), "addr")
    row = Composite((("addr", index), ("hits", JavaNumber(4.0, "4"))), "row")
    bean = _bean("d:type=T", Attribute("Conns", Tabular(("addr",), (row,), "row"), "conns"))
    out = (await (await engine_for(parse_config(""))).evaluate([bean])).text
    assert 'd_T_Conns_hits{addr_host="h1",addr_port="80"} 4.0' in out
    assert "# HELP d_T_Conns_hits row d:name=null,type=T,attribute=hits" in out


def test_readme_example_config_is_valid() -> None:
    readme = Path(__file__).parents[2] / "adapters" / "jmx" / "README.md"
    text = readme.read_text()
    block = text.split("```yaml\n", 1)[1].split("```", 1)[0]
    config = parse_config(block, "README.md")
    assert len(config.rules) == 3
    assert config.rules[0].type == "counter"


def test_keys_jmx_exporter_ignores_are_ignored_with_a_warning(monkeypatch) -> None:
    """jmx_exporter's own examples carry keys it does not read (top-level attrNameSnakeCase in
    hazelcast.yml and weblogic.yml, cacheRules, allowedlistObjectNames): they load, mean
    nothing, and each is named in a warning."""
    config = parse_config(
        "attrNameSnakeCase: true\ncacheRules: true\nallowedlistObjectNames: ['a:*']\n"
        "rules: [{pattern: a, nmae: x}]\n",
        "jmx.yaml",
    )
    assert len(config.warnings) == 4
    assert "attrNameSnakeCase has no effect at the top level" in config.warnings[0]
    assert "unknown key 'cacheRules' ignored" in config.warnings[1]
    assert "unknown rule key 'nmae' ignored" in config.warnings[3]
    assert config.include == ()  # allowedlistObjectNames means nothing, as in jmx_exporter
    assert not config.rules[0].attr_name_snake_case


def test_jmx_exporter_1x_keys(monkeypatch) -> None:
    monkeypatch.setenv("JMX_USER", "monitor")
    config = parse_config(
        """
hostPort: 127.0.0.1:9010
username: ${JMX_USER}
password: ${NOT_SET_ANYWHERE}
inferCounterTypeFromName: false
ssl:
  enabled: true
  trustStore: {filename: /etc/jmx/trust.p12, password: changeit, type: PKCS12}
  protocols: TLSv1.3,TLSv1.2
autoExcludeObjectNameAttributes: false
excludeJvmMetrics: true
includeObjectNameAttributes:
  "d:type=A,name=x": [Count]
excludeObjectNameAttributes:
  "d:name=x,type=A": [Other]
metricCustomizers:
  - mbeanFilter: {domain: d, properties: {type: A}}
    attributesAsLabels: [Label]
    extraMetrics:
      - {name: isActive, value: true, description: active or not}
"""
    )
    assert (config.username, config.password) == ("monitor", "${NOT_SET_ANYWHERE}")
    assert config.ssl
    assert config.ssl_options is not None
    assert config.ssl_options.trust_store is not None
    assert config.ssl_options.trust_store.type == "PKCS12"
    assert config.ssl_options.protocols == ("TLSv1.3", "TLSv1.2")
    beans = config.beans
    assert (beans.auto_exclude, beans.exclude_jvm) == (False, True)
    # object names are matched in canonical form, as ObjectName.equals does
    assert beans.include_attributes == {"d:name=x,type=A": frozenset({"Count"})}
    assert beans.exclude_attributes == {"d:name=x,type=A": frozenset({"Other"})}
    (customizer,) = beans.customizers
    assert customizer.attributes_as_labels == ("Label",)
    assert [(a.name, a.value, a.description) for a in customizer.extra_metrics] == [
        ("isActive", True, "active or not")
    ]
    assert not parse_config("ssl: {enabled: false}\n").ssl


async def test_beans_from_other_backends_get_the_per_bean_keys(engine_for) -> None:
    """Beans the jmxquery and Jolokia backends read go through the same filters and customizers
    as the persistent backend's (the helper applies them to both)."""
    config = parse_config(
        "excludeObjectNameAttributes: {'d:type=X,name=n': [Hidden]}\n"
        "metricCustomizers:\n"
        "  - mbeanFilter: {domain: d, properties: {type: X}}\n"
        "    attributesAsLabels: [Color]\n"
        "    extraMetrics: [{name: up, value: 1}]\n"
    )
    bean = _bean(
        "d:type=X,name=n",
        Attribute("Color", "red"),
        Attribute("Hidden", JavaNumber(1.0, "1")),
        Attribute("Count", JavaNumber(2.0, "2")),
    )
    out = sample_lines((await (await engine_for(config)).evaluate([bean])).text)
    assert out == [
        'd_X_Count{Color="red",name="n"} 2.0',
        'd_X_up{Color="red",name="n"} 1.0',
    ]
