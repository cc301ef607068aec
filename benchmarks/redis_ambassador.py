"""Redis ambassador throughput beside the master directly and Debian's nutcracker (twemproxy).

Run: ``uv run python benchmarks/redis_ambassador.py [--requests N] [--repeat N]``. One session starts a master
and a replica (redis-server on loopback), nutcracker in front of the master, and the ambassador in
front of both with read/write splitting on (SETs to the master, GETs to the replica), plus a bare
uvloop byte forwarder in front of the master (no parsing: the ceiling of a Python proxy here). For
each of
``-P 1`` and ``-P 16`` it runs ``redis-benchmark -t set,get -c 50`` against the three and prints
requests/s (the median of ``--repeat`` interleaved runs), each as a ratio to direct, and the
ambassador's CPU seconds per 100k requests (from ``/proc/<pid>/stat``). Targets from the issue:
>= 0.9 of direct at -P 1, >= 0.8 at -P 16. First it runs a 90/10 read/write redis-py workload
(default handshake: CLIENT SETINFO; then HELLO 3) through the ambassador with session consistency
(the default) and prints the share of reads the replica served (target: >= 80%).
Nothing here is asserted; the numbers are for people.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import redis

from tests.support.ports import free_port, wait_for_port

TESTS = ("SET", "GET")
# the ceiling of any Python proxy here: uvloop Protocols copying bytes, one upstream per client
FORWARDER = """
import asyncio, sys, uvloop
UP = int(sys.argv[2])
class Up(asyncio.Protocol):
    def __init__(self, client): self.client = client
    def data_received(self, data): self.client.write(data)
class Client(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport, self.up, self.pending = transport, None, []
        asyncio.get_running_loop().create_task(self.connect())
    async def connect(self):
        up, _ = await asyncio.get_running_loop().create_connection(
            lambda: Up(self.transport), "127.0.0.1", UP)
        self.up = up
        up.write(b"".join(self.pending))
    def data_received(self, data):
        if self.up is None: self.pending.append(data)
        else: self.up.write(data)
    def connection_lost(self, exc):
        if self.up is not None: self.up.close()
async def main():
    server = await asyncio.get_running_loop().create_server(Client, "127.0.0.1", int(sys.argv[1]))
    await asyncio.Event().wait()
uvloop.run(main())
"""


def need(tool: str, package: str) -> str:
    path = shutil.which(tool) or (
        f"/usr/sbin/{tool}" if os.path.exists(f"/usr/sbin/{tool}") else None
    )
    if path is None:
        sys.exit(f"{tool} is not installed: apt-get install -y {package}")
    return path


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bench(port: int, pipeline: int, requests: int) -> dict[str, float]:
    out = subprocess.run(
        [need("redis-benchmark", "redis-tools"), "-p", str(port), "-t", "set,get", "-c", "50",
         "-n", str(requests), "-P", str(pipeline), "--csv", "-r", "100000"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    rows = csv.DictReader(io.StringIO(out))
    return {row["test"]: float(row["rps"]) for row in rows}


def read_share(port: int, master: int, replica: int, protocol: int, ops: int) -> str:
    """A 90/10 read/write redis-py workload through the ambassador (default handshake, 8
    connections in threads): the share of its reads the replica served."""
    import random
    import threading

    def stats(server: int) -> int:
        info = redis.Redis(port=server).info("commandstats")
        return int(info.get("cmdstat_get", {}).get("calls", 0))

    for server in (master, replica):
        redis.Redis(port=server).config_resetstat()
    errors: list[str] = []

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        client = redis.Redis(port=port, protocol=protocol)
        try:
            for i in range(ops):
                key = f"share:{rng.randrange(1000)}"
                if rng.random() < 0.1:
                    client.set(key, i)
                else:
                    client.get(key)
        except redis.RedisError as exc:
            errors.append(str(exc))
        finally:
            client.close()

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    on_replica, on_master = stats(replica), stats(master)
    share = on_replica / max(1, on_replica + on_master)
    return (
        f"  RESP{protocol}: {share:6.1%} of {on_replica + on_master} reads on the replica "
        f"({8 * ops / elapsed:.0f} ops/s, {len(errors)} errors)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--ops", type=int, default=5000, help="per connection, 90/10 workload")
    parser.add_argument(
        "--consistency", default="session", help="the ambassador's --consistency (redis-benchmark)"
    )
    args = parser.parse_args()
    redis_server = need("redis-server", "redis-server")
    nutcracker = need("nutcracker", "nutcracker")
    procs: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)

        def start(argv: list[str], port: int) -> subprocess.Popen[bytes]:
            proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            procs.append(proc)
            wait_for_port(port)
            return proc

        try:
            master, replica, nut, amb, fwd = (free_port() for _ in range(5))
            for port, extra in ((master, []), (replica, ["--replicaof", "127.0.0.1", str(master)])):
                (root / str(port)).mkdir()
                start(
                    [redis_server, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                     "--appendonly", "no", "--dir", str(root / str(port)), *extra],
                    port,
                )  # fmt: skip
            config = root / "nutcracker.yml"
            config.write_text(
                "pool:\n"
                f"  listen: 127.0.0.1:{nut}\n"
                "  redis: true\n"
                "  hash: fnv1a_64\n"
                "  distribution: ketama\n"
                f"  servers:\n   - 127.0.0.1:{master}:1\n"
            )
            nut_proc = start([nutcracker, "-c", str(config), "-s", str(free_port())], nut)
            ambassador = start(
                [sys.executable, "-m", "podkit.redis_ambassador.cli", f"--listen=127.0.0.1:{amb}",
                 f"--master=127.0.0.1:{master}", f"--replica=127.0.0.1:{replica}",
                 "--admin-listen=", "--log-level=warning", f"--consistency={args.consistency}"],
                amb,
            )  # fmt: skip
            start([sys.executable, "-c", FORWARDER, str(fwd), str(master)], fwd)
            deadline = time.monotonic() + 30  # diskless sync waits 5 s before it starts
            while redis.Redis(port=replica).info("replication")["master_link_status"] != "up":
                if time.monotonic() > deadline:
                    sys.exit("the replica never linked to its master")
                time.sleep(0.1)
            time.sleep(1.5)  # the ambassador's next health check sees it
            print(f"90/10 read/write redis-py workload, 8 connections, {args.consistency}:")
            for protocol in (2, 3):
                print(read_share(amb, master, replica, protocol, args.ops))
            print(f"redis-benchmark -t set,get -c 50 -n {args.requests} -r 100000, -P 1 and -P 16")
            print(f"{'':14}{'test':6}{'req/s':>12}{'ratio':>8}")
            targets = {"direct": master, "nutcracker": nut, "forwarder": fwd, "ambassador": amb}
            for pipeline in (1, 16):
                runs: dict[str, list[dict[str, float]]] = {name: [] for name in targets}
                used = {"ambassador": 0.0, "nutcracker": 0.0}
                pids = {"ambassador": ambassador.pid, "nutcracker": nut_proc.pid}
                for _ in range(args.repeat):  # interleaved, so drift hits every target alike
                    for name, port in targets.items():
                        pid = pids.get(name)
                        before = cpu_seconds(pid) if pid else 0.0
                        runs[name].append(bench(port, pipeline, args.requests))
                        if pid:
                            used[name] += cpu_seconds(pid) - before
                median = {
                    name: {t: statistics.median(r[t] for r in results) for t in TESTS}
                    for name, results in runs.items()
                }
                print(f"-P {pipeline}  (median of {args.repeat})")
                for name, results in median.items():
                    for test in TESTS:
                        ratio = results[test] / median["direct"][test]
                        print(f"  {name:12}{test:6}{results[test]:12.0f}{ratio:8.2f}")
                scale = args.repeat * len(TESTS) * args.requests / 100_000
                amb_cpu, nut_cpu = used["ambassador"] / scale, used["nutcracker"] / scale
                print(
                    f"  CPU per 100k requests: ambassador {amb_cpu:.3f} s, nutcracker "
                    f"{nut_cpu:.3f} s ({amb_cpu / max(nut_cpu, 1e-9):.2f}x)"
                )
        finally:
            for proc in reversed(procs):
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(10)


if __name__ == "__main__":
    main()
