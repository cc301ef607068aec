"""``relp://HOST:PORT`` and ``relp+tls://HOST:PORT``: RELP, rsyslog's reliable event logging.

RELP frames are ``TXNR SP COMMAND SP DATALEN [SP DATA] LF``. The session opens with ``open``
(offering ``relp_version=0`` and ``commands=syslog``); each record goes as one ``syslog``
command carrying an RFC 5424 message (the same as :mod:`.syslog` sends); the server answers
every transaction with ``rsp`` and a status (``200 OK``). A batch is acknowledged when every
record in it got ``200``: only then does the checkpoint move. When the connection breaks or a
record is refused, the batch is sent again on a new session, so a record the server had already
taken may arrive twice (at-least-once, as with rsyslog's own omrelp); none is lost. At most
:data:`WINDOW` transactions are unanswered at a time. TLS uses the ``--tls-*`` settings.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import Sequence

from podkit.core import one_line
from podkit.log_streamer import __version__
from podkit.log_streamer.outputs.base import Output, OutputContext, OutputError
from podkit.log_streamer.outputs.spec import OutputSpec
from podkit.log_streamer.outputs.syslog import CONNECT_TIMEOUT, Rfc5424
from podkit.log_streamer.records import Record

__all__ = ["RelpError", "RelpOutput", "RelpSession"]

WINDOW = 1024
CHUNK = 128
ACK_TIMEOUT = 30.0
_MAX_TXNR = 999_999_999
OFFER = f"relp_version=0\nrelp_software=podkit-log-streamer,{__version__}\ncommands=syslog".encode()
_HEADER = re.compile(rb"(\d{1,9}) ([A-Za-z]{1,32}) (\d{1,9})([ \n])")


class RelpError(OutputError):
    """The RELP session broke or the server refused something."""


class RelpSession:
    """One RELP connection: numbered commands out, ``rsp`` frames in, matched by number."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.txnr = 0
        self.calls: dict[int, asyncio.Future[bytes]] = {}
        """open/close transactions: their replies."""
        self.outstanding: set[int] = set()
        """syslog transactions not answered yet."""
        self.refused: list[str] = []
        self.changed = asyncio.Event()
        self.closed = False
        self.error: RelpError | None = None
        self._reader_task = asyncio.ensure_future(self._read_responses())

    def _next(self) -> int:
        self.txnr = 1 if self.txnr >= _MAX_TXNR else self.txnr + 1
        return self.txnr

    def _check(self) -> None:
        if self.closed:
            raise self.error or RelpError("RELP session closed")

    def call(self, name: bytes, data: bytes) -> asyncio.Future[bytes]:
        """Write one command whose reply the caller wants."""
        self._check()
        txnr = self._next()
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self.calls[txnr] = future
        if data:
            self.writer.write(b"%d %s %d %s\n" % (txnr, name, len(data), data))
        else:
            self.writer.write(b"%d %s 0\n" % (txnr, name))
        return future

    async def syslog(self, messages: Sequence[bytes]) -> None:
        """Send ``messages`` pipelined; return once every one is answered ``200``."""
        self.refused = []
        for at in range(0, len(messages), CHUNK):
            while len(self.outstanding) >= WINDOW:
                self._check()
                self.changed.clear()
                await asyncio.wait_for(self.changed.wait(), ACK_TIMEOUT)
            self._check()
            parts = []
            for message in messages[at : at + CHUNK]:
                txnr = self._next()
                self.outstanding.add(txnr)
                parts.append(b"%d syslog %d %s\n" % (txnr, len(message), message))
            self.writer.write(b"".join(parts))
            await self.writer.drain()
        while self.outstanding:
            self._check()
            self.changed.clear()
            await asyncio.wait_for(self.changed.wait(), ACK_TIMEOUT)
        self._check()
        if self.refused:
            raise RelpError(f"the server refused {len(self.refused)} records: {self.refused[0]}")

    async def _read_responses(self) -> None:
        error = RelpError("the server closed the RELP session")
        buffer = b""
        try:
            while True:
                data = await self.reader.read(65536)
                if not data:
                    break
                buffer += data
                pos = 0
                while True:
                    match = _HEADER.match(buffer, pos)
                    if match is None:
                        if len(buffer) - pos > 64 and not _HEADER.match(buffer + b" " * 64, pos):
                            raise RelpError("bad RELP frame from the server")
                        break
                    length = int(match.group(3))
                    body = match.end()
                    if length:
                        if match.group(4) != b" ":
                            raise RelpError("bad RELP frame from the server")
                        if len(buffer) < body + length + 1:
                            break
                        reply = buffer[body : body + length]
                        if buffer[body + length : body + length + 1] != b"\n":
                            raise RelpError("RELP frame without its trailing newline")
                        pos = body + length + 1
                    else:
                        reply = b""
                        pos = body
                    self._reply(int(match.group(1)), match.group(2), reply)
                buffer = buffer[pos:]
        except (ConnectionError, OSError):
            pass
        except RelpError as exc:
            error = exc
        self._close_with(error)

    def _reply(self, txnr: int, command: bytes, data: bytes) -> None:
        if command == b"serverclose":
            raise RelpError("the server closed the RELP session (serverclose)")
        if command != b"rsp":
            raise RelpError(f"unexpected RELP command {command!r} from the server")
        if txnr in self.outstanding:
            self.outstanding.discard(txnr)
            if not data.startswith(b"200"):
                self.refused.append(data.decode("utf-8", "replace").splitlines()[0] if data else "")
            if len(self.outstanding) < WINDOW // 2 or not self.outstanding:
                self.changed.set()
            return
        future = self.calls.pop(txnr, None)
        if future is not None and not future.done():
            future.set_result(data)

    def _close_with(self, error: RelpError) -> None:
        if not self.closed:
            self.closed = True
            self.error = error
        for future in self.calls.values():
            if not future.done():
                future.set_exception(error)
        self.calls.clear()
        self.changed.set()

    async def open(self) -> bytes:
        reply = await asyncio.wait_for(self.call(b"open", OFFER), ACK_TIMEOUT)
        if not reply.startswith(b"200"):
            first = reply.decode("utf-8", "replace").splitlines()[0] if reply else ""
            raise RelpError(f"RELP open refused: {first}")
        if b"commands=syslog" not in reply:
            raise RelpError("the RELP server does not offer the syslog command")
        return reply

    async def close(self) -> None:
        if not self.closed:
            with contextlib.suppress(RelpError, OSError, TimeoutError, ConnectionError):
                future = self.call(b"close", b"")
                await self.writer.drain()
                await asyncio.wait_for(future, 2.0)
        self._close_with(RelpError("RELP session closed"))
        self._reader_task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._reader_task
        self.writer.close()
        with contextlib.suppress(OSError, ConnectionError):
            await self.writer.wait_closed()


class RelpOutput(Output):
    """Sends records as RELP ``syslog`` commands and waits for every ``200 OK``."""

    def __init__(self, spec: OutputSpec, context: OutputContext) -> None:
        super().__init__(spec, context)
        self.rfc = Rfc5424(context)
        self.session: RelpSession | None = None
        self._error: str | None = None

    async def open(self, state: str | None) -> None:
        """Open a session now, so ``/readyz`` tells a missing receiver before the first record."""
        with contextlib.suppress(OutputError):
            await self._session()

    async def _session(self) -> RelpSession:
        if self.session is not None and not self.session.closed:
            return self.session
        if self.session is not None:
            await self.session.close()
            self.session = None
        ssl = self.context.client_tls() if self.spec.tls else None
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(
                    self.spec.host,
                    self.spec.port,
                    ssl=ssl,
                    server_hostname=self.spec.host if ssl else None,
                ),
                CONNECT_TIMEOUT,
            )
        except (OSError, TimeoutError) as exc:
            self._error = one_line(exc)
            raise RelpError(f"cannot connect to {self.name}: {self._error}") from None
        session = RelpSession(reader, writer)
        try:
            await session.open()
        except (RelpError, TimeoutError, OSError) as exc:
            self._error = one_line(exc)
            await session.close()
            raise RelpError(f"RELP open with {self.name} failed: {self._error}") from None
        self.session = session
        return session

    async def send(self, batch: Sequence[Record]) -> int:
        session = await self._session()
        try:
            await session.syslog(self.rfc.messages(batch, time.time()))
        except (RelpError, OSError, ConnectionError, TimeoutError) as exc:
            self._error = one_line(exc) or "no acknowledgement in time"
            await session.close()
            raise RelpError(f"RELP to {self.name} failed: {self._error}") from None
        self._error = None
        return 0

    def reachable(self) -> bool | str:
        return True if self._error is None else self._error

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()
            self.session = None
