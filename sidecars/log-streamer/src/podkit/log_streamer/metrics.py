"""The streamer's own metrics, read from plain counters when Prometheus scrapes.

``log_streamer_read_lines_total``, ``log_streamer_read_bytes_total``, ``log_streamer_behind_bytes``
(the lag to alert on), ``log_streamer_rotations_total`` and ``log_streamer_truncations_total`` per
followed path; ``log_streamer_records_sent_total``, ``log_streamer_records_failed_total`` (send
attempts that failed and were retried) and ``log_streamer_buffered_records`` per output;
``log_streamer_dropped_records_total`` by output and reason; ``log_streamer_split_lines_total``,
``log_streamer_partial_lines_total``, ``log_streamer_parse_failures_total``,
``log_streamer_open_files`` and ``log_streamer_checkpoint_commits_total``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from podkit.log_streamer.checkpoint import Checkpoint
from podkit.log_streamer.delivery import Channel
from podkit.log_streamer.parsers import RecordParser
from podkit.log_streamer.tailer import Tailer

__all__ = ["StreamerCollector"]

_P = "log_streamer_"


class StreamerCollector(Collector):
    """Collects the self-metrics from the live tailer, channels, parser and checkpoint."""

    def __init__(
        self,
        tailer: Callable[[], Tailer | None],
        channels: Callable[[], Sequence[Channel]],
        parser: RecordParser,
        checkpoint: Callable[[], Checkpoint | None],
    ) -> None:
        self.tailer = tailer
        self.channels = channels
        self.parser = parser
        self.checkpoint = checkpoint

    def collect(self) -> Iterator[Metric]:
        tailer = self.tailer()
        files = dict(tailer.state.files) if tailer is not None else {}
        per_file = {
            "read_lines_total": ("Lines read, per followed path.", "lines"),
            "read_bytes_total": ("Bytes read, per followed path.", "bytes"),
            "rotations_total": (
                "Rotations seen (the path named a new file, or vanished).",
                "rotations",
            ),
            "truncations_total": ("Truncations seen (copytruncate), per path.", "truncations"),
        }
        for name, (text, attr) in per_file.items():
            family = CounterMetricFamily(_P + name.removesuffix("_total"), text, labels=["path"])
            for path, stats in sorted(files.items()):
                family.add_metric([path], getattr(stats, attr))
            yield family
        behind = GaugeMetricFamily(
            _P + "behind_bytes", "Bytes written to a file and not read yet.", labels=["path"]
        )
        for path, stats in sorted(files.items()):
            behind.add_metric([path], stats.behind)
        yield behind
        channels = list(self.channels())
        sent = CounterMetricFamily(
            _P + "records_sent", "Records acknowledged by an output.", labels=["output"]
        )
        failed = CounterMetricFamily(
            _P + "records_failed",
            "Records in sends that failed (and were retried).",
            labels=["output"],
        )
        buffered = GaugeMetricFamily(
            _P + "buffered_records", "Records read and not yet acknowledged.", labels=["output"]
        )
        up = GaugeMetricFamily(
            _P + "output_up", "1 when the output's last send worked.", labels=["output"]
        )
        spooled = GaugeMetricFamily(
            _P + "disk_buffer_bytes",
            "Bytes of records in an output's disk buffer.",
            labels=["output"],
        )
        dropped = CounterMetricFamily(
            _P + "dropped_records",
            "Records dropped, by output and reason.",
            labels=["output", "reason"],
        )
        for channel in channels:
            sent.add_metric([channel.name], channel.stats.sent)
            failed.add_metric([channel.name], channel.stats.failed)
            buffered.add_metric([channel.name], channel.buffered)
            up.add_metric([channel.name], 1 if channel.stats.up else 0)
            spooled.add_metric([channel.name], channel.spooled_bytes)
            for reason, count in sorted(channel.stats.dropped.items()):
                dropped.add_metric([channel.name, reason], count)
        yield from (sent, failed, buffered, up, spooled, dropped)
        lost = CounterMetricFamily(
            _P + "dropped_bytes",
            "Bytes of files lost before they could be read, by reason.",
            labels=["reason"],
        )
        drops = tailer.state.dropped_bytes if tailer is not None else {}
        for reason in sorted(set(drops) | {"truncated_unread"}):
            lost.add_metric([reason], drops.get(reason, 0))
        yield lost
        builder = tailer.state.builder if tailer is not None else None
        yield CounterMetricFamily(
            _P + "split_lines",
            "Lines longer than --max-record-size, split into pieces.",
            value=builder.split if builder else 0,
        )
        yield CounterMetricFamily(
            _P + "partial_lines",
            "Unterminated last lines sent after --partial-timeout.",
            value=builder.partial if builder else 0,
        )
        yield CounterMetricFamily(
            _P + "parse_failures",
            "Records the parser could not parse (sent unparsed).",
            value=self.parser.failed,
        )
        yield GaugeMetricFamily(
            _P + "open_files",
            "Files open for reading, rotated ones included.",
            value=tailer.open_files if tailer else 0,
        )
        checkpoint = self.checkpoint()
        yield CounterMetricFamily(
            _P + "checkpoint_commits",
            "Checkpoint transactions written.",
            value=checkpoint.commits if checkpoint else 0,
        )
