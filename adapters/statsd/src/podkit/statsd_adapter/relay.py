"""Relaying every received StatsD line, unchanged, to another StatsD over UDP.

statsd_exporter's ``--statsd.relay.address``: lines are batched into packets of at most
``--statsd.relay.packet-length`` bytes and sent when the next line would not fit or, at the
latest, a second after the first line was buffered. A single line longer than a packet is
dropped and counted. Sending never blocks the listener: a send error is counted and the packet
is dropped (StatsD over UDP promises no more).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket

from podkit.core import HostPort, get_logger

__all__ = ["Relay"]

log = get_logger("podkit.statsd_adapter.relay")


class Relay:
    """Batches lines into UDP packets for ``target``."""

    def __init__(self, target: HostPort, packet_length: int, flush_interval: float = 1.0) -> None:
        self.target = target
        self.packet_length = packet_length
        self.flush_interval = flush_interval
        self.lines_relayed = 0
        self.long_lines = 0
        self.send_errors = 0
        self._buffer = bytearray()
        self._sock: socket.socket | None = None
        self._flusher: asyncio.TimerHandle | None = None

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        infos = await loop.getaddrinfo(
            self.target.host or "127.0.0.1", self.target.port, type=socket.SOCK_DGRAM
        )
        family, kind, proto, _, address = infos[0]
        sock = socket.socket(family, kind, proto)
        sock.setblocking(False)
        sock.connect(address)
        self._sock = sock

    def relay(self, packet: bytes) -> None:
        """Queue every non-empty line of ``packet``."""
        for line in packet.split(b"\n"):
            if not line:
                continue
            if len(line) + 1 > self.packet_length:
                self.long_lines += 1
                continue
            if len(self._buffer) + len(line) + 1 > self.packet_length:
                self.flush()
            self._buffer += line
            self._buffer += b"\n"
            self.lines_relayed += 1
        if self._buffer and self._flusher is None:
            loop = asyncio.get_running_loop()
            self._flusher = loop.call_later(self.flush_interval, self.flush)

    def flush(self) -> None:
        if self._flusher is not None:
            self._flusher.cancel()
            self._flusher = None
        if not self._buffer or self._sock is None:
            return
        try:
            self._sock.send(self._buffer)
        except OSError as exc:  # the relay target is down or the buffer is full: drop
            self.send_errors += 1
            log.debug("relay send failed", target=str(self.target), error=str(exc))
        self._buffer.clear()

    def close(self) -> None:
        self.flush()
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.close()
            self._sock = None
