"""``syslog://HOST:PORT``: RFC 5424 messages over TCP with octet-counting framing (RFC 6587).

Each record becomes ``<PRI>1 TIMESTAMP HOSTNAME APP-NAME - - - MSG`` and is framed as
``LEN SP MESSAGE``, so a record holding newlines (a joined stack trace) stays one message.
MSG is the record's bytes unchanged (RFC 5424's MSG-ANY: no BOM, invalid UTF-8 kept).
TIMESTAMP is the record's own time when parsed, else when it was read; HOSTNAME is
``--syslog-hostname``, else the pod's name, else the host's. Plain syslog has no
acknowledgement: a batch counts as delivered once the kernel accepted it, so what is in flight
when the connection breaks can be lost — use RELP (:mod:`.relp`) for acknowledged delivery.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence

from podkit.core import one_line
from podkit.log_streamer.formats import rfc3339
from podkit.log_streamer.outputs.base import Output, OutputContext, OutputError
from podkit.log_streamer.outputs.spec import OutputSpec
from podkit.log_streamer.records import Record

__all__ = ["Rfc5424", "SyslogOutput"]

CONNECT_TIMEOUT = 10.0


def _field(value: str, limit: int) -> str:
    """An RFC 5424 header field: printable US-ASCII without spaces, at most ``limit`` long."""
    cleaned = "".join(ch for ch in value if 33 <= ord(ch) <= 126)[:limit]
    return cleaned or "-"


class Rfc5424:
    """Renders records as RFC 5424 messages (shared by the syslog and RELP outputs)."""

    def __init__(self, context: OutputContext) -> None:
        s = context.settings
        self.context = context
        self.pri = f"<{s.syslog_facility * 8 + s.syslog_severity}>1 ".encode()
        host = s.syslog_hostname or context.formatter.metadata.hostname()
        self.rest = f" {_field(host, 255)} {_field(s.syslog_app_name, 48)} - - - ".encode()

    def messages(self, records: Sequence[Record], now: float) -> list[bytes]:
        """The RFC 5424 message of each record (the time of ``now`` for records without one)."""
        parser = self.context.formatter.parser
        default = rfc3339(now).encode()
        head, rest = self.pri, self.rest
        out = []
        for record in records:
            parser.prepare(record)
            stamp = default if record.time is None else rfc3339(record.time).encode()
            out.append(head + stamp + rest + record.data)
        return out


class SyslogOutput(Output):
    """Sends octet-counted RFC 5424 messages over one TCP connection."""

    def __init__(self, spec: OutputSpec, context: OutputContext) -> None:
        super().__init__(spec, context)
        self.rfc = Rfc5424(context)
        self._writer: asyncio.StreamWriter | None = None
        self._reader: asyncio.StreamReader | None = None
        self._error: str | None = None

    async def open(self, state: str | None) -> None:
        """Connect now, so ``/readyz`` tells a missing receiver before the first record."""
        with contextlib.suppress(OutputError):
            await self._connect()

    async def _connect(self) -> asyncio.StreamWriter:
        if self._writer is None or self._writer.is_closing():
            try:
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection(self.spec.host, self.spec.port), CONNECT_TIMEOUT
                )
            except (OSError, TimeoutError) as exc:
                self._error = one_line(exc)
                raise OutputError(f"cannot connect to {self.name}: {self._error}") from None
            self._writer = writer
            self._reader = reader
        return self._writer

    async def send(self, batch: Sequence[Record]) -> int:
        writer = await self._connect()
        frames = [b"%d %s" % (len(m), m) for m in self.rfc.messages(batch, time.time())]
        try:
            if self._reader is not None and self._reader.at_eof():
                raise ConnectionResetError("the server closed the connection")
            writer.write(b"".join(frames))
            await writer.drain()
        except (OSError, ConnectionError) as exc:
            self._error = one_line(exc)
            await self._drop()
            raise OutputError(f"sending to {self.name} failed: {self._error}") from None
        self._error = None
        return 0

    async def _drop(self) -> None:
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(OSError, ConnectionError):
                await self._writer.wait_closed()
            self._writer = None

    def reachable(self) -> bool | str:
        return True if self._error is None else self._error

    async def close(self) -> None:
        await self._drop()
