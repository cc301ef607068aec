"""A strict reading of a Prometheus text page: what Prometheus' scrape would refuse, as errors.

Beyond prometheus_client's parser (which must take the page whole): every family is declared
once, every sample belongs to the family declared above it, and every metric and label name is
valid and not reserved (``__``), with no label given twice.
"""

from __future__ import annotations

import re

from prometheus_client.parser import text_string_to_metric_families

_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_SUFFIXES = {
    "counter": ("", "_total", "_created"),
    "gauge": ("",),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "summary": ("", "_sum", "_count", "_created"),
    "untyped": ("",),
    "info": ("_info",),
}


def check_page(text: str) -> None:
    """Raise AssertionError (or the parser's ValueError) on the first thing Prometheus refuses."""
    list(text_string_to_metric_families(text))
    declared: set[str] = set()
    family, kind = "", "untyped"
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, family, kind = line.split(" ", 3)
            assert family not in declared, f"family {family} declared twice"
            assert _NAME.fullmatch(family), f"bad family name {family!r}"
            declared.add(family)
            continue
        if not line or line.startswith("#"):
            continue
        name, brace, rest = line.partition("{")
        if not brace:
            name = line.split(" ", 1)[0]
        assert _NAME.fullmatch(name), f"bad metric name in {line!r}"
        assert any(name == family + suffix for suffix in _SUFFIXES.get(kind, ("",))), (
            f"{line!r} is not part of family {family} ({kind})"
        )
        if brace:
            labels = re.findall(r'([^,{}=\s]+)="(?:[^"\\]|\\.)*"', rest.rsplit("}", 1)[0])
            assert len(labels) == len(set(labels)), f"label given twice in {line!r}"
            for label in labels:
                assert _LABEL.fullmatch(label) and not label.startswith("__"), (
                    f"bad label {label!r} in {line!r}"
                )
