"""JMX adapter scrape cost per backend, side by side, against one JVM's platform MBeans.

Run: ``uv run python benchmarks/jmx_adapter.py [--quick]``. Starts the tests' JMX target
(``tests/jmx_adapter/java/PodkitTestApp.java``, compiled into a temporary directory) with remote
JMX on a free loopback port, then scrapes every MBean (``*:*``: the platform MBeans plus the test
beans, about 300 attributes) through each backend and the default rules, and prints per full
scrape (backend + rules): the median and p95 wall-clock latency, and the CPU time spent by the
adapter process and by the JVMs it runs (jmxquery's per-scrape JVM, the persistent backend's
helper), with the jmxquery backend as the reference ratio. The Jolokia backend is not measured:
no Jolokia agent jar is available here. Nothing is asserted; the numbers are for people.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from podkit.jmx_adapter.backend import Backend, ScrapeFilter, Target
from podkit.jmx_adapter.backend_jmxquery import JmxqueryBackend
from podkit.jmx_adapter.backend_persistent import PersistentBackend
from podkit.jmx_adapter.config import parse_config
from podkit.jmx_adapter.helper import Helper, compile_helper
from podkit.jmx_adapter.matcher import JavaMatcher
from podkit.jmx_adapter.rules import RuleEngine

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from support.ports import free_port  # noqa: E402 - the tests' port helper

APP = ROOT / "tests" / "jmx_adapter" / "java" / "PodkitTestApp.java"
TICK = os.sysconf("SC_CLK_TCK")


def start_target(workdir: Path) -> tuple[subprocess.Popen[str], int]:
    subprocess.run(["javac", "-d", str(workdir), str(APP)], check=True)
    port = free_port()
    proc = subprocess.Popen(
        [
            "java",
            "-XX:+UseSerialGC",
            "-cp",
            str(workdir),
            f"-Dcom.sun.management.jmxremote.port={port}",
            f"-Dcom.sun.management.jmxremote.rmi.port={port}",
            "-Dcom.sun.management.jmxremote.host=127.0.0.1",
            "-Djava.rmi.server.hostname=127.0.0.1",
            "-Dcom.sun.management.jmxremote.authenticate=false",
            "-Dcom.sun.management.jmxremote.ssl=false",
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


def proc_cpu(pid: int | None) -> float:
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


async def measure(
    backend: Backend, helper_jvm: Helper, rounds: int, warmup: int
) -> dict[str, float]:
    config = parse_config("")
    matcher = JavaMatcher(helper_jvm)
    await matcher.load(config)
    engine = RuleEngine(config, matcher)
    beans_filter = ScrapeFilter()
    attrs = samples = 0
    for _ in range(warmup):
        beans = await backend.scrape(beans_filter)
        await engine.evaluate(beans)
    latencies: list[float] = []
    helper = helper_jvm.pid
    cpu0, kids0, helper0 = time.process_time(), children_cpu(), proc_cpu(helper)
    for _ in range(rounds):
        start = time.perf_counter()
        beans = await backend.scrape(beans_filter)
        families = await engine.evaluate(beans)
        latencies.append(time.perf_counter() - start)
        attrs = sum(len(b.attributes) for b in beans)
        samples = sum(len(f.samples) for f in families)
    own = (time.process_time() - cpu0) / rounds
    jvm = (children_cpu() - kids0 + proc_cpu(helper) - helper0) / rounds
    latencies.sort()
    return {
        "median": statistics.median(latencies),
        "p95": latencies[min(len(latencies) - 1, int(len(latencies) * 0.95))],
        "own_cpu": own,
        "jvm_cpu": jvm,
        "attrs": attrs,
        "samples": samples,
    }


async def run(quick: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        target, port = start_target(Path(tmp))
        try:
            url = f"service:jmx:rmi:///jndi/rmi://127.0.0.1:{port}/jmxrmi"
            cache = Path(tmp) / "helper"
            compile_helper(cache)
            results: dict[str, dict[str, float]] = {}
            helper = Helper(cache_dir=cache)
            try:
                jq = JmxqueryBackend(Target(url))
                results["jmxquery"] = await measure(jq, helper, 3 if quick else 10, 1)
                persistent = PersistentBackend(Target(url), helper)
                results["persistent"] = await measure(
                    persistent, helper, 20 if quick else 200, 5 if quick else 30
                )
            finally:
                await helper.close()
        finally:
            os.kill(target.pid, signal.SIGKILL)
            target.wait()
    ref = results["jmxquery"]
    print(f"target: one JVM, all MBeans (*:*), default rules; python {sys.version.split()[0]}")
    header = f"{'backend':<12}{'attrs':>7}{'samples':>9}{'median ms':>11}{'p95 ms':>9}"
    header += f"{'adapter cpu ms':>16}{'jvm cpu ms':>12}{'latency x':>11}{'total cpu x':>13}"
    print(header)
    for name, r in results.items():
        total = r["own_cpu"] + r["jvm_cpu"]
        ref_total = ref["own_cpu"] + ref["jvm_cpu"]
        print(
            f"{name:<12}{int(r['attrs']):>7}{int(r['samples']):>9}{r['median'] * 1e3:>11.1f}"
            f"{r['p95'] * 1e3:>9.1f}{r['own_cpu'] * 1e3:>16.1f}{r['jvm_cpu'] * 1e3:>12.1f}"
            f"{ref['median'] / r['median']:>10.1f}x{ref_total / total if total else 0:>12.1f}x"
        )
    print("jolokia: not measured (no Jolokia agent jar here)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds")
    asyncio.run(run(parser.parse_args().quick))


if __name__ == "__main__":
    main()
