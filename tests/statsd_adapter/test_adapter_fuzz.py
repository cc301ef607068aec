"""Fuzzing the data path: no bytes may raise, and every page stays one Prometheus takes.

One adapter (built, not started: its parser, mapper, exporter and both halves of the page) takes
packet after packet, random and mutated, so conflicts and clashes build up as they would in a
long-running pod; after each packet the whole ``/metrics`` page is checked with Prometheus'
parser and the strict rules of :mod:`page_check`, failing on the first page it rejects.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client import generate_latest

from podkit.core import HostPort
from podkit.statsd_adapter.exporter import Exporter
from podkit.statsd_adapter.exposition import render
from podkit.statsd_adapter.line import LineParser
from podkit.statsd_adapter.mapper import MetricMapper
from podkit.statsd_adapter.registry import SeriesRegistry
from podkit.statsd_adapter.service import StatsdAdapter
from podkit.statsd_adapter.settings import StatsdSettings
from podkit.statsd_adapter.stats import ParseStats
from tests.statsd_adapter.page_check import check_page

MAPPING = """
mappings:
- match: "a.*.b"
  name: "ab_${1}"
  labels: {xx: "$1"}
- match: "h.*"
  name: "h_$1"
  observer_type: histogram
- match: "(.*)\\\\.re\\\\.(.*)"
  match_type: regex
  name: "re_$2"
  labels: {first: "$1"}
  observer_type: histogram
"""
MAPPER = MetricMapper.from_yaml(MAPPING)

_ALPHABET = st.sampled_from(list(b"abch_.:|@#,=[]+-0123456789egcmsdT\n\xff\x00 "))
_PIECES = [
    b"a.x.b:1|c", b"q.re.z:2|ms|@0.5", b"g:+3|g", b"s:x|s", b"t:1|h|#k:v,l:w", b"n,k=v:1|c",
    b"p:1|c|#a:1", b"p:1|c|#b:1", b"p:1|c", b"p:1|g", b"p_sum:1|c", b"p:1|ms", b"h.p:1|ms",
    b"h.p_bucket:1|c", b"h:1|ms|#le:1", b"x:1|ms|#quantile:2", b",k=v:1|c", b"[k=v]:1|c",
    b"#k=v:1|c", b"p:1|c|#__name__:zz", b"p,__a=1:1|c", b"1x:1|c", b"-:1|c", b"a.-.b:1|c",
    b"statsd_exporter_lines_total:1|c", b"process_open_fds:2|g", b"up:1|c|#le:x", b"e.re.:1|c",
    b"\xc3\xa9t\xc3\xa9:1|c|#k\xc3\xa9:v", b"p:1|c|#a:x\"y\\z", b"s_count:1|ms",
]  # fmt: skip
_LINES = st.lists(st.sampled_from(_PIECES), min_size=1, max_size=6)


def _mutate(data: st.DataObject, line: bytes) -> bytes:
    position = data.draw(st.integers(0, len(line)))
    insert = bytes(data.draw(st.lists(_ALPHABET, max_size=3)))
    cut = data.draw(st.integers(0, 2))
    return line[:position] + insert + line[position + cut :]


def pipeline() -> tuple[LineParser, Exporter, SeriesRegistry]:
    stats = ParseStats()
    registry = SeriesRegistry(max_series=50)
    return LineParser(stats=stats), Exporter(MAPPER, registry), registry


@settings(max_examples=400, deadline=None)
@given(st.lists(_ALPHABET, max_size=120).map(bytes))
def test_random_bytes_never_raise(packet: bytes) -> None:
    parser, exporter, registry = pipeline()
    exporter.handle(parser.parse_packet(packet))
    check_page(render(registry, 0.0))


@settings(max_examples=200, deadline=None)
@given(_LINES, st.binary(max_size=40))
def test_good_lines_survive_garbage_around_them(lines: list[bytes], garbage: bytes) -> None:
    parser, exporter, _ = pipeline()
    exporter.handle(parser.parse_packet(b"\n".join([garbage.replace(b"\n", b""), *lines])))
    stats = exporter.stats
    handled = (
        sum(stats.events.values())
        + sum(stats.conflicts.values())
        + sum(stats.errors.values())
        + sum(parser.stats.sample_errors.values())
    )
    assert handled >= len(lines)


def test_every_page_stays_valid_under_random_and_mutated_traffic(tmp_path: Path) -> None:
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(MAPPING)
    adapter = StatsdAdapter(
        StatsdSettings(
            listen_udp=None,
            listen_tcp=HostPort("127.0.0.1", 0),
            admin_listen=None,
            mapping_config=str(mapping),
            max_series=300,
        )
    )

    def page() -> str:
        return render(adapter.series, 0.0) + generate_latest(adapter.registry).decode()

    @settings(max_examples=500, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.data())
    def one_packet(data: st.DataObject) -> None:
        lines = data.draw(_LINES)
        if data.draw(st.booleans()):
            index = data.draw(st.integers(0, len(lines) - 1))
            lines[index] = _mutate(data, lines[index])
        adapter.feed(b"\n".join(lines))
        check_page(page())

    one_packet()
    assert len(adapter.series) > 10  # the traffic did build up series
