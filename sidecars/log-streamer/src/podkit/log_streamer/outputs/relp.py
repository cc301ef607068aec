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
import time
from collections.abc import Sequence

from podkit.core import one_line
from podkit.log_streamer import __version__
from podkit.log_streamer.outputs.base import Output, OutputContext, OutputError
from podkit.log_streamer.outputs.spec import OutputSpec
from podkit.log_streamer.outputs.syslog import CONNECT_TIMEOUT, Rfc5424
from podkit.log_streamer.records import Record

__all__ = ["RelpError", "RelpOutput", "RelpSession"]

WINDOW = 128
ACK_TIMEOUT = 30.0
_MAX_TXNR = 999_999_999
OFFER = f"relp_version=0\nrelp_software=podkit-log-streamer,{__version__}\ncommands=syslog".encode()


class RelpError(OutputError):
    """The RELP session broke or the server refused something."""


class RelpSession:
    """One RELP connection: open, numbered commands, responses matched by transaction number."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.txnr = 0
        self.pending: dict[int, asyncio.Future[str]] = {}
        self.window = asyncio.Semaphore(WINDOW)
        self.closed = False
        self._reader_task = asyncio.ensure_future(self._read_responses())

    def _next(self) -> int:
        self.txnr = 1 if self.txnr >= _MAX_TXNR else self.txnr + 1
        return self.txnr

    def command(self, name: bytes, data: bytes) -> asyncio.Future[str]:
        """Write one command; the future resolves to the response's data."""
        if self.closed:
            raise RelpError("RELP session closed")
        txnr = self._next()
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self.pending[txnr] = future
        if data:
            self.writer.write(b"%d %s %d %s\n" % (txnr, name, len(data), data))
        else:
            self.writer.write(b"%d %s 0\n" % (txnr, name))
        return future

    async def _read_responses(self) -> None:
        error: BaseException = RelpError("the server closed the RELP session")
        try:
            while True:
                header = await self.reader.readuntil(b" ")
                command = await self.reader.readuntil(b" ")
                length_text = b""
                while True:
                    ch = await self.reader.readexactly(1)
                    if ch in (b" ", b"\n"):
                        break
                    length_text += ch
                length = int(length_text)
                data = await self.reader.readexactly(length) if length else b""
                if length and await self.reader.readexactly(1) != b"\n":
                    raise RelpError("RELP frame without its trailing newline")
                txnr = int(header)
                name = command.strip()
                if name == b"serverclose":
                    error = RelpError("the server closed the RELP session (serverclose)")
                    break
                if name != b"rsp":
                    raise RelpError(f"unexpected RELP command {name!r} from the server")
                future = self.pending.pop(txnr, None)
                if future is not None and not future.done():
                    future.set_result(data.decode("utf-8", "replace"))
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, OSError):
            pass
        except (RelpError, ValueError) as exc:
            error = exc if isinstance(exc, RelpError) else RelpError(f"bad RELP frame: {exc}")
        self.closed = True
        for future in self.pending.values():
            if not future.done():
                future.set_exception(error)
        self.pending.clear()

    async def open(self) -> str:
        reply = await asyncio.wait_for(self.command(b"open", OFFER), ACK_TIMEOUT)
        if not reply.startswith("200"):
            raise RelpError(f"RELP open refused: {reply.splitlines()[0] if reply else ''}")
        if "commands=syslog" not in reply:
            raise RelpError("the RELP server does not offer the syslog command")
        return reply

    async def close(self) -> None:
        if not self.closed:
            with contextlib.suppress(RelpError, OSError, TimeoutError, ConnectionError):
                future = self.command(b"close", b"")
                await self.writer.drain()
                await asyncio.wait_for(future, 2.0)
        self.closed = True
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
        now = time.time()
        futures: list[asyncio.Future[str]] = []
        try:
            for record in batch:
                await session.window.acquire()
                future = session.command(b"syslog", self.rfc.message(record, now))
                future.add_done_callback(lambda _f: session.window.release())
                futures.append(future)
                if len(futures) % 64 == 0:
                    await session.writer.drain()
            await session.writer.drain()
            replies = await asyncio.wait_for(asyncio.gather(*futures), ACK_TIMEOUT)
        except (RelpError, OSError, ConnectionError, TimeoutError) as exc:
            for future in futures:
                future.cancel()
            self._error = one_line(exc) or "no acknowledgement in time"
            await session.close()
            raise RelpError(f"RELP to {self.name} failed: {self._error}") from None
        refused = [reply for reply in replies if not reply.startswith("200")]
        if refused:
            self._error = refused[0]
            await session.close()
            raise RelpError(f"{self.name} refused {len(refused)} records: {refused[0]}")
        self._error = None
        return 0

    def reachable(self) -> bool | str:
        return True if self._error is None else self._error

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()
            self.session = None
