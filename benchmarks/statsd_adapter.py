"""StatsD adapter throughput, loss and scrape cost, beside a bare asyncio UDP sink.

Run: ``uv run python benchmarks/statsd_adapter.py [--quick] [--baseline REV]``. One run prints,
side by side, for this tree's adapter, the adapter as it was at ``--baseline`` (default: the
commit before the memoizing pipeline, "today" in issue 12; its sources are taken with
``git archive``) and a bare asyncio UDP sink that only counts lines (the ceiling of any Python
receiver on this machine):

* the highest rate of 20-line UDP packets (lines/s) each takes with zero loss, found by a search
  over rates (the Python sender tops out near 1M lines/s here, which caps every figure);
* the CPU each uses per line at a fixed 20k lines/s, where none loses anything (user + system
  time of the receiver process, from /proc): ``--rounds`` rounds (3) taken in turn across the
  receivers, each printed, the median compared;
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
import tempfile
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


BASELINE = "670e8d5"  # main before the memoizing pipeline (issue 12's "today")


def baseline_sources(revision: str, into: Path) -> str:
    """The adapter and core sources at ``revision``, unpacked under ``into``; a PYTHONPATH."""
    archive = subprocess.run(
        ["git", "archive", revision, "adapters/statsd/src", "core/src"],
        cwd=ROOT, capture_output=True, check=True,
    ).stdout  # fmt: skip
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return f"{into / 'adapters/statsd/src'}{os.pathsep}{into / 'core/src'}"


class Receiver:
    """Either the adapter or the bare sink; reports how many lines it has taken in.

    ``pythonpath`` runs the adapter from other sources (the baseline revision).
    """

    def __init__(self, kind: str, pythonpath: str | None = None) -> None:
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
        env = dict(os.environ)
        if pythonpath:
            env["PYTHONPATH"] = pythonpath
        self.proc = subprocess.Popen(pinned(0, argv), cwd=ROOT, env=env)
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

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

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


def lossless_trial(
    receiver: Receiver, rate: float, seconds: float
) -> tuple[int, int, int | None, int, float]:
    """A trial, tried once more when it lost lines: on a shared machine one hiccup of the
    scheduler can drop a burst at any rate, and only a repeatable loss says the rate is too high.
    """
    result = trial(receiver, rate, seconds)
    if result[1] < result[0]:
        result = trial(receiver, rate, seconds)
    return result


def lossless_rate(receiver: Receiver, seconds: float, ceiling: float) -> float:
    """The highest achieved rate (lines/s) with zero loss, by doubling and then bisecting.

    Rates are what the sender really achieved, so a sender that cannot keep up does not
    inflate the figure.
    """
    low, high, best = 0.0, 25_000.0, 0.0
    while high <= ceiling:
        sent, received, _, _, achieved = lossless_trial(receiver, high, seconds)
        if received < sent:
            break
        low, high, best = high, high * 2, max(best, achieved)
    else:
        return best
    for _ in range(4):
        middle = (low + high) / 2
        sent, received, _, _, achieved = lossless_trial(receiver, middle, seconds)
        if received < sent:
            high = middle
        else:
            low, best = middle, max(best, achieved)
    return best


def cpu_per_line(receiver: Receiver, rate: float, seconds: float) -> float:
    """Microseconds of receiver CPU per line at a fixed ``rate`` it takes without loss.

    CPU is read just before the sender starts and just after it ends (plus a short drain), so
    the scrapes that count lines, which cost the adapter CPU too, stay out of the figure.
    """
    trial(receiver, rate, 0.5)  # warm up: the adapter learns the line shapes
    before_lines = receiver.lines()
    before = receiver.cpu_seconds()
    out = subprocess.run(
        pinned(1, [sys.executable, "-c", SENDER, str(receiver.udp), str(rate), str(seconds)]),
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    time.sleep(0.3)  # at this rate the socket is drained long before
    used = receiver.cpu_seconds() - before
    sent = int(out.stdout.split()[0])
    received = receiver.lines() - before_lines
    if received < sent:
        print(f"  (lost {sent - received} lines at {rate:,.0f} lines/s)")
    return used / max(received, 1) * 1e6


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
    parser.add_argument("--baseline", default=BASELINE, help="revision to compare with")
    parser.add_argument("--rounds", type=int, default=3, help="CPU-per-line rounds per receiver")
    args = parser.parse_args()
    seconds = 1.0 if args.quick else 2.0
    os.environ.setdefault("PYTHONUNBUFFERED", "1")

    with tempfile.TemporaryDirectory() as tmp:
        receivers = {
            "bare asyncio UDP sink (reference)": ("sink", None),
            f"adapter at {args.baseline} (today)": ("adapter", baseline_sources(args.baseline, Path(tmp))),
            "adapter, this tree": ("adapter", None),
        }  # fmt: skip
        rates: dict[str, float] = {}
        cpu: dict[str, float] = {}
        started = {label: Receiver(kind, path) for label, (kind, path) in receivers.items()}
        try:
            # CPU per line: rounds taken in turn, so a change of load on a shared machine hits
            # every receiver alike; the median counts and the spread is printed
            samples: dict[str, list[float]] = {label: [] for label in receivers}
            for _ in range(args.rounds):
                for label, receiver in started.items():
                    samples[label].append(cpu_per_line(receiver, 20_000, seconds * 2))
            for label, values in samples.items():
                cpu[label] = statistics.median(values)
                spread = ", ".join(f"{value:.2f}" for value in values)
                print(f"  CPU us/line @20k/s, {label}: {spread}")
            for label, receiver in started.items():
                rates[label] = lossless_rate(receiver, seconds, ceiling=SENDER_CEILING)
                if label == "adapter, this tree":
                    sent, received, drops, snmp, pushed = trial(receiver, 2 * rates[label], seconds)
        finally:
            for receiver in started.values():
                receiver.stop()
    print("\nStatsD over UDP loopback, 20-line packets, receiver pinned to one core")
    print(f"{'receiver':<40}{'lossless lines/s':>18}{'CPU us/line @20k/s (median)':>31}")
    for label in receivers:
        print(f"{label:<40}{rates[label]:>18,.0f}{cpu[label]:>31.2f}")
    today, now = list(receivers)[1], list(receivers)[2]
    print(f"this tree / today: lossless rate x{rates[now] / max(rates[today], 1):.2f} "
          f"(target >= 2), CPU per line x{cpu[now] / max(cpu[today], 1e-9):.2f} (target <= 0.6); "
          f"sender limit {SENDER_CEILING:,.0f} lines/s")  # fmt: skip
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
