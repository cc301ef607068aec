"""Topology from three real Sentinels, and a failover the ambassador follows."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import redis

from tests.redis_ambassador.support import Ambassador, Cluster, Sentinels
from tests.support.ports import free_port, wait_for_port
from tests.support.processes import Child


def start_with_sentinels(
    sentinels: Sentinels, *extra: str, env: dict[str, str] | None = None
) -> Ambassador:
    amb = Ambassador.__new__(Ambassador)
    amb.port = free_port()
    amb.admin_port = free_port()
    amb.child = Child(
        [
            sys.executable, "-m", "podkit.redis_ambassador.cli",
            f"--listen=127.0.0.1:{amb.port}",
            f"--admin-listen=127.0.0.1:{amb.admin_port}",
            "--sentinel-master=mymaster",
            "--health-interval=100ms",
            *(f"--sentinel=127.0.0.1:{port}" for port in sentinels.ports),
            *extra,
        ],
        env=env,
    )  # fmt: skip
    wait_for_port(amb.port)
    return amb


def test_sentinel_discovery_and_failover(tmp_path: Path) -> None:
    cluster = Cluster(tmp_path / "redis")
    sentinels = Sentinels(tmp_path, cluster.master.port)
    amb: Ambassador | None = None
    try:
        sentinels.wait_replicas(2)
        amb = start_with_sentinels(sentinels)
        amb.wait_ready()
        client = amb.client()
        assert client.set("sentinel:k", "before")
        cluster.wait_synced()
        cluster.reset_stats()
        for _ in range(10):
            assert client.get("sentinel:k") == b"before"
        assert sum(r.commandstats().get("get", 0) for r in cluster.replicas) == 10

        old_master = cluster.master.port
        sentinels.client().sentinel_failover("mymaster")
        deadline = time.monotonic() + 60
        while sentinels.master_port() == old_master:
            assert time.monotonic() < deadline, "Sentinel never failed over"
            time.sleep(0.1)
        new_master = sentinels.master_port()
        servers = {s.port: s for s in (cluster.master, *cluster.replicas)}
        # clients see clear errors or success while it settles, then writes reach the new master
        seen_errors: list[str] = []
        while True:
            try:
                if amb.client().set("sentinel:after", "x"):
                    probe = servers[new_master].client().get("sentinel:after")
                    if probe == b"x":
                        break
            except (redis.ResponseError, redis.ConnectionError) as exc:
                seen_errors.append(str(exc))
            assert time.monotonic() < deadline, (
                f"writes never reached the new master: {seen_errors}"
            )
            time.sleep(0.1)
        for error in seen_errors:  # never a silent success on the demoted master
            assert (
                "READONLY" in error
                or "master" in error
                or "Connection" in error
                or "closed" in error
            ), error
        assert amb.client().get("sentinel:k") == b"before"
        # Sentinel demotes the old master; the ambassador never takes it back as master
        while servers[old_master].client().info("replication")["role"] != "slave":
            assert time.monotonic() < deadline, "the old master was never demoted"
            time.sleep(0.1)
        # a write now succeeds, so it went to a master: the demoted one would say READONLY
        assert amb.client().set("sentinel:final", "y")
        assert servers[new_master].client().get("sentinel:final") == b"y"
    finally:
        if amb is not None:
            amb.stop()
        sentinels.stop()
        cluster.stop()


def test_password_protected_sentinels_and_a_killed_master(tmp_path: Path) -> None:
    """Sentinels with requirepass; the master is SIGKILLed: clients' writes are held (--failover-hold)
    and served by the master Sentinel promotes; every write the ambassador acknowledged is on it."""
    secret = "sentinel-s3cret"
    cluster = Cluster(tmp_path / "redis")
    sentinels = Sentinels(tmp_path, cluster.master.port, password=secret)
    amb: Ambassador | None = None
    locked_out: Ambassador | None = None
    try:
        sentinels.wait_replicas(2)
        locked_out = start_with_sentinels(sentinels, "--log-format=json")
        amb = start_with_sentinels(sentinels, env={"REDIS_AMBASSADOR_SENTINEL_PASSWORD": secret})
        amb.wait_ready()
        # without the password no Sentinel answers, and the log says why, without any secret
        time.sleep(0.5)
        assert locked_out.get("/readyz")[0] == 503
        log = locked_out.child.stderr + locked_out.child.stdout
        assert "no Sentinel answered" in log and "NOAUTH" in log, log[-2000:]
        assert secret not in amb.child.stderr + amb.child.stdout

        client = amb.client()
        assert client.set("killed:before", "1")
        cluster.wait_synced()
        old_master = cluster.master.port
        servers = {s.port: s for s in (cluster.master, *cluster.replicas)}
        cluster.master.kill()
        acked: list[str] = []
        errors: list[str] = []
        deadline = time.monotonic() + 60
        n = 0
        while True:
            key = f"killed:{n}"
            n += 1
            try:
                if amb.client().set(key, "v"):
                    acked.append(key)
            except (redis.ResponseError, redis.ConnectionError, redis.TimeoutError) as exc:
                errors.append(str(exc))
            if len(acked) >= 5:
                break
            assert time.monotonic() < deadline, f"writes never resumed: {errors[-5:]}"
            time.sleep(0.05)
        new_master = sentinels.master_port()
        assert new_master != old_master
        promoted = servers[new_master].client()
        assert promoted.info("replication")["role"] == "master"
        assert promoted.mget(acked) == [b"v"] * len(acked)  # no acknowledged write was lost
        assert promoted.get("killed:before") == b"1"
        # the failover took less than --failover-hold: every write was held, then served by
        # the promoted replica (one in flight at the kill would get an error, not a retry)
        assert len(errors) <= 1, errors
        assert all("may have been applied" in error for error in errors), errors
        for error in errors:
            assert "upstream" in error or "Connection" in error or "closed" in error, error
        assert amb.client().get("killed:before") == b"1"
    finally:
        for each in (amb, locked_out):
            if each is not None:
                each.stop()
        sentinels.stop()
        cluster.stop()
