"""Real redis-server processes (a master and replicas, Sentinels) and the ambassador in front.

Servers bind 127.0.0.1 on free ports, keep no data on disk, and are always stopped by PID. The
ambassador runs as its own process (the console script), so sync and asyncio clients both work.
The fixtures that share them are in this folder's conftest.
"""

from __future__ import annotations

import shutil
import signal
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import redis

from tests.support.ports import free_port, wait_for_port
from tests.support.processes import Child


def need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.fail(f"{tool} is not installed: apt-get install -y redis-server (or make test)")
    return path


class Server:
    """One redis-server process."""

    def __init__(
        self, directory: Path, master: int | None = None, *extra: str, port: int | None = None
    ) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.master_port = master
        self.port = port or free_port()
        argv = [
            need("redis-server"),
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--save", "",
            "--appendonly", "no",
            "--dir", str(directory),
            *extra,
        ]  # fmt: skip
        if master is not None:
            argv += ["--replicaof", "127.0.0.1", str(master)]
        self.child = Child(argv)
        wait_for_port(self.port)

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, socket_timeout=10)

    def commandstats(self) -> dict[str, int]:
        stats = self.client().info("commandstats")
        return {name.removeprefix("cmdstat_"): int(v["calls"]) for name, v in stats.items()}

    def wait_link_up(self) -> None:
        deadline = time.monotonic() + 20
        while self.client().info("replication").get("master_link_status") != "up":
            if time.monotonic() > deadline:
                raise AssertionError(f"replica on {self.port} never linked to its master")
            time.sleep(0.05)

    def stop(self) -> None:
        self.child.stop()

    def kill(self) -> None:
        """SIGKILL: the server dies without closing anything cleanly."""
        self.child.signal(signal.SIGKILL)
        self.child.wait()

    def restart(self) -> Server:
        self.child.stop()
        return Server(self.directory, self.master_port, port=self.port)


class Cluster:
    """A master and its replicas."""

    def __init__(self, root: Path, replicas: int = 2) -> None:
        self.master = Server(root / "master")
        self.replicas: list[Server] = []
        try:
            for index in range(replicas):
                self.replicas.append(Server(root / f"replica{index}", self.master.port))
            for replica in self.replicas:
                replica.wait_link_up()
        except BaseException:
            self.stop()
            raise

    def reset_stats(self) -> None:
        for server in (self.master, *self.replicas):
            server.client().config_resetstat()

    def wait_synced(self) -> None:
        """Wait until every replica has the master's current offset."""
        target = self.master.client().info("replication")["master_repl_offset"]
        deadline = time.monotonic() + 20
        for replica in self.replicas:
            while replica.client().info("replication").get("slave_repl_offset", -1) < target:
                if time.monotonic() > deadline:
                    raise AssertionError("replica never caught up")
                time.sleep(0.02)

    def stop(self) -> None:
        for server in (*self.replicas, self.master):
            server.stop()


class Ambassador:
    """The ambassador's console script, started in front of a cluster."""

    def __init__(self, cluster: Cluster, *extra: str, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.admin_port = free_port()
        argv = [
            sys.executable, "-m", "podkit.redis_ambassador.cli",
            f"--listen=127.0.0.1:{self.port}",
            f"--admin-listen=127.0.0.1:{self.admin_port}",
            f"--master=127.0.0.1:{cluster.master.port}",
            "--health-interval=100ms",
            "--log-format=json",
            *(f"--replica=127.0.0.1:{replica.port}" for replica in cluster.replicas),
            *extra,
        ]  # fmt: skip
        self.child = Child(argv, env=env)
        try:
            wait_for_port(self.port)
        except TimeoutError:
            self.child.stop()
            raise

    def client(self, **kwargs: object) -> redis.Redis:
        return redis.Redis(port=self.port, socket_timeout=10, **kwargs)  # type: ignore[arg-type]

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.admin_port}{path}"

    def get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(self.url(path), timeout=5) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def wait_ready(self, ready: bool = True) -> None:
        deadline = time.monotonic() + 20
        while (self.get("/readyz")[0] == 200) != ready:
            if time.monotonic() > deadline:
                raise AssertionError(f"/readyz never became {'ready' if ready else 'unready'}")
            time.sleep(0.05)

    def metric(self, name: str) -> float:
        """The sum of every sample of a metric family on /metrics."""
        total = 0.0
        for line in self.get("/metrics")[1].splitlines():
            if line.startswith(name) and not line.startswith("#"):
                key = line.rsplit(" ", 1)[0]
                if key == name or key.startswith(name + "{"):
                    total += float(line.rsplit(" ", 1)[1])
        return total

    def stop(self) -> None:
        self.child.stop()


class Sentinels:
    """Three Sentinels (``redis-server --sentinel``) watching a cluster's master as ``mymaster``."""

    def __init__(self, root: Path, master_port: int, count: int = 3, password: str = "") -> None:
        self.password = password
        self.ports: list[int] = []
        self.children: list[Child] = []
        try:
            for index in range(count):
                port = free_port()
                directory = root / f"sentinel{index}"
                directory.mkdir(parents=True)
                config = directory / "sentinel.conf"
                config.write_text(
                    f"port {port}\nbind 127.0.0.1\ndir {directory}\n"
                    f"sentinel monitor mymaster 127.0.0.1 {master_port} 2\n"
                    "sentinel down-after-milliseconds mymaster 1000\n"
                    "sentinel failover-timeout mymaster 10000\n"
                    "sentinel parallel-syncs mymaster 2\n"
                    + (
                        f"requirepass {password}\nsentinel sentinel-pass {password}\n"
                        if password
                        else ""
                    )
                )
                self.children.append(Child([need("redis-server"), str(config), "--sentinel"]))
                self.ports.append(port)
                wait_for_port(port)
        except BaseException:
            self.stop()
            raise

    def client(self, index: int = 0) -> redis.Redis:
        return redis.Redis(
            port=self.ports[index], socket_timeout=10, password=self.password or None
        )

    def master_port(self) -> int:
        return int(self.client().sentinel_get_master_addr_by_name("mymaster")[1])

    def wait_replicas(self, count: int) -> None:
        """Wait until every Sentinel sees ``count`` healthy replicas and the other Sentinels."""
        deadline = time.monotonic() + 30
        for index in range(len(self.ports)):
            while True:
                replicas = self.client(index).sentinel_slaves("mymaster")
                healthy = [
                    r
                    for r in replicas
                    if not (r["is_sdown"] or r["is_odown"] or r["is_disconnected"])
                ]
                others = self.client(index).sentinel_sentinels("mymaster")
                if len(healthy) >= count and len(others) >= len(self.ports) - 1:
                    break
                if time.monotonic() > deadline:
                    raise AssertionError(f"Sentinel {index} sees {replicas} and {others}")
                time.sleep(0.1)

    def stop(self) -> None:
        for child in self.children:
            child.stop()
