"""The log streamer as a podkit service: tailer -> channels -> outputs, with checkpoints.

Wires the stages and owns the lifecycle. At start: open the checkpoint, open each output (the
file output cuts itself back to its checkpointed length), resume each file where every output had
acknowledged it. While running: the tailer reads, each channel delivers and acknowledges, and
every ``checkpoint_interval`` the acknowledged positions are committed in one transaction. On
SIGTERM: the tailer reads what the files hold now and flushes held records, the channels deliver
within ``shutdown_grace``, the last positions are committed, exit 0. Embeddable::

    async with LogStreamer(LogStreamerSettings(path=["/var/log/app/*.log"])) as streamer:
        ...
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from podkit.core import Service, one_line
from podkit.log_streamer import __version__
from podkit.log_streamer.checkpoint import Checkpoint, Snapshot
from podkit.log_streamer.delivery import Channel
from podkit.log_streamer.discovery import Discovery, Watcher
from podkit.log_streamer.formats import Formatter
from podkit.log_streamer.metadata import Metadata
from podkit.log_streamer.metrics import StreamerCollector
from podkit.log_streamer.outputs.base import Output, OutputContext
from podkit.log_streamer.outputs.factory import make_output
from podkit.log_streamer.parsers import RecordParser
from podkit.log_streamer.records import Multiline
from podkit.log_streamer.settings import LogStreamerSettings
from podkit.log_streamer.spool import Spool
from podkit.log_streamer.tailer import Tailer, TailerOptions

__all__ = ["LogStreamer"]

SPOOL_SUFFIX = "#spool"


class LogStreamer(Service[LogStreamerSettings]):
    """Follows log files through rotation and ships every record to its outputs once."""

    name = "podkit-log-streamer"
    version = __version__
    description = (
        "Follows an app's log files through rotation and streams every line, once, to stdout, "
        "a file, syslog/RELP, Loki or an Elasticsearch/OpenSearch _bulk endpoint."
    )
    metrics_prefix = "log_streamer"
    settings_class = LogStreamerSettings

    def __init__(self, settings: LogStreamerSettings | None = None, **kwargs: Any) -> None:
        super().__init__(settings, **kwargs)
        s = self.settings
        self.parser = RecordParser(s.parser, s.parse_regex, s.time_key)
        self.metadata = Metadata(s.label)
        self.formatter = Formatter(self.parser, self.metadata)
        self.checkpoint: Checkpoint | None = None
        self.outputs: list[Output] = []
        self.channels: list[Channel] = []
        self.tailer: Tailer | None = None
        self.watcher: Watcher | None = None
        self._forgotten: dict[str, set[str]] = {}
        self._states: dict[str, str] = {}
        self._commit_lock = asyncio.Lock()
        self.registry.register(
            StreamerCollector(
                lambda: self.tailer, lambda: self.channels, self.parser, lambda: self.checkpoint
            )
        )

    async def on_start(self) -> None:
        s = self.settings
        self.checkpoint = Checkpoint(s.state_dir)
        saved = await asyncio.to_thread(self.checkpoint.open)
        names = {spec.name: spec for spec in s.output}
        kept = list(names) + [name + SPOOL_SUFFIX for name in names]
        await asyncio.to_thread(self.checkpoint.forget_outputs, kept)
        if s.state_dir is None:
            self.log.warning(
                "no --state-dir: positions are kept in memory only; a restart reads files again"
            )
        context = OutputContext(s, self.formatter, self.log.child("output"))
        for spec in s.output:
            output = make_output(spec, context)
            await output.open(saved.states.get(spec.name))
            self.outputs.append(output)
            own = saved.positions.get(spec.name, {})
            spool = None
            if s.disk_buffer_size and s.state_dir is not None:
                spool = Spool(s.state_dir / "buffer", spec.name, s.disk_buffer_size)
                await asyncio.to_thread(spool.open, saved.states.get(spec.name + SPOOL_SUFFIX))
            channel = Channel(
                output,
                batch_records=s.batch_records,
                buffer_records=s.buffer_records,
                max_backoff=s.retry_max_backoff,
                skip={key: offset for key, (_, offset) in own.items()},
                spool=spool,
            )
            channel.seed((key, path, offset) for key, (path, offset) in own.items())
            channel.acked_state = output.state()
            self.channels.append(channel)
        multiline = None
        if s.multiline_start or s.multiline_continuation:
            multiline = Multiline(
                start=re.compile(s.multiline_start.encode()) if s.multiline_start else None,
                continuation=(
                    re.compile(s.multiline_continuation.encode())
                    if s.multiline_continuation
                    else None
                ),
                max_lines=s.multiline_max_lines,
                timeout=s.multiline_timeout,
            )
        discovery = Discovery(s.path, s.exclude, follow_symlinks=s.follow_symlinks)
        self.tailer = Tailer(
            discovery,
            self.channels,
            saved.starts(names),
            TailerOptions(
                read_slice=s.read_slice,
                poll_interval=s.poll_interval,
                rotate_wait=s.rotate_wait,
                read_from_end=s.read_from == "end",
                max_record_size=s.max_record_size,
                partial_timeout=s.partial_timeout,
                multiline=multiline,
            ),
            self.log.child("tailer"),
            since=saved.committed_at,
            register=self._register,
        )
        await self.commit()  # the outputs' starting states (the file output's length)
        if s.inotify:
            self.watcher = Watcher(self.tailer.wake)
            if self.watcher.start(asyncio.get_running_loop()):
                self.watcher.watch(discovery.directories())
            else:
                self.log.info("inotify not available; polling", poll_interval=s.poll_interval)
                self.watcher = None
        for channel in self.channels:
            self.spawn(channel.run(), f"output {channel.name}")
        self.tailer.watcher = self.watcher
        self.health.not_ready("files", "the files are not scanned yet")
        self.spawn(self.tailer.run(), "tailer")
        self.spawn(self._ready_after_first_pass(self.tailer), "first pass")
        self.spawn(self._checkpoint_loop(), "checkpoint")
        for output in self.outputs:
            self.health.add_readiness_check(f"output {output.name}", output.reachable)

    async def _ready_after_first_pass(self, tailer: Tailer) -> None:
        await tailer.first_pass.wait()
        self.health.ready("files")

    async def _register(self, files: list[tuple[str, str, int]]) -> None:
        """Write new files' identities now, before any of their records are sent."""
        for channel in self.channels:
            for key, path, offset in files:
                if key not in channel.acked:
                    channel.acked[key] = (path, offset)
                    channel.dirty.add(key)
        await self.commit()

    async def _checkpoint_loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.checkpoint_interval)
            await self.commit()

    def _snapshot(self) -> Snapshot:
        snapshot = Snapshot()
        every = {channel.name for channel in self.channels}
        for channel in self.channels:
            rows, finished, state, spooled = channel.take_changes()
            snapshot.upserts.extend((channel.name, key, path, offset) for key, path, offset in rows)
            for name, value in ((channel.name, state), (channel.name + SPOOL_SUFFIX, spooled)):
                if value is not None and self._states.get(name) != value:
                    snapshot.states[name] = value
                    self._states[name] = value
            for key in finished:
                done = self._forgotten.setdefault(key, set())
                done.add(channel.name)
                if done >= every:
                    del self._forgotten[key]
                    snapshot.deletes.extend((name, key) for name in every)
        return snapshot

    async def commit(self) -> None:
        """Write the acknowledged positions now (taken on the loop, written in a thread)."""
        if self.checkpoint is None:
            return
        async with self._commit_lock:  # snapshots are written in the order they were taken
            snapshot = self._snapshot()
            if snapshot:
                try:
                    await asyncio.to_thread(self.checkpoint.commit, snapshot)
                except Exception as exc:
                    self.log.error("checkpoint write failed", error=one_line(exc))
                    raise

    async def on_stop(self) -> None:
        if self.watcher is not None:
            self.watcher.close()
            self.watcher = None
        try:
            await asyncio.wait_for(self._flush(), self.settings.shutdown_grace)
        except TimeoutError:
            left = sum(channel.buffered for channel in self.channels)
            self.log.warning(
                "grace period over before every record was acknowledged; "
                "the rest is read again at the next start",
                unacknowledged_records=left,
            )

    async def _flush(self) -> None:
        if self.tailer is not None:
            await self.tailer.stop()
        for channel in self.channels:
            await channel.drained()

    async def on_close(self) -> None:
        await self.commit()
        if self.tailer is not None:
            self.tailer.close()
        for channel in self.channels:
            if channel.spool is not None:
                channel.spool.close()
        for output in self.outputs:
            try:
                await output.close()
            except Exception as exc:
                self.log.warning("closing output failed", output=output.name, error=one_line(exc))
        if self.checkpoint is not None:
            self.checkpoint.close()
