"""The datagram listeners' batched reading: every datagram handed on, whole and in order,
whether traffic is sparse, bursty or idle in between, and a failing handler loses only its own
datagram."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

from podkit.core import HostPort
from podkit.statsd_adapter.listener import ListenerStats, UdpListener, UnixgramListener
from tests.support.waits import async_wait_until


async def test_sparse_bursty_and_idle_udp_traffic_arrives_whole_and_in_order() -> None:
    received: list[bytes] = []
    stats = ListenerStats()
    listener = UdpListener(HostPort("127.0.0.1", 0), received.append, stats)
    await listener.start()
    sent: list[bytes] = []
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.connect(("127.0.0.1", listener.port))
            for index in range(5):  # sparse: one datagram at a time
                sent.append(f"sparse.{index}:1|c".encode())
                sock.send(sent[-1])
                await asyncio.sleep(0.01)
            for index in range(100):  # a burst, more than one read batch
                sent.append(f"burst.{index}:1|c".encode())
                sock.send(sent[-1])
            await async_wait_until(lambda: len(received) == len(sent), timeout=5)
            await asyncio.sleep(0.05)  # idle: the listener goes back to waiting
            sent.append(b"after.idle:1|c")
            sock.send(sent[-1])
            await async_wait_until(lambda: len(received) == len(sent), timeout=5)
    finally:
        listener.close()
    assert received == sent
    assert stats.udp_packets == len(sent)


async def test_a_large_unix_datagram_arrives_whole_and_a_failing_handler_loses_only_it(
    tmp_path: Path,
) -> None:
    received: list[bytes] = []

    def handle(data: bytes) -> None:
        if data == b"boom":
            raise RuntimeError("bad packet")
        received.append(data)

    stats = ListenerStats()
    path = tmp_path / "statsd.sock"
    listener = UnixgramListener(str(path), 0o755, handle, stats)
    await listener.start()
    big = b"\n".join(f"big.{index}:1|c".encode() for index in range(8000))
    assert len(big) > 65536
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
            sock.connect(str(path))
            for payload in (b"first:1|c", b"boom", big, b"last:1|c"):
                sock.send(payload)
            await async_wait_until(lambda: len(received) == 3, timeout=5)
    finally:
        listener.close()
    assert received == [b"first:1|c", big, b"last:1|c"]
    assert stats.unixgram_packets == 4
    assert not path.exists()
