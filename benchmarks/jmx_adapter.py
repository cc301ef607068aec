"""JMX adapter: a full scrape against the floor of the JMX round trips, at ~300 and ~5,000 attributes.

Run: ``uv run python benchmarks/jmx_adapter.py [--quick]``. For each size it starts the tests'
JMX target (``tests/jmx_adapter/java/PodkitTestApp.java``: its own beans, the JVM's platform
beans, and ``podkit.extraBeans`` beans of ``podkit.extraAttributes`` attributes each), then:

* the floor: ``benchmarks/java/JmxFloor.java``, a bare Java client on one persistent connection
  that reads the same attributes with one ``getAttributes`` call per MBean and nothing else
  (both leave out the tests' one bean whose bulk read fails on purpose);
* the adapter, embedded, with the persistent backend and the default rule (every attribute):
  one full scrape (helper JVM read, rule matching, families) and the rendering of ``/metrics``.

Rounds alternate between the two after a warm-up, so both see the same machine load. It prints
the median times and their ratio (the target is at most 1.3x the floor), and beside them the
resident memory of the adapter (the Python process and its helper JVM) and of the target JVM.
Nothing is asserted; the numbers are for people.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from prometheus_client.exposition import generate_latest

from podkit.core import HostPort
from podkit.jmx_adapter.service import JmxAdapter
from podkit.jmx_adapter.settings import JmxSettings

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.support.ports import free_port  # noqa: E402 - the tests' port helper

APP = ROOT / "tests" / "jmx_adapter" / "java" / "PodkitTestApp.java"
FLOOR = ROOT / "benchmarks" / "java" / "JmxFloor.java"
SIZES = {"~300 attributes": (10, 10), "~5,000 attributes": (480, 10)}
# the tests' bean whose getAttributes fails on purpose (an application class): the adapter then
# reads it attribute by attribute, as jmx_exporter does, which is not what the floor measures
EXCLUDED = "podkit.test:type=Simple,*"


def rss_mb(pid: int | None) -> float:
    if pid is None:
        return 0.0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def start_target(classes: Path, beans: int, attrs: int) -> tuple[subprocess.Popen[str], int]:
    port = free_port()
    proc = subprocess.Popen(
        [
            "java",
            "-XX:+UseSerialGC",
            "-cp",
            str(classes),
            f"-Dcom.sun.management.jmxremote.port={port}",
            f"-Dcom.sun.management.jmxremote.rmi.port={port}",
            "-Dcom.sun.management.jmxremote.host=127.0.0.1",
            "-Djava.rmi.server.hostname=127.0.0.1",
            "-Dcom.sun.management.jmxremote.authenticate=false",
            "-Dcom.sun.management.jmxremote.ssl=false",
            f"-Dpodkit.extraBeans={beans}",
            f"-Dpodkit.extraAttributes={attrs}",
            "PodkitTestApp",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    if proc.stdout.readline().strip() != "READY":
        os.kill(proc.pid, signal.SIGKILL)
        raise SystemExit("the target JVM did not start")
    return proc, port


class Floor:
    """The bare Java client, driven one round per line."""

    def __init__(self, classes: Path, url: str) -> None:
        self.proc = subprocess.Popen(
            ["java", "-cp", str(classes), "JmxFloor", url, EXCLUDED],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        ready = self.proc.stdout.readline().split()
        self.beans, self.attributes = int(ready[1]), int(ready[2])

    def round(self) -> float:
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()
        return int(self.proc.stdout.readline().split()[0]) / 1e9

    def stop(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()


async def measure(
    classes: Path, work: Path, beans: int, attrs: int, rounds: int
) -> dict[str, float]:
    target, port = start_target(classes, beans, attrs)
    floor = Floor(classes, f"service:jmx:rmi:///jndi/rmi://127.0.0.1:{port}/jmxrmi")
    config = work / "jmx.yaml"
    config.write_text(f"hostPort: 127.0.0.1:{port}\nexcludeObjectNames: ['{EXCLUDED}']\n")
    settings = JmxSettings(
        config_file=config,
        listen=None,
        admin_listen=HostPort("127.0.0.1", 0),
        scrape_interval=0,
        scrape_timeout=60,
        config_poll_interval=0,
        helper_cache_dir=str(work / "helper"),
    )
    try:
        async with JmxAdapter(settings) as adapter:
            ours: list[float] = []
            theirs: list[float] = []
            samples = 0
            for i in range(rounds + rounds // 3):  # the first third warms both JITs up
                floor_time = floor.round()
                start = time.perf_counter()
                result = await adapter.scraper.scrape()
                body = generate_latest(adapter.registry)
                elapsed = time.perf_counter() - start
                assert not result.error, result.reason
                samples = sum(len(f.samples) for f in result.families)
                if i >= rounds // 3:
                    ours.append(elapsed)
                    theirs.append(floor_time)
            return {
                "beans": floor.beans,
                "attributes": floor.attributes,
                "samples": samples,
                "bytes": len(body),
                "floor": statistics.median(theirs),
                "adapter": statistics.median(ours),
                "python_mb": rss_mb(os.getpid()),
                "helper_mb": rss_mb(adapter.helper.pid),
                "target_mb": rss_mb(target.pid),
            }
    finally:
        floor.stop()
        os.kill(target.pid, signal.SIGKILL)
        target.wait()


async def run(work: Path, quick: bool) -> None:
    classes = work / "classes"
    results = {
        label: await measure(classes, work, beans, attrs, 15 if quick else 60)
        for label, (beans, attrs) in SIZES.items()
    }
    print(f"one JVM, all MBeans, default rule; python {sys.version.split()[0]}")
    print(
        f"{'size':<19}{'beans':>6}{'attrs':>7}{'samples':>8}{'floor ms':>10}{'adapter ms':>12}"
        f"{'ratio':>7}{'python MB':>11}{'helper MB':>11}{'target MB':>11}"
    )
    for label, r in results.items():
        print(
            f"{label:<19}{int(r['beans']):>6}{int(r['attributes']):>7}{int(r['samples']):>8}"
            f"{r['floor'] * 1e3:>10.1f}{r['adapter'] * 1e3:>12.1f}"
            f"{r['adapter'] / r['floor']:>6.2f}x{r['python_mb']:>11.0f}{r['helper_mb']:>11.0f}"
            f"{r['target_mb']:>11.0f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds")
    quick = parser.parse_args().quick
    with tempfile.TemporaryDirectory() as tmp:
        classes = Path(tmp) / "classes"
        subprocess.run(["javac", "-d", str(classes), str(APP), str(FLOOR)], check=True)
        asyncio.run(run(Path(tmp), quick))


if __name__ == "__main__":
    main()
