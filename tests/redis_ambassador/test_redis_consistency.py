"""Session consistency against real replicas that lag: a replica whose replication stream is
stalled (``CLIENT PAUSE ... WRITE`` on it: it keeps serving reads, its link stays up) never serves
a read that misses a write the ambassador acknowledged, on any connection; ``--consistency=eventual``
does (the contrast shows the check can fail). Lag is measured by offsets: an idle master never takes
a replica out of rotation, a stalled one leaves and returns with one log line per change. A
replica back in rotation gets reads from connections opened before it came back."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager

from tests.redis_ambassador.support import Ambassador, Cluster, Server
from tests.support.waits import wait_until


def calls(stats: dict[str, int], name: str) -> int:
    return stats.get(name, 0)


@contextmanager
def stalled(*replicas: Server, seconds: float = 30) -> Iterator[None]:
    """The replicas stop applying their replication stream, but keep serving reads."""
    for replica in replicas:
        replica.client().execute_command("CLIENT", "PAUSE", int(seconds * 1000), "WRITE")
    try:
        yield
    finally:
        for replica in replicas:
            replica.client().execute_command("CLIENT", "UNPAUSE")


def test_a_stalled_replica_never_serves_a_stale_read(cluster: Cluster) -> None:
    amb = Ambassador(cluster)
    try:
        clients = [amb.client(single_connection_client=True) for _ in range(8)]
        for client in clients:
            client.get("ryw:warm")  # every connection has its replica
        cluster.wait_synced()
        cluster.reset_stats()
        stale = []
        with stalled(*cluster.replicas):
            for i in range(60):
                # written on one connection, read on another (a pool, a reconnect)
                clients[i % 8].set("ryw:cross", i)
                for reader in (clients[(i + 3) % 8], clients[i % 8]):
                    value = reader.get("ryw:cross")
                    if value != str(i).encode():
                        stale.append((i, value))
                pipe = clients[(i + 5) % 8].pipeline(transaction=False)
                pipe.set("ryw:pipe", i).get("ryw:pipe").incr("ryw:n").get("ryw:n")
                results = pipe.execute()
                assert results[1] == str(i).encode() and results[3] == str(results[2]).encode()
            assert stale == []
            # the stalled replicas were asked (a probe), and the reads went to the master
            assert amb.metric("redis_ambassador_stale_read_retries_total") > 0
        # once they caught up, reads of the same connections are served by replicas again
        cluster.wait_synced()
        cluster.reset_stats()
        for i in range(40):
            assert clients[i % 8].get("ryw:cross") == b"59"
        assert sum(calls(r.commandstats(), "get") for r in cluster.replicas) == 40
        for client in clients:
            client.close()
    finally:
        amb.stop()


def test_eventual_consistency_reads_whatever_the_replica_has(cluster: Cluster) -> None:
    amb = Ambassador(cluster, "--consistency=eventual")
    try:
        client = amb.client(single_connection_client=True)
        client.set("eventual:k", "old")
        cluster.wait_synced()
        client.get("eventual:k")
        with stalled(*cluster.replicas):
            client.set("eventual:k", "new")
            assert client.get("eventual:k") == b"old"  # the replica's: the opt-out's trade-off
        client.close()
    finally:
        amb.stop()


def replicas_up(amb: Ambassador) -> float:
    total = 0.0
    for line in amb.get("/metrics")[1].splitlines():
        if line.startswith("redis_ambassador_upstream_up{") and 'role="replica"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


def health_events(amb: Ambassador, port: int) -> list[str]:
    events = []
    for line in amb.child.stderr.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if record.get("address") == f"127.0.0.1:{port}" and "upstream" in record.get("msg", ""):
            events.append(record["msg"])
    return events


def test_lag_is_measured_by_offsets(cluster: Cluster) -> None:
    amb = Ambassador(cluster, "--max-replica-lag=1s")
    try:
        wait_until(lambda: replicas_up(amb) == 2, timeout=10)
        # idle: the master pings its replicas only every 10 s, which is not lag
        samples = []
        for _ in range(15):
            samples.append(replicas_up(amb))
            time.sleep(0.2)
        assert samples == [2.0] * 15
        replica = cluster.replicas[0]
        writer = cluster.master.client()
        with stalled(replica):
            deadline = time.monotonic() + 15
            while replicas_up(amb) != 1:
                writer.incr("lag:n")
                assert time.monotonic() < deadline, "a stalled replica stayed in rotation"
                time.sleep(0.05)
            for _ in range(10):  # still behind: one log line, not one per health round
                writer.incr("lag:n")
                time.sleep(0.05)
        wait_until(lambda: replicas_up(amb) == 2, timeout=10)
        # first check, stalled, caught up: three lines
        assert health_events(amb, replica.port) == [
            "upstream healthy",
            "upstream unhealthy",
            "upstream healthy",
        ]
    finally:
        amb.stop()


def test_a_replica_back_in_rotation_gets_reads_from_open_connections(
    own_cluster: Cluster,
) -> None:
    amb = Ambassador(own_cluster)
    try:
        clients = [amb.client(single_connection_client=True) for _ in range(12)]
        for client in clients:
            client.set("rebalance:k", "v")
            client.get("rebalance:k")
        victim = own_cluster.replicas[1]
        victim.kill()
        for _ in range(3):
            for client in clients:
                assert client.get("rebalance:k") == b"v"  # the other replica, or the master
        wait_until(lambda: replicas_up(amb) == 1, timeout=10)
        own_cluster.replicas[1] = victim = victim.restart()
        victim.wait_link_up()
        wait_until(lambda: replicas_up(amb) == 2, timeout=10)
        victim.client().config_resetstat()
        for _ in range(5):
            for client in clients:
                assert client.get("rebalance:k") == b"v"
        # the same 12 connections, none reopened: the restarted replica took its share
        assert calls(victim.commandstats(), "get") >= 12
        for client in clients:
            client.close()
    finally:
        amb.stop()
