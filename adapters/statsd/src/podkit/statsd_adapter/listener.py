"""Sockets that receive StatsD: UDP, TCP and Unix datagram listeners on asyncio.

Each listener hands bytes to one callback, ``on_data(data)``: a datagram as it came (datagram
sockets are drained in batches, several datagrams per wake-up of the loop), or for TCP
a block of complete lines joined by ``\n`` (no trailing newline, so every line in it counts
once, as statsd_exporter counts lines). Each counts what statsd_exporter counts for it (packets,
connections, connection errors, over-long TCP lines).

TCP follows statsd_exporter's ``bufio.Reader.ReadLine`` with its 4096-byte buffer: a line ends
in ``\n`` or ``\r\n``; a line that does not fit in the buffer with its ``\n`` is counted in
``tcp_too_long_lines_total`` and closes the connection (the lines before it are kept), so a
client that sends forever without a newline is cut off too; a last line without a newline is
taken when the client closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import Callable
from pathlib import Path

from podkit.core import HostPort, get_logger

__all__ = ["DEFAULT_TCP_BUFFER", "ListenerStats", "TcpListener", "UdpListener", "UnixgramListener"]

log = get_logger("podkit.statsd_adapter.listener")
DataCallback = Callable[[bytes], None]


class ListenerStats:
    """Plain counters the exporter turns into statsd_exporter's listener metrics."""

    __slots__ = (
        "tcp_connection_errors",
        "tcp_connections",
        "tcp_too_long_lines",
        "udp_packets",
        "unixgram_packets",
    )

    def __init__(self) -> None:
        self.udp_packets = 0
        self.unixgram_packets = 0
        self.tcp_connections = 0
        self.tcp_connection_errors = 0
        self.tcp_too_long_lines = 0


#: the most datagrams one wake-up reads before the loop runs its other callbacks
_BATCH = 64
#: a wake-up that found fewer datagrams than this means sparse traffic: the next read waits
#: ``_GATHER`` seconds so that several datagrams are read per wake-up (StatsD is aggregated,
#: so a couple of milliseconds of delay change nothing a scrape can see)
_SPARSE = 8
_GATHER = 0.002
#: the largest datagram read whole (asyncio's limit; a UDP payload is at most 65,507 bytes)
_DATAGRAM_MAX = 256 * 1024


class _DatagramReader:
    """Reads a non-blocking datagram socket in batches and hands each datagram on.

    Idle, it waits for the socket to become readable; then it drains what is queued (up to
    ``_BATCH``). Traffic too sparse to queue several datagrams per wake-up is read every
    ``_GATHER`` seconds instead, until a read finds nothing (idle again) or plenty (busy: read
    as soon as the socket is readable). Every datagram is handed on, in order, as it came.
    """

    def __init__(
        self, sock: socket.socket, on_data: DataCallback, count: Callable[[], None]
    ) -> None:
        self.sock = sock
        self.on_data = on_data
        self.count = count
        self._loop = asyncio.get_running_loop()
        self._timer: asyncio.TimerHandle | None = None
        self._reading = False
        self._view = memoryview(bytearray(_DATAGRAM_MAX))
        sock.setblocking(False)
        self._watch()

    def _watch(self) -> None:
        self._loop.add_reader(self.sock.fileno(), self._readable)
        self._reading = True

    def _readable(self) -> None:
        if 0 < self._drain() < _SPARSE:
            self._loop.remove_reader(self.sock.fileno())
            self._reading = False
            self._timer = self._loop.call_later(_GATHER, self._tick)

    def _tick(self) -> None:
        self._timer = None
        read = self._drain()
        if read == 0 or read >= _SPARSE:
            self._watch()
        else:
            self._timer = self._loop.call_later(_GATHER, self._tick)

    def _drain(self) -> int:
        recv_into = self.sock.recv_into
        view = self._view
        count = self.count
        on_data = self.on_data
        read = 0
        while read < _BATCH:
            try:
                size = recv_into(view)
            except (BlockingIOError, InterruptedError):
                break
            except OSError as exc:  # e.g. an ICMP error reported on the socket
                log.warning("datagram socket error", error=str(exc))
                break
            read += 1
            count()
            try:
                on_data(view[:size].tobytes())
            except Exception:  # one bad packet never stops the reading
                log.exception("datagram handling failed")
        return read

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._reading:
            self._loop.remove_reader(self.sock.fileno())
            self._reading = False
        self.sock.close()


def _set_receive_buffer(sock: socket.socket | None, size: int) -> None:
    if sock is not None and size > 0:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, size)


class UdpListener:
    """Reads StatsD packets from a UDP socket."""

    def __init__(
        self, address: HostPort, on_data: DataCallback, stats: ListenerStats, read_buffer: int = 0
    ) -> None:
        self.address = address
        self.on_data = on_data
        self.stats = stats
        self.read_buffer = read_buffer
        self._reader: _DatagramReader | None = None

    def _count(self) -> None:
        self.stats.udp_packets += 1

    async def start(self) -> None:
        family = socket.AF_INET6 if ":" in self.address.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            sock.bind(
                (
                    self.address.host or ("::" if family == socket.AF_INET6 else "0.0.0.0"),  # noqa: S104 - an empty host means every interface, as in Go
                    self.address.port,
                )
            )
        except OSError as exc:
            sock.close()
            raise OSError(
                exc.errno, f"cannot listen on udp {self.address}: {exc.strerror}"
            ) from None
        _set_receive_buffer(sock, self.read_buffer)
        self._reader = _DatagramReader(sock, self.on_data, self._count)

    @property
    def port(self) -> int:
        assert self._reader is not None
        return int(self._reader.sock.getsockname()[1])

    def kernel_drops(self) -> int | None:
        """Datagrams the kernel dropped for this socket (its receive buffer was full)."""
        if self._reader is None:
            return None
        return socket_drops(self._reader.sock.fileno())

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None


def socket_drops(fd: int) -> int | None:
    """The ``drops`` column of /proc/net/udp{,6} for the socket behind ``fd`` (Linux only)."""
    try:
        inode = str(os.fstat(fd).st_ino)
        for table in ("/proc/net/udp", "/proc/net/udp6"):
            with open(table, encoding="ascii") as rows:
                next(rows)
                for row in rows:
                    fields = row.split()
                    if len(fields) > 12 and fields[9] == inode:
                        return int(fields[12])
    except (OSError, ValueError, StopIteration):
        return None
    return None


class UnixgramListener:
    """Reads StatsD packets from a Unix datagram socket at ``path`` (created with ``mode``)."""

    def __init__(
        self,
        path: str,
        mode: int,
        on_data: DataCallback,
        stats: ListenerStats,
        read_buffer: int = 0,
    ) -> None:
        self.path = Path(path)
        self.mode = mode
        self.on_data = on_data
        self.stats = stats
        self.read_buffer = read_buffer
        self._reader: _DatagramReader | None = None

    def _count(self) -> None:
        self.stats.unixgram_packets += 1

    async def start(self) -> None:
        if self.path.is_socket():
            self.path.unlink()  # left over from a process that was killed
        elif self.path.exists():
            raise OSError(f"cannot listen on {self.path}: it exists and is not a socket")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            sock.bind(str(self.path))
        except OSError as exc:
            sock.close()
            raise OSError(exc.errno, f"cannot listen on {self.path}: {exc.strerror}") from None
        os.chmod(self.path, self.mode)
        _set_receive_buffer(sock, self.read_buffer)
        self._reader = _DatagramReader(sock, self.on_data, self._count)

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()


#: statsd_exporter's TCP read buffer (bufio's default size).
DEFAULT_TCP_BUFFER = 4096


class TcpListener:
    """Reads newline-separated StatsD lines from TCP connections."""

    def __init__(
        self, address: HostPort, on_data: DataCallback, stats: ListenerStats, max_line: int
    ) -> None:
        self.address = address
        self.on_data = on_data
        self.stats = stats
        self.max_line = max_line
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        try:
            self._server = await asyncio.start_server(
                self._serve,
                self.address.bind_host,
                self.address.port,
                reuse_address=True,
            )
        except OSError as exc:
            raise OSError(
                exc.errno, f"cannot listen on tcp {self.address}: {exc.strerror}"
            ) from None

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.stats.tcp_connections += 1
        self._connections.add(writer)
        pending = b""
        limit = self.max_line
        try:
            while chunk := await reader.read(65536):
                pending += chunk
                cut = pending.rfind(b"\n")
                if cut >= 0:
                    complete, pending = pending[:cut], pending[cut + 1 :]
                    if not self._lines(complete, limit):
                        return
                if len(pending) >= limit:
                    self._too_long()
                    return
            if pending:
                self.on_data(pending)
        except (ConnectionError, OSError) as exc:
            self.stats.tcp_connection_errors += 1
            log.debug("tcp connection error", error=str(exc))
        finally:
            self._connections.discard(writer)
            writer.close()

    def _lines(self, block: bytes, limit: int) -> bool:
        """Hand on ``\n``-terminated lines (their newlines cut off); False at a too-long line."""
        if len(block) >= limit:
            lines = block.split(b"\n")
            for index, line in enumerate(lines):
                if len(line) >= limit:
                    if index:
                        self._lines(b"\n".join(lines[:index]), limit)
                    self._too_long()
                    return False
        if b"\r" in block:
            block = block.replace(b"\r\n", b"\n")
            if block.endswith(b"\r"):
                block = block[:-1]
        self.on_data(block)
        return True

    def _too_long(self) -> None:
        self.stats.tcp_too_long_lines += 1
        log.debug("tcp line too long; closing the connection", buffer=self.max_line)

    def close(self) -> None:
        """Stop accepting; open connections are closed too (StatsD has no replies to wait for)."""
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._connections):
            writer.close()
