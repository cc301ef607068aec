"""examples/redis-ambassador.yaml in podman: the app's writes reach the master, its reads a replica."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from tests.e2e.pods import build_standin, local_manifest, logs, running_pod
from tests.support.ports import free_port, wait_for_port
from tests.support.processes import Child

PASSWORD = "change-me-please"  # the example's Secret


@pytest.fixture
def master_and_replica(tmp_path: Path) -> Iterator[tuple[int, int]]:
    """A password-protected master and replica on the host's loopback."""
    ports = free_port(), free_port()
    with contextlib.ExitStack() as stack:
        for index, port in enumerate(ports):
            argv = [
                "redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--dir", str(tmp_path), "--requirepass", PASSWORD,
                "--masterauth", PASSWORD, "--dbfilename", f"dump{index}.rdb",
            ]  # fmt: skip
            if index == 1:
                argv += ["--replicaof", "127.0.0.1", str(ports[0])]
            stack.enter_context(Child(argv))
        for port in ports:
            wait_for_port(port)
        yield ports


def commandstats(port: int) -> dict[str, int]:
    client = redis.Redis(port=port, password=PASSWORD)
    try:
        return {name: int(stats["calls"]) for name, stats in client.info("commandstats").items()}
    finally:
        client.close()


def test_writes_go_to_the_master_and_reads_to_the_replica(
    master_and_replica: tuple[int, int],
) -> None:
    master, replica = master_and_replica
    listen, admin = free_port(), free_port()
    standin = build_standin("redis")

    def on_host_loopback(pod: dict[str, Any]) -> None:
        spec = pod["spec"]
        spec["hostNetwork"] = True
        app, ambassador = spec["containers"]
        app["image"] = standin
        app["args"] = [app["args"][0].replace("-p 6379", f"-p {listen}")]
        ambassador["args"] = [
            f"--listen=127.0.0.1:{listen}", f"--master=127.0.0.1:{master}",
            f"--replica=127.0.0.1:{replica}", "--read-policy=prefer-replica",
            f"--admin-listen=127.0.0.1:{admin}",
        ]  # fmt: skip
        # podman 4.3 reads secretKeyRef from its own JSON secret store, not from a Secret in the
        # file: the password goes in as a plain env value here.
        ambassador["env"] = [{"name": "REDIS_AMBASSADOR_UPSTREAM_PASSWORD", "value": PASSWORD}]
        for container in spec["containers"]:
            container.pop("ports", None)
            container.pop("livenessProbe", None)
            container.pop("readinessProbe", None)

    manifest = local_manifest(
        "redis-ambassador.yaml",
        {},
        edit=on_host_loopback,
        keep=lambda doc: (
            doc["kind"] == "Secret" or doc["metadata"]["name"] == "redis-ambassador-example"
        ),
    )
    with running_pod(manifest):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            on_master, on_replica = commandstats(master), commandstats(replica)
            if on_master.get("cmdstat_incr", 0) >= 3 and on_replica.get("cmdstat_get", 0) >= 3:
                break
            time.sleep(0.5)
        assert on_master.get("cmdstat_incr", 0) >= 3, logs(
            "redis-ambassador-example-redis-ambassador"
        )
        assert on_replica.get("cmdstat_get", 0) >= 3, logs("redis-ambassador-example-app")
        # once the replica is in rotation, every further read lands on it
        master_gets, replica_gets = on_master.get("cmdstat_get", 0), on_replica["cmdstat_get"]
        deadline = time.monotonic() + 60
        while commandstats(replica).get("cmdstat_get", 0) < replica_gets + 5:
            assert time.monotonic() < deadline, "the replica stopped getting reads"
            time.sleep(0.5)
        assert commandstats(master).get("cmdstat_get", 0) == master_gets
        assert "visits: " in logs("redis-ambassador-example-app")
