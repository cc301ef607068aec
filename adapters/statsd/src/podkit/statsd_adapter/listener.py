"""Sockets that receive StatsD: UDP, TCP and Unix datagram listeners on asyncio.

Each listener hands bytes to one callback, ``on_data(data)``: a datagram as it came, or for TCP
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


class _Datagrams(asyncio.DatagramProtocol):
    def __init__(self, on_data: DataCallback, count: Callable[[], None]) -> None:
        self.on_data = on_data
        self.count = count

    def datagram_received(self, data: bytes, addr: object) -> None:
        self.count()
        self.on_data(data)

    def error_received(self, exc: Exception) -> None:
        log.warning("datagram socket error", error=str(exc))


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
        self._transport: asyncio.DatagramTransport | None = None

    def _count(self) -> None:
        self.stats.udp_packets += 1

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
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
        self._transport, _ = await loop.create_datagram_endpoint(
            lambda: _Datagrams(self.on_data, self._count), sock=sock
        )

    @property
    def port(self) -> int:
        assert self._transport is not None
        return int(self._transport.get_extra_info("sockname")[1])

    def kernel_drops(self) -> int | None:
        """Datagrams the kernel dropped for this socket (its receive buffer was full)."""
        if self._transport is None:
            return None
        sock = self._transport.get_extra_info("socket")
        return socket_drops(sock.fileno()) if sock is not None else None

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None


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
        self._transport: asyncio.DatagramTransport | None = None

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
        loop = asyncio.get_running_loop()
        self._transport, _ = await loop.create_datagram_endpoint(
            lambda: _Datagrams(self.on_data, self._count), sock=sock
        )

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None
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
