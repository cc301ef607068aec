"""Rule patterns are Java regexes: every construct of ``java.util.regex.Pattern`` users copy from
jmx_exporter's docs loads and matches exactly what Java matches.

Each case goes through the whole rule path (the walk builds the match string, the helper JVM
matches, the engine names the sample) and is compared both with the expected verdict and with
``java.util.regex`` asked directly (``java/RegexOracle.java``), the way jmx_exporter asks it.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from podkit.jmx_adapter.backend import Attribute, JavaNumber, MBean
from podkit.jmx_adapter.config import ConfigError, parse_config
from podkit.jmx_adapter.engine import RuleEngine, check_patterns
from podkit.jmx_adapter.helper import Helper
from tests.jmx_adapter.jmx_support import sample_lines

HERE = Path(__file__).parent

# (construct, pattern, attribute name, whether Java matches "d<type=x><>NAME: 1")
CASES = [
    ("named groups", r"(?<kind>[a-z]+)_(?<n>\d+)", "requests_42", True),
    ("\\p{Upper} is ASCII", r"<>\p{Upper}{3}:", "ÀÉÎ", False),
    ("\\p{Upper}", r"<>\p{Upper}{3}:", "DEF", True),
    ("\\p{L}", r"<>\p{L}+:", "Größe", True),
    ("\\p{javaLowerCase}", r"<>\p{javaLowerCase}+:", "ÿß", True),
    ("\\p{IsLatin}", r"<>\p{IsLatin}+:", "abc", True),
    ("\\p{InGreek}", r"<>\p{InGreek}+:", "αβ", True),
    ("\\Q...\\E quoting", r"\Q(a+)\E", "x(a+)y", True),
    ("\\Q...\\E is literal", r"\Q(a+)\E", "aaa", False),
    ("\\h", r"a\hb", "a\u00a0b", True),
    ("\\h is not a newline", r"a\hb", "a\nb", False),
    ("\\v", r"a\vb", "a\u000bb", True),
    ("\\R", r"a\Rb", "a\r\nb", True),
    ("\\z", r"1\z", "x", True),
    ("(?i) at the start", r"(?i)heap", "HEAP", True),
    ("(?i) in the middle", r"Heap(?i)USED", "HeapUsed", True),
    ("(?i:...) is scoped", r"(?i:h)EAP", "heap", False),
    ("class intersection", r"<>[a-z&&[^e]]+:", "abc", True),
    ("class intersection excludes", r"<>[a-z&&[^e]]+:", "abe", False),
    ("[[:alpha:]] is a union, not POSIX", r"<>[[:alpha:]]+:", "beta", False),
    ("[[:alpha:]] union", r"<>[[:alpha:]]+:", "alpha", True),
    ("possessive", r"a++b", "aaab", True),
    ("atomic group", r"<>(?>a+)a:", "aaa", False),
    ("lookbehind", r"(?<=x)y", "xy", True),
    ("backreference", r"(\w)\1", "abba", True),
    ("\\x \\u octal", r"\x41\u0042\0103", "ABC", True),
    ("word boundary", r"\bfoo\b", "a foo b", True),
    (". stops at \\u0085", r"<>.:", "\u0085", False),
    ("(?s) dot-all", r"(?s)<>.:", "\u0085", True),
    ("\\w&&\\D", r"<>[\w&&\D]+:", "abc", True),
    ("\\cA", r"\cA", "\u0001", True),
    ("jmx_exporter's own example", r"java.lang<type=(.+)><>(\w+)", "Uptime", False),
]

BAD = [
    ("a{,3}", "Illegal repetition"),
    ("(?<1a>x)", "capturing group name does not start with a Latin letter"),
    ("[a-", "Illegal character range"),
    (r"\p{NoSuch}", "Unknown character property name"),
    ("x**", "Dangling meta character"),
]


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")


@pytest.fixture(scope="module")
def oracle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("oracle")
    subprocess.run(["javac", "-d", str(out), str(HERE / "java" / "RegexOracle.java")], check=True)
    return out


def _ask_java(oracle: Path, pairs: list[tuple[str, str]]) -> list[bool]:
    lines = "".join(f"{_escape(p)}\t{_escape(t)}\n" for p, t in pairs)
    result = subprocess.run(
        ["java", "-cp", str(oracle), "RegexOracle"],
        input=lines,
        capture_output=True,
        text=True,
        check=True,
    )
    return [line == "true" for line in result.stdout.splitlines()]


async def test_every_construct_matches_as_in_java(engine_for, oracle: Path) -> None:
    ours: list[bool] = []
    for i, (_, pattern, subject, _) in enumerate(CASES):
        quoted = pattern.replace("'", "''")  # YAML single quotes
        config = parse_config(f"rules:\n  - pattern: '{quoted}'\n    name: case_{i}\n")
        bean = MBean("d:type=x", "d", (("type", "x"),), [Attribute(subject, JavaNumber(1.0, "1"))])
        out = await (await engine_for(config)).evaluate([bean])
        ours.append(f"\ncase_{i} 1.0\n" in out.text)
    expected = [case[3] for case in CASES]
    java = _ask_java(oracle, [(p, f"d<type=x><>{s}: 1") for _, p, s, _ in CASES])
    assert [c[0] for c, o, e in zip(CASES, ours, expected, strict=True) if o != e] == []
    assert ours == java


async def test_named_groups_in_names_labels_and_values(engine_for) -> None:
    config = parse_config(
        "rules:\n"
        "  - pattern: 'd<type=(?<type>\\w+)><>(?<attr>\\w+): (?<v>\\d+)'\n"
        "    name: app_${attr}\n"
        "    value: ${v}\n"
        "    labels: {kind: '${type}', both: '$1-${attr}'}\n"
    )
    bean = MBean("d:type=x", "d", (("type", "x"),), [Attribute("Hits", JavaNumber(7.0, "7"))])
    out = await (await engine_for(config)).evaluate([bean])
    assert sample_lines(out.text) == ['app_Hits{both="x-Hits",kind="x"} 7.0']


@pytest.mark.parametrize(("pattern", "message"), BAD)
async def test_invalid_patterns_are_refused_with_javas_reason(
    helper: Helper, pattern: str, message: str
) -> None:
    config = parse_config(f"rules: [{{pattern: '{pattern}', name: x}}]\n", "jmx.yaml")
    with pytest.raises(ConfigError, match=rf"jmx.yaml: rules\[0\]: .*{message}"):
        await RuleEngine(helper).load(config)


def test_check_config_uses_java_too(helper_cache: Path) -> None:
    with pytest.raises(ConfigError, match="Illegal repetition"):
        check_patterns(parse_config("rules: [{pattern: 'a{,3}'}]\n"), cache_dir=helper_cache)
    config = parse_config(r"rules: [{pattern: '(?i)\p{javaLowerCase}\Q*\E'}]" + "\n")
    check_patterns(config, cache_dir=helper_cache)


def test_group_references_are_checked_at_load() -> None:
    with pytest.raises(ConfigError, match="unknown group"):
        parse_config("rules: [{pattern: '(?<a>x)', name: 'y_${b}'}]\n")
    with pytest.raises(ConfigError, match="refers to group"):
        parse_config(r"rules: [{pattern: '\Q(x)\E[(]', name: 'y_$1'}]" + "\n")
    rule = parse_config("rules: [{pattern: '(?<a>x)(?:y)(?<b>z)(?=q)', name: '${b}'}]\n").rules[0]
    assert dict(rule.group_names) == {"a": 1, "b": 2}
