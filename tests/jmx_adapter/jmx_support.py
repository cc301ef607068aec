"""Shared bits of the JMX adapter tests: the feature config and its expected samples."""

from __future__ import annotations

KEYSTORE_PASSWORD = "changeit"  # of the throwaway keystore the SSL test makes

FEATURES = r"""
hostPort: {host_port}
lowercaseOutputName: true
lowercaseOutputLabelNames: true
includeObjectNames: ["podkit.test:*"]
rules:
  - pattern: 'podkit.test<type=Simple, name=(\w+)><>Count: (\d+)'
    name: Podkit_Count
    labels: {{Bean: "$1", raw: "$2"}}
    help: "Count of $1"
    type: GAUGE
  - pattern: 'podkit.test<type=Simple, name=alpha><>Ratio'
    name: podkit_ratio_percent
    valueFactor: 100
    type: GAUGE
  - pattern: 'podkit.test<type=Simple, name=alpha><>Total'
    name: podkit_long
    type: COUNTER
  - pattern: 'podkit.test<type=Simple, name=alpha><>Numeric: (\d+)'
    name: podkit_numeric
    value: $1
    valueFactor: 2
  - pattern: 'podkit.test<type=Simple, name=alpha><>Label: (\w+)'
    name: podkit_label_info
    value: 1
    labels: {{text: "$1"}}
  - pattern: 'podkit.test<type=Simple, name=alpha><>(Enabled|Disabled)'
    name: podkit_$1
  - pattern: 'podkit.test<type=Simple, name=alpha><>big'
    attrNameSnakeCase: true
    name: podkit-big.value
  - pattern: 'podkit.test<type=Structured><Usage>(\w+)'
    name: podkit_usage_$1_bytes
    type: GAUGE
  - pattern: 'podkit.test<type=Structured, key=(\w+)><>Map'
    name: podkit_map
    labels: {{key: "$1"}}
  - pattern: 'podkit.test<type=Structured, cache=(\w+)><Stats>(hits|misses)'
    name: podkit_cache_$2
    labels: {{cache: "$1"}}
    cache: true
  - pattern: 'podkit.test<type=Dup, name=\w+, scope=(\w+)><>Value'
    name: podkit_dup
    labels: {{scope: "$1"}}
  - pattern: 'podkit.test<type=Camel><>'
    attrNameSnakeCase: true
"""

# The sample lines every JMX backend must produce for FEATURES (tabular data aside).
SAMPLES_SIMPLE = [
    'podkit_count{bean="alpha",raw="42"} 42.0',
    "podkit_ratio_percent 50.0",
    "podkit_long_total 1.2345678901E10",
    "podkit_numeric 34.0",
    'podkit_label_info{text="hello"} 1.0',
    "podkit_enabled 1.0",
    "podkit_disabled 0.0",
    "podkit_big_value 1.5E10",
    "podkit_usage_used_bytes 100.0",
    "podkit_usage_max_bytes 200.0",
    'podkit_dup{_objectname="podkit.test<type=Dup, name=a, scope=x><>Value",scope="x"} 1.0',
    'podkit_dup{_objectname="podkit.test<type=Dup, name=b, scope=x><>Value",scope="x"} 2.0',
    "podkit_test_camel_heap_used_bytes 5.0",
]
SAMPLES_TABULAR = [
    'podkit_map{key="a"} 1.0',
    'podkit_map{key="b"} 2.0',
    'podkit_cache_hits{cache="users"} 7.0',
    'podkit_cache_misses{cache="users"} 3.0',
]


def sample_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line and not line.startswith("#")]
