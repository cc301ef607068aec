"""Exact output for MBean shapes that are easy to get wrong, as jmx_exporter 1.x produces it.

The target is the tests' JVM (``java/PodkitTestApp.java``, domain ``podkit.shapes``): every
``java.lang.Number`` kind, a ``Character``, nested tabular data, object names with control
characters, one family from two beans with different descriptions, a gauge named ``..._total``,
``metricCustomizers`` and ``includeObjectNameAttributes``. Each expected text follows
jmx_exporter's ``JmxScraper``/``JmxCollector``/``MatchedRuleToMetricSnapshotsConverter`` and
client_java's text exposition (numbers as ``Double.toString``). jmx_exporter itself cannot be
fetched in this environment, so the texts were derived from its sources, line by line.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from podkit.jmx_adapter.backend import ScrapeFilter, Target
from podkit.jmx_adapter.backend_persistent import PersistentBackend
from podkit.jmx_adapter.config import parse_config
from podkit.jmx_adapter.helper import Helper

HERE = Path(__file__).parent

NUMBERS = """\
# HELP podkit_shapes_Numbers_Atomic an atomic long podkit.shapes:name=null,type=Numbers,attribute=Atomic
# TYPE podkit_shapes_Numbers_Atomic untyped
podkit_shapes_Numbers_Atomic 5.0
# HELP podkit_shapes_Numbers_ByteValue a byte podkit.shapes:name=null,type=Numbers,attribute=ByteValue
# TYPE podkit_shapes_Numbers_ByteValue untyped
podkit_shapes_Numbers_ByteValue -3.0
# HELP podkit_shapes_Numbers_Decimal a decimal podkit.shapes:name=null,type=Numbers,attribute=Decimal
# TYPE podkit_shapes_Numbers_Decimal untyped
podkit_shapes_Numbers_Decimal 1.1
# HELP podkit_shapes_Numbers_FloatValue a float podkit.shapes:name=null,type=Numbers,attribute=FloatValue
# TYPE podkit_shapes_Numbers_FloatValue untyped
podkit_shapes_Numbers_FloatValue 0.20000000298023224
# HELP podkit_shapes_Numbers_Huge a big integer podkit.shapes:name=null,type=Numbers,attribute=Huge
# TYPE podkit_shapes_Numbers_Huge untyped
podkit_shapes_Numbers_Huge 1.2345678901234568E29
# HELP podkit_shapes_Numbers_NotANumber NaN podkit.shapes:name=null,type=Numbers,attribute=NotANumber
# TYPE podkit_shapes_Numbers_NotANumber untyped
podkit_shapes_Numbers_NotANumber NaN
# HELP podkit_shapes_Numbers_Requests a gauge named like a counter podkit.shapes:name=null,type=Numbers,attribute=Requests_total
# TYPE podkit_shapes_Numbers_Requests untyped
podkit_shapes_Numbers_Requests 9.0
# HELP podkit_shapes_Numbers_ShortValue a short podkit.shapes:name=null,type=Numbers,attribute=ShortValue
# TYPE podkit_shapes_Numbers_ShortValue untyped
podkit_shapes_Numbers_ShortValue 7.0
"""

NESTED = """\
# HELP podkit_shapes_Nested_Nested inner row podkit.shapes:name=null,type=Nested,attribute=Nested
# TYPE podkit_shapes_Nested_Nested untyped
podkit_shapes_Nested_Nested{key="p",key_="i"} 1.0
podkit_shapes_Nested_Nested{key="q",key_="i"} 2.0
"""

CUSTOMIZED = """\
# HELP podkit_shapes_Customized_Count a count podkit.shapes:name=c,type=Customized,attribute=Count
# TYPE podkit_shapes_Customized_Count untyped
podkit_shapes_Customized_Count{Label="blue",name="c"} 3.0
# HELP podkit_shapes_Customized_isActive is it podkit.shapes:name=c,type=Customized,attribute=isActive
# TYPE podkit_shapes_Customized_isActive untyped
podkit_shapes_Customized_isActive{Label="blue",name="c"} 1.0
"""


async def _output(jvm, helper: Helper, engine_for, text: str) -> str:  # type: ignore[no-untyped-def]
    config = parse_config(f"hostPort: {jvm.host_port}\n{text}")
    engine = await engine_for(config)
    out = await PersistentBackend(Target(config.jmx_url)).collect(
        engine, ScrapeFilter(config.include, config.exclude), None
    )
    return out.text


async def test_numbers_characters_and_total_names(jvm, helper: Helper, engine_for) -> None:
    """Every Number by doubleValue() (a float is 0.20000000298023224), a Character left out,
    and a non-counter name ending in _total printed without it."""
    text = "includeObjectNames: ['podkit.shapes:type=Numbers']\n"
    assert await _output(jvm, helper, engine_for, text) == NUMBERS
    infer = await _output(jvm, helper, engine_for, text + "inferCounterTypeFromName: true\n")
    assert "# TYPE podkit_shapes_Numbers_Requests_total counter\n" in infer
    assert "\npodkit_shapes_Numbers_Requests_total 9.0\n" in infer
    typed = await _output(
        jvm,
        helper,
        engine_for,
        text + "rules: [{pattern: 'Requests_total', name: x_total, type: GAUGE}]\n",
    )
    assert "# TYPE x gauge\nx 9.0\n" in typed


async def test_nested_tabular_data(jvm, helper: Helper, engine_for) -> None:
    text = "includeObjectNames: ['podkit.shapes:type=Nested']\n"
    assert await _output(jvm, helper, engine_for, text) == NESTED


async def test_control_characters_in_object_names(jvm, helper: Helper, engine_for) -> None:
    """Java's '.' stops at \\r and \\u0085: a '.*' rule leaves those beans out, as in
    jmx_exporter; the default rule (no pattern) keeps them."""
    text = "includeObjectNames: ['podkit.shapes:type=Odd,*']\n"
    everything = await _output(jvm, helper, engine_for, text)
    lines = [line for line in everything.split("\n") if line and not line.startswith("#")]
    assert sorted(lines) == [
        'podkit_shapes_Odd_Value{name="cr\rname"} 1.0',
        'podkit_shapes_Odd_Value{name="nel\x85name"} 1.0',
        'podkit_shapes_Odd_Value{name="tab\tname"} 1.0',
    ]
    dot_star = await _output(jvm, helper, engine_for, text + "rules: [{pattern: '.*'}]\n")
    assert [line for line in dot_star.split("\n") if line and not line.startswith("#")] == [
        'podkit_shapes_Odd_Value{name="tab\tname"} 1.0'
    ]


async def test_help_comes_from_the_bean_jmx_exporter_visits_first(
    jvm, helper: Helper, engine_for, tmp_path: Path
) -> None:
    names = ["podkit.shapes:type=Help,name=one", "podkit.shapes:type=Help,name=two"]
    subprocess.run(
        ["javac", "-d", str(tmp_path), str(HERE / "java" / "HashOrder.java")], check=True
    )
    order = subprocess.run(
        ["java", "-cp", str(tmp_path), "HashOrder", *names],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    first = order[0].rsplit("=", 1)[1]
    description = {"one": "first description", "two": "second description"}[first]
    text = (
        "includeObjectNames: ['podkit.shapes:type=Help,*']\n"
        "rules: [{pattern: 'podkit.shapes<type=Help, name=(\\w+)><>Value', name: helped, "
        "labels: {n: $1}}]\n"
    )
    output = await _output(jvm, helper, engine_for, text)
    assert output.splitlines()[0] == (
        f"# HELP helped {description} podkit.shapes:name={first},type=Help,attribute=Value"
    )
    # and the samples come in that order too
    samples = [line for line in output.splitlines() if line.startswith("helped{")]
    assert [s.split('"')[1] for s in samples] == [n.rsplit("=", 1)[1] for n in order]


async def test_metric_customizers(jvm, helper: Helper, engine_for) -> None:
    text = (
        "includeObjectNames: ['podkit.shapes:type=Customized,*']\n"
        "metricCustomizers:\n"
        "  - mbeanFilter: {domain: podkit.shapes, properties: {type: Customized}}\n"
        "    attributesAsLabels: [Label]\n"
        "    extraMetrics: [{name: isActive, value: true, description: 'is it'}]\n"
    )
    assert await _output(jvm, helper, engine_for, text) == CUSTOMIZED
    named = await _output(
        jvm,
        helper,
        engine_for,
        text + "lowercaseOutputLabelNames: true\n"
        "rules: [{pattern: 'Customized, name=(\\w+)><>Count', name: n, labels: {b: $1}}]\n",
    )
    assert 'n{b="c",label="blue"} 3.0' in named


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (  # once any include is configured, only listed attributes of listed beans are read
            "includeObjectNameAttributes: {'podkit.shapes:type=Numbers': [FloatValue, Letter]}\n",
            ["podkit_shapes_Numbers_FloatValue 0.20000000298023224"],
        ),
        (
            "includeObjectNames: ['podkit.shapes:type=Numbers']\n"
            "excludeObjectNameAttributes: {'podkit.shapes:type=Numbers': [FloatValue, Huge, "
            "Atomic, ByteValue, Decimal, NotANumber, Requests_total]}\n",
            ["podkit_shapes_Numbers_ShortValue 7.0"],
        ),
        (  # excludeJvmMetrics keeps what an explicit include names
            "includeObjectNames: ['java.lang:type=Memory', 'podkit.shapes:type=Help,name=one']\n"
            "excludeJvmMetrics: true\n",
            ['podkit_shapes_Help_Value{name="one"} 1.0'],
        ),
    ],
)
async def test_attribute_filters(
    jvm, helper: Helper, engine_for, text: str, expected: list[str]
) -> None:
    output = await _output(jvm, helper, engine_for, text)
    lines = [line for line in output.splitlines() if not line.startswith("#")]
    if "java.lang" in text:
        assert any(line.startswith("java_lang_Memory_") for line in lines)
        lines = [line for line in lines if not line.startswith("java_lang")]
    assert lines == expected
