"""StatsD adapter throughput, loss and scrape cost, beside a bare asyncio UDP sink.

Run: ``uv run python benchmarks/statsd_adapter.py [--quick]``. One run prints, side by side:

* the highest rate of 20-line UDP packets (lines/s) the adapter takes with zero loss, found by
  a search over rates, and the same figure for a reference receiver in this run (a bare asyncio
  UDP socket that only counts lines, the ceiling of any Python receiver on this machine);
* the loss at twice the adapter's lossless rate, split into what the kernel dropped (the
  socket's drops in /proc/net/udp, and Udp RcvbufErrors in /proc/net/snmp) and what the adapter
  lost after reading;
* ``/metrics`` scrape time (median of 5) and the adapter's RSS with 10k and 100k series.

The receiver runs on core 0 and the sender on core 1 (``taskset``), so "one core" means it.
Nothing here is asserted; the numbers are for people.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from support.ports import free_port, wait_for_port  # noqa: E402 - the tests' port helpers

LINES_PER_PACKET = 20
SENDER_CEILING = 1_600_000  # lines/s asked of the sender at most; the search stops there
SINK = textwrap.dedent(
    """
    import asyncio, sys
    count = 0
    class P(asyncio.DatagramProtocol):
        def datagram_received(self, data, addr):
            global count
            count += data.count(b"\\n") + 1
    async def main():
        loop = asyncio.get_running_loop()
        await loop.create_datagram_endpoint(P, local_addr=("127.0.0.1", int(sys.argv[1])))
        async def report(reader, writer):
            writer.write(f"{count}\\n".encode()); await writer.drain(); writer.close()
        server = await asyncio.start_server(report, "127.0.0.1", int(sys.argv[2]))
        await asyncio.Event().wait()
    try:
        import uvloop; uvloop.run(main())
    except ImportError:
        asyncio.run(main())
    """
)


def pinned(core: int, argv: list[str]) -> list[str]:
    return ["taskset", "-c", str(core), *argv] if shutil.which("taskset") else argv


def snmp_rcvbuf_errors() -> int:
    text = Path("/proc/net/snmp").read_text()
    header, values = [line.split() for line in text.splitlines() if line.startswith("Udp:")][:2]
    return int(values[header.index("RcvbufErrors")])


class Receiver:
    """Either the adapter or the bare sink; reports how many lines it has taken in."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.udp = free_port(socket.SOCK_DGRAM)
        self.web = free_port()
        if kind == "adapter":
            argv = [
                sys.executable, "-m", "podkit.statsd_adapter.cli",
                f"--statsd.listen-udp=127.0.0.1:{self.udp}", "--statsd.listen-tcp=",
                f"--web.listen-address=127.0.0.1:{self.web}", "--log.level=warning",
                "--statsd.read-buffer=8MiB",
            ]  # fmt: skip
        else:
            argv = [sys.executable, "-c", SINK, str(self.udp), str(self.web)]
        self.proc = subprocess.Popen(pinned(0, argv), cwd=ROOT)
        wait_for_port(self.web, timeout=20)

    def metrics(self) -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.web}/metrics", timeout=60) as r:
            return r.read().decode()

    def lines(self) -> int:
        if self.kind == "adapter":
            match = re.search(r"^statsd_exporter_lines_total (\S+)$", self.metrics(), re.M)
            return int(float(match.group(1))) if match else 0
        with socket.create_connection(("127.0.0.1", self.web), timeout=5) as sock:
            return int(sock.makefile().readline())

    def kernel_drops(self) -> int | None:
        if self.kind != "adapter":
            return None
        match = re.search(r"^statsd_exporter_udp_packet_drops_total (\S+)$", self.metrics(), re.M)
        return int(float(match.group(1))) if match else None

    def rss_mib(self) -> float:
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        return int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024  # type: ignore[union-attr]

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


SENDER = textwrap.dedent(
    """
    import socket, sys, time
    port, rate, seconds = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
    lines = []
    for i in range(20):
        kind = i % 4
        if kind == 0: lines.append(f"app.handler{i % 5}.requests:1|c")
        elif kind == 1: lines.append(f"app.handler{i % 5}.latency:{i}|ms")
        elif kind == 2: lines.append(f"users.online:{i}|g|#region:eu")
        else: lines.append(f"jobs.done:{i}|c|@0.5")
    packet = "\\n".join(lines).encode()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.connect(("127.0.0.1", port))
    packets_per_second = rate / 20
    total = int(packets_per_second * seconds)
    start = time.perf_counter(); sent = 0
    while sent < total:
        due = int((time.perf_counter() - start) * packets_per_second) + 1
        while sent < min(due, total):
            sock.send(packet); sent += 1
        time.sleep(0.0005)
    print(sent * 20, time.perf_counter() - start)
    """
)


def trial(
    receiver: Receiver, rate: float, seconds: float
) -> tuple[int, int, int | None, int, float]:
    """Send at ``rate`` lines/s; returns (sent, received, socket drops, snmp drops, achieved rate)."""
    before = receiver.lines()
    drops_before = receiver.kernel_drops()
    snmp_before = snmp_rcvbuf_errors()
    out = subprocess.run(
        pinned(1, [sys.executable, "-c", SENDER, str(receiver.udp), str(rate), str(seconds)]),
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    sent_text, elapsed = out.stdout.split()
    sent = int(sent_text)
    last, stable = -1, 0
    while stable < 3:  # wait until the receiver has drained its socket
        time.sleep(0.2)
        now = receiver.lines()
        stable = stable + 1 if now == last else 0
        last = now
    drops_after = receiver.kernel_drops()
    drops = None if drops_before is None or drops_after is None else drops_after - drops_before
    achieved = sent / max(float(elapsed), 1e-9)
    return sent, last - before, drops, snmp_rcvbuf_errors() - snmp_before, achieved


def lossless_rate(receiver: Receiver, seconds: float, ceiling: float) -> float:
    """The highest achieved rate (lines/s) with zero loss, by doubling and then bisecting.

    Rates are what the sender really achieved, so a sender that cannot keep up does not
    inflate the figure.
    """
    low, high, best = 0.0, 25_000.0, 0.0
    while high <= ceiling:
        sent, received, _, _, achieved = trial(receiver, high, seconds)
        if received < sent:
            break
        low, high, best = high, high * 2, max(best, achieved)
    else:
        return best
    for _ in range(4):
        middle = (low + high) / 2
        sent, received, _, _, achieved = trial(receiver, middle, seconds)
        if received < sent:
            high = middle
        else:
            low, best = middle, max(best, achieved)
    return best


def flood_series(receiver: Receiver, count: int) -> None:
    target = receiver.lines() + count
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for start in range(0, count, LINES_PER_PACKET):
        lines = [f"series.n{i}:1|c" for i in range(start, min(start + LINES_PER_PACKET, count))]
        sock.sendto("\n".join(lines).encode(), ("127.0.0.1", receiver.udp))
        if start % 2000 == 0:
            time.sleep(0.002)
    sock.close()
    deadline = time.monotonic() + 60
    while receiver.lines() < target and time.monotonic() < deadline:
        time.sleep(0.2)


def scrape_seconds(receiver: Receiver) -> float:
    times = []
    for _ in range(5):
        start = time.perf_counter()
        receiver.metrics()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter trials (noisier)")
    args = parser.parse_args()
    seconds = 1.0 if args.quick else 2.0
    os.environ.setdefault("PYTHONUNBUFFERED", "1")

    results: dict[str, float] = {}
    for kind in ("sink", "adapter"):
        receiver = Receiver(kind)
        try:
            results[kind] = lossless_rate(receiver, seconds, ceiling=SENDER_CEILING)
            if kind == "adapter":
                sent, received, drops, snmp, pushed = trial(receiver, 2 * results[kind], seconds)
        finally:
            receiver.stop()
    print("\nStatsD over UDP loopback, 20-line packets, receiver pinned to one core")
    print(f"{'receiver':<34}{'lossless lines/s':>18}   (sender limit {SENDER_CEILING:,.0f})")
    print(f"{'bare asyncio UDP sink (reference)':<34}{results['sink']:>18,.0f}")
    print(f"{'podkit-statsd-adapter':<34}{results['adapter']:>18,.0f}")
    print(f"ratio adapter / sink: {results['adapter'] / max(results['sink'], 1):.2f}"
          f"   (target: >= 150,000 lines/s)")  # fmt: skip
    lost = sent - received
    print(f"\nat 2x ({pushed:,.0f} lines/s achieved): sent {sent:,} lines, lost {lost:,} "
          f"({lost / max(sent, 1):.1%}); kernel drops: {drops} packets on the adapter's socket, "
          f"{snmp} RcvbufErrors system-wide; adapter drops after reading: "
          f"{max(0, lost - (drops or 0) * LINES_PER_PACKET):,} lines")  # fmt: skip

    print(f"\n{'series':>8}{'scrape (median of 5)':>24}{'RSS MiB':>10}")
    receiver = Receiver("adapter")
    try:
        for count in (10_000, 100_000):
            flood_series(receiver, count)
            print(
                f"{count:>8,}{scrape_seconds(receiver) * 1000:>21.0f} ms{receiver.rss_mib():>10.0f}"
            )
        print("(target: a scrape of 100k series under 1 s)")
    finally:
        receiver.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
