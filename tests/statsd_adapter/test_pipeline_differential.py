"""The memoizing pipeline against the general path (parser then exporter), on the same traffic.

Both get the same packets, random and mutated, with repeats (the shapes the pipeline learns);
the pages, every series value and every self-metric counter must come out identical.
"""

from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from podkit.statsd_adapter.event import Event
from podkit.statsd_adapter.exporter import Exporter
from podkit.statsd_adapter.exposition import render
from podkit.statsd_adapter.line import LineParser
from podkit.statsd_adapter.mapper import MetricMapper
from podkit.statsd_adapter.pipeline import Pipeline
from podkit.statsd_adapter.registry import SeriesRegistry

MAPPER = MetricMapper.from_yaml(
    """
mappings:
- match: "a.*.b"
  name: "ab_${1}"
  labels: {xx: "$1"}
- match: "h.*"
  name: "h_$1"
  observer_type: histogram
  scale: 2
- match: "drop.*"
  name: "dropped"
  action: drop
- match: "honor.*"
  name: "honored"
  honor_labels: true
  labels: {kk: mapped}
- match: "neg.*"
  name: "negative"
  scale: -1
- match: "t.*"
  name: "ttl_$1"
  ttl: 5s
"""
)

_VALUES = ["1", "0", "2.5", "-3", "+4", "1e3", "1e400", "x", "", "1:2", "1_0", " 1", "nan", "0x1p3"]
_SHAPES = [
    "a.x.b:{v}|c", "a.y.b:{v}|c|@0.5", "g:{v}|g", "g:{v}|g|#k:v", "h.p:{v}|ms", "h.q:{v}|h|@0.25",
    "s:{v}|ms", "s:{v}|d|#k:v,l:w", "drop.me:{v}|c", "drop.t:{v}|ms|@0.5", "honor.x:{v}|c|#kk:own",
    "neg.c:{v}|c", "neg.g:{v}|g", "t.a:{v}|c", "n,k=v:{v}|c", "n#k=w:{v}|g", "p[k=v]x:{v}|c",
    "p:{v}|c|#a:1", "p:{v}|c|#b:1", "p:{v}|c", "p:{v}|g", "m:{v}|c:{v}|g", "e:{v}:{v}|ms",
    "set:{v}|s", "bad:{v}|c|#__name__:x", "c:{v}|c|c:abc", "ts:{v}|c|T123", "z:{v}|q",
    ",k=v:{v}|c", "r:{v}|ms|@0", "r:{v}|c|@bar", "u\\u00e9:{v}|c", "p:{v}|c|#le:1", "h.le:{v}|ms|#le:2",
]  # fmt: skip


def build(memoize: bool) -> tuple[LineParser, Exporter, SeriesRegistry, Pipeline | None]:
    now = [100.0]
    registry = SeriesRegistry(max_series=40, clock=lambda: now[0])
    parser = LineParser()
    exporter = Exporter(MAPPER, registry)
    return parser, exporter, registry, Pipeline(parser, exporter) if memoize else None


def run(packets: list[bytes], memoize: bool) -> tuple[str, object, object]:
    random.seed(7)  # summaries sample at random: the same draws on both sides
    parser, exporter, registry, pipeline = build(memoize)
    for index, packet in enumerate(packets):
        if pipeline is not None:
            pipeline.feed(packet)
        else:
            events: list[Event] = parser.parse_packet(packet)
            exporter.handle(events)
        if index % 7 == 6:
            registry.clock = lambda at=100.0 + index: at  # type: ignore[misc]
            registry.expire()  # TTLs run out between packets
    stats = exporter.stats
    counters = (
        parser.stats.snapshot(),
        stats.events,
        stats.conflicts,
        stats.errors,
        stats.actions,
        stats.dropped,
        stats.unmapped,
        registry.total_series,
        registry.vector_count(),
    )
    return render(registry, 1000.0), counters, sorted(registry.families)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    st.lists(
        st.lists(st.tuples(st.sampled_from(_SHAPES), st.sampled_from(_VALUES)), max_size=8),
        min_size=1,
        max_size=12,
    )
)
def test_the_pipeline_gives_what_the_general_path_gives(
    packets: list[list[tuple[str, str]]],
) -> None:
    raw = [
        "\n".join(shape.replace("{v}", value) for shape, value in lines).encode()
        for lines in packets
    ]
    raw += raw  # every shape again, now from the memo
    assert run(raw, memoize=True) == run(raw, memoize=False)


def test_the_memo_is_used_and_let_go_on_reload_and_expiry() -> None:
    _parser, exporter, registry, pipeline = build(memoize=True)
    assert pipeline is not None
    for _ in range(3):  # a shape is learnt when seen a second time
        pipeline.feed(b"t.a:1|c\na.x.b:1|c")
    assert len(pipeline._memo) == 2
    registry.clock = lambda: 1000.0
    assert registry.expire() == 1  # ttl_a ran out
    pipeline.feed(b"t.a:1|c")
    assert registry.families["ttl_a"].series[((), ())].value == 1  # a new series, not the old
    exporter.use_mapper(MetricMapper.from_yaml("mappings: []"))
    pipeline.feed(b"a.x.b:1|c")
    assert "a_x_b" in registry.families  # the new mapping, not the memo of the old one
