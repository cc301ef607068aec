"""Fuzzing the data path: no bytes may raise out of the parser, mapper or exporter."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from podkit.statsd_adapter.exporter import Exporter
from podkit.statsd_adapter.exposition import render
from podkit.statsd_adapter.line import LineParser
from podkit.statsd_adapter.mapper import MetricMapper
from podkit.statsd_adapter.registry import SeriesRegistry
from podkit.statsd_adapter.stats import ParseStats

MAPPER = MetricMapper.from_yaml(
    """
mappings:
- match: "a.*.b"
  name: "ab_${1}"
  labels: {xx: "$1"}
- match: "(.*)\\\\.re\\\\.(.*)"
  match_type: regex
  name: "re_$1"
  observer_type: histogram
"""
)

_ALPHABET = st.sampled_from(list(b"abc.:|@#,=[]+-0123456789egcmshdT\n\xff\x00 "))
_LINES = st.lists(
    st.sampled_from(
        [b"a.x.b:1|c", b"q.re.z:2|ms|@0.5", b"g:+3|g", b"s:x|s", b"t:1|h|#k:v,l:w", b"n,k=v:1|c"]
    ),
    max_size=5,
)


def pipeline() -> tuple[LineParser, Exporter, SeriesRegistry]:
    stats = ParseStats()
    registry = SeriesRegistry(max_series=50)
    return LineParser(stats=stats), Exporter(MAPPER, registry), registry


@settings(max_examples=400, deadline=None)
@given(st.lists(_ALPHABET, max_size=120).map(bytes))
def test_random_bytes_never_raise(packet: bytes) -> None:
    parser, exporter, registry = pipeline()
    exporter.handle(parser.parse_packet(packet))
    render(registry, 0.0)


@settings(max_examples=200, deadline=None)
@given(_LINES, st.binary(max_size=40))
def test_good_lines_survive_garbage_around_them(lines: list[bytes], garbage: bytes) -> None:
    parser, exporter, _ = pipeline()
    exporter.handle(parser.parse_packet(b"\n".join([garbage.replace(b"\n", b""), *lines])))
    handled = sum(exporter.stats.events.values()) + sum(exporter.stats.conflicts.values())
    assert handled >= len(lines)
