"""StatsD line parser throughput: podkit's LineParser against a naive str.split baseline.

Builds a realistic mixed corpus (plain counters and timers, gauges with deltas, DogStatsD tags,
InfluxDB/Librato/SignalFX tags, multi-value and extended-value lines, sampled timers, a few bad
lines), packs it into UDP-sized packets, and times, in this one process:

* ``podkit``    -- ``LineParser.parse_packet`` on each packet (full statsd_exporter semantics:
  tags, sampling, validation, error counting, event objects);
* ``general``   -- parse then export (``LineParser`` + ``Exporter``): events mapped to series;
* ``pipeline``  -- the same through :class:`~podkit.statsd_adapter.pipeline.Pipeline`, which takes
  known line shapes straight to their series (what the adapter runs);
* ``baseline``  -- a deliberately naive reference: per line ``split(":", 1)``, ``split("|")`` and
  ``float()`` of the value, building a tuple; no tags, no sampling, no validation. It is the floor
  a Python parser cannot get much below, not a competitor.

Prints lines/second for each (best of several rounds) and the ratio podkit/baseline. Timings are
printed, never asserted. Run: ``uv run python benchmarks/statsd_parser.py [--lines N] [--rounds R]``.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable

from podkit.statsd_adapter.exporter import Exporter
from podkit.statsd_adapter.line import LineParser
from podkit.statsd_adapter.mapper import MetricMapper
from podkit.statsd_adapter.pipeline import Pipeline
from podkit.statsd_adapter.registry import SeriesRegistry

# (weight, template): {i} varies names over a realistic number of series, {v} the value.
_TEMPLATES: list[tuple[int, str]] = [
    (30, "app.requests.{i}.count:{v}|c"),
    (15, "app.latency.{i}:{v}|ms"),
    (8, "app.queue.depth.{i}:{v}|g"),
    (3, "app.queue.depth.{i}:-{v}|g"),
    (15, "api.request.duration:{v}|ms|#env:prod,service:api-{i},region:eu-west-1"),
    (6, "api.hits:{v}|c|@0.5|#endpoint:/v1/items/{i},method:GET"),
    (4, "db.query,table=users{i},op=select:{v}|ms"),
    (3, "cache.hit#tier=l{i},zone=a:{v}|c"),
    (3, "worker.[pool=p{i},host=h1]jobs:{v}|c"),
    (4, "batch.size.{i}:{v}|h|@0.25"),
    (3, "multi.{i}:{v}|c:{v}|c:{v}|g"),
    (3, "ext.timing.{i}:{v}:{v}:{v}|ms|#shard:{i}"),
    (2, "page.views:{v}|c|#env:dev|c:3a88c225dbeb98f2|T1656581400"),
    (1, "broken.line.{i}"),
    (1, "bad.value.{i}:abc|c"),
]


def build_corpus(lines: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    weights = [w for w, _ in _TEMPLATES]
    templates = [t for _, t in _TEMPLATES]
    corpus = []
    for _ in range(lines):
        template = rng.choices(templates, weights)[0]
        value = rng.choice(("1", "2", "17", "0.5", "250", "1024", "3.14159"))
        corpus.append(template.format(i=rng.randrange(200), v=value))
    return corpus


def pack(lines: list[str], budget: int = 1400) -> list[bytes]:
    """Join lines into packets of at most ``budget`` bytes, as a StatsD client would."""
    packets: list[bytes] = []
    current: list[str] = []
    size = 0
    for line in lines:
        if current and size + len(line) + 1 > budget:
            packets.append("\n".join(current).encode())
            current, size = [], 0
        current.append(line)
        size += len(line) + 1
    if current:
        packets.append("\n".join(current).encode())
    return packets


def naive_baseline(packet: bytes) -> list[tuple[str, float, str]]:
    out = []
    for line in packet.decode().split("\n"):
        name, _, rest = line.partition(":")
        parts = rest.split("|")
        try:
            value = float(parts[0].split(":", 1)[0])
        except ValueError:
            continue
        out.append((name, value, parts[1] if len(parts) > 1 else ""))
    return out


def best_rate(run: Callable[[], int], lines: int, rounds: int) -> tuple[float, int]:
    best = float("inf")
    produced = 0
    for _ in range(rounds):
        start = time.process_time()  # CPU time: steadier than wall time on a shared machine
        produced = run()
        best = min(best, time.process_time() - start)
    return lines / best, produced


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=200_000, help="lines in the corpus")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds; the best counts")
    args = parser.parse_args(argv)

    corpus = build_corpus(args.lines)
    packets = pack(corpus)
    plain = pack([f"app.requests.{i % 200}.count:1|c" for i in range(args.lines)])

    def podkit_run(data: list[bytes]) -> Callable[[], int]:
        line_parser = LineParser()

        def run() -> int:
            parse = line_parser.parse_packet
            return sum(len(parse(p)) for p in data)

        return run

    def general_run(data: list[bytes]) -> Callable[[], int]:
        line_parser = LineParser()
        exporter = Exporter(MetricMapper(), SeriesRegistry())

        def run() -> int:
            parse, handle = line_parser.parse_packet, exporter.handle
            made = 0
            for packet in data:
                events = parse(packet)
                handle(events)
                made += len(events)
            return made

        return run

    def pipeline_run(data: list[bytes]) -> Callable[[], int]:
        pipeline = Pipeline(LineParser(), Exporter(MetricMapper(), SeriesRegistry()))

        def run() -> int:
            feed = pipeline.feed
            return sum(feed(p) for p in data)

        return run

    def baseline_run(data: list[bytes]) -> Callable[[], int]:
        def run() -> int:
            return sum(len(naive_baseline(p)) for p in data)

        return run

    print(
        f"python {sys.version.split()[0]}; {args.lines} lines, {len(packets)} packets, best of {args.rounds}"
    )
    for label, data in (("mixed corpus", packets), ("plain name:value|c only", plain)):
        ours, events = best_rate(podkit_run(data), args.lines, args.rounds)
        general, _ = best_rate(general_run(data), args.lines, args.rounds)
        piped, _ = best_rate(pipeline_run(data), args.lines, args.rounds)
        base, tuples = best_rate(baseline_run(data), args.lines, args.rounds)
        print(f"\n{label}:")
        print(f"  podkit LineParser       {ours:>12,.0f} lines/s  ({events} events)")
        print(f"  parse + export          {general:>12,.0f} lines/s  (to series, general path)")
        print(f"  Pipeline                {piped:>12,.0f} lines/s  (to series, memoized shapes)")
        print(
            f"  baseline str.split only {base:>12,.0f} lines/s  ({tuples} tuples; no tags/validation)"
        )
        print(f"  ratio podkit/baseline   {ours / base:>12.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
