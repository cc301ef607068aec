"""examples/redis-ambassador.yaml as shipped, every document of it: the master and replica pods,
and the app whose writes reach the master and whose reads reach the replica through the
ambassador; its probes pass and Prometheus scrapes it as the pod's annotations say."""

from __future__ import annotations

import time

import redis

from tests.e2e.pods import logs
from tests.e2e.prometheus import Prometheus
from tests.e2e.shipped import play, shipped

PASSWORD = "change-me-please"  # the example's Secret


def commandstats(port: int) -> dict[str, int]:
    client = redis.Redis(port=port, password=PASSWORD)
    try:
        return {name: int(stats["calls"]) for name, stats in client.info("commandstats").items()}
    except redis.RedisError:
        return {}
    finally:
        client.close()


def test_writes_go_to_the_master_and_reads_to_the_replica(prometheus: Prometheus) -> None:
    example = shipped("redis-ambassador.yaml")
    master = example.host_port("redis-master", "redis")
    replica = example.host_port("redis-replica", "redis")
    with play(example) as prober:
        prober.wait_ready()
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
        pods = prometheus.scrape(example)
        try:
            assert pods == ["redis-ambassador-example"]
            prometheus.check_scraped(pods, ['{pod="redis-ambassador-example"}'])
        finally:
            prometheus.forget(pods)
        prober.check()
