"""Real clients through the ambassador to a real master and two replicas.

redis-py (sync and asyncio, RESP2 and RESP3), pipelines mixing reads and writes, transactions,
pub/sub, Lua and functions, blocking commands, redis-cli's inline commands; the split is proven
with ``INFO commandstats`` on each server.
"""

from __future__ import annotations

import socket
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import redis
import redis.asyncio as aioredis

from tests.redis_ambassador.support import Ambassador, Cluster, need


def calls(stats: dict[str, int], name: str) -> int:
    return stats.get(name, 0)


@pytest.mark.parametrize("protocol", [2, 3])
def test_reads_go_to_replicas_and_writes_to_the_master(
    cluster: Cluster, ambassador: Ambassador, protocol: int
) -> None:
    client = ambassador.client(protocol=protocol)
    client.set("split:key", "v1")
    cluster.wait_synced()
    cluster.reset_stats()
    for _ in range(20):
        client.set("split:key", "v2")
    cluster.wait_synced()
    for _ in range(20):
        assert client.get("split:key") == b"v2"
        assert client.object("encoding", "split:key") in (b"embstr", b"raw", "embstr")
    master = cluster.master.commandstats()
    replicas = [replica.commandstats() for replica in cluster.replicas]
    assert calls(master, "set") == 20
    assert calls(master, "get") == 0
    assert sum(calls(stats, "get") for stats in replicas) == 20
    # OBJECT ENCODING describes the server (its own encoding thresholds): the master answers
    assert calls(master, "object|encoding") == 20
    # session consistency: one ROLE probe after each write batch on the master
    assert calls(master, "role") == 20


@pytest.mark.parametrize("protocol", [2, 3])
def test_pipeline_mixing_reads_and_writes_keeps_request_order(
    cluster: Cluster, ambassador: Ambassador, protocol: int
) -> None:
    client = ambassador.client(protocol=protocol)
    for index in range(100):
        client.set(f"order:{index}", index)
    cluster.wait_synced()
    pipe = client.pipeline(transaction=False)
    for index in range(100):
        pipe.get(f"order:{index}")
        pipe.incr(f"order:counter:{protocol}")
        pipe.strlen(f"order:{index}")
        pipe.echo(f"echo-{index}")
    results = pipe.execute()
    start = int(results[1]) - 1
    for index in range(100):
        get, incr, strlen, echo = results[index * 4 : index * 4 + 4]
        assert get == str(index).encode()
        assert incr == start + index + 1
        assert strlen == len(str(index))
        assert echo == f"echo-{index}".encode()


def test_resp3_hello_and_types(ambassador: Ambassador) -> None:
    client = ambassador.client(protocol=3)
    client.delete("r3:hash", "r3:set")
    client.hset("r3:hash", mapping={"a": "1", "b": "2"})
    client.sadd("r3:set", "x", "y")
    assert client.execute_command("HGETALL", "r3:hash") == {b"a": b"1", b"b": b"2"}
    assert client.smembers("r3:set") == {b"x", b"y"}
    hello = client.execute_command("HELLO", "3")
    assert hello[b"proto"] == 3 if b"proto" in hello else hello["proto"] == 3


def test_select_and_client_setname_apply_to_every_upstream(
    cluster: Cluster, ambassador: Ambassador
) -> None:
    client = ambassador.client(db=3, client_name="amb-test")
    client.set("db3:key", "in-three")
    cluster.wait_synced()
    assert client.get("db3:key") == b"in-three"  # read on a replica, in db 3 there too
    assert ambassador.client().get("db3:key") is None  # db 0
    assert client.client_getname() in ("amb-test", b"amb-test")
    names = [
        c["name"]
        for server in (cluster.master, *cluster.replicas)
        for c in server.client().client_list()
    ]
    assert "amb-test" in names


def test_transactions_and_watch_stay_on_the_master(
    cluster: Cluster, ambassador: Ambassador
) -> None:
    client = ambassador.client()
    client.set("tx:a", 1)
    cluster.wait_synced()
    cluster.reset_stats()
    pipe = client.pipeline(transaction=True)
    pipe.incr("tx:a").get("tx:a").set("tx:b", "x").get("tx:b")
    assert pipe.execute() == [2, b"2", True, b"x"]

    def update(pipe: redis.client.Pipeline) -> None:  # type: ignore[type-arg]
        value = int(pipe.get("tx:a") or 0)
        pipe.multi()
        pipe.set("tx:a", value + 10)

    client.transaction(update, "tx:a")
    master = cluster.master.commandstats()
    assert calls(master, "multi") == 2
    assert calls(master, "exec") == 2
    assert calls(master, "watch") == 1
    assert calls(master, "get") == 3  # both GETs in MULTI and the one under WATCH
    assert cluster.master.client().get("tx:a") == b"12"
    # a WATCH broken by another client aborts the transaction
    other = ambassador.client()
    pipe = client.pipeline(transaction=True)
    pipe.watch("tx:w")
    pipe.get("tx:w")
    other.set("tx:w", "changed")
    pipe.multi()
    pipe.set("tx:w", "mine")
    with pytest.raises(redis.WatchError):
        pipe.execute()
    assert cluster.master.client().get("tx:w") == b"changed"


@pytest.mark.parametrize("protocol", [2, 3])
def test_pubsub_is_a_pass_through(ambassador: Ambassador, protocol: int) -> None:
    client = ambassador.client(protocol=protocol)
    pubsub = client.pubsub()
    pubsub.subscribe(f"news{protocol}")
    pubsub.psubscribe(f"sport{protocol}.*")
    deadline = time.monotonic() + 10
    received: list[tuple[object, object]] = []
    publisher = ambassador.client()
    while len(received) < 2 and time.monotonic() < deadline:
        publisher.publish(f"news{protocol}", "hello")
        publisher.publish(f"sport{protocol}.ball", "goal")
        message = pubsub.get_message(timeout=0.2)
        while message is not None:
            if message["type"] in ("message", "pmessage"):
                received.append((message["channel"], message["data"]))
            message = pubsub.get_message(timeout=0.05)
    assert (f"news{protocol}".encode(), b"hello") in received
    assert (f"sport{protocol}.ball".encode(), b"goal") in received
    pubsub.close()


def test_lua_and_functions(cluster: Cluster, ambassador: Ambassador) -> None:
    client = ambassador.client()
    client.set("lua:k", "lua-value")
    cluster.wait_synced()
    cluster.reset_stats()
    assert client.eval("return redis.call('SET', KEYS[1], ARGV[1])", 1, "lua:w", "x") == b"OK"
    assert client.eval_ro("return redis.call('GET', KEYS[1])", 1, "lua:k") == b"lua-value"
    sha = client.script_load("return redis.call('GET', KEYS[1])")
    cluster.wait_synced()
    for replica in cluster.replicas:
        replica.client().script_load("return redis.call('GET', KEYS[1])")
    assert client.evalsha_ro(sha, 1, "lua:k") == b"lua-value"
    code = "#!lua name=ambtest\nredis.register_function{function_name='amb_get', callback=function(keys) return redis.call('GET', keys[1]) end, flags={'no-writes'}}"
    client.function_load(code, replace=True)
    cluster.wait_synced()
    assert client.fcall_ro("amb_get", 1, "lua:k") == b"lua-value"
    master = cluster.master.commandstats()
    replicas = [replica.commandstats() for replica in cluster.replicas]
    assert calls(master, "eval") == 1
    assert calls(master, "eval_ro") == 0
    assert sum(calls(s, "eval_ro") for s in replicas) == 1
    assert sum(calls(s, "evalsha_ro") for s in replicas) == 1
    assert sum(calls(s, "fcall_ro") for s in replicas) == 1
    assert calls(master, "function|load") == 1


def test_blocking_pop_does_not_stall_other_clients(ambassador: Ambassador) -> None:
    blocked = ambassador.client()
    blocked.delete("block:list")
    result: list[object] = []
    thread = threading.Thread(target=lambda: result.append(blocked.blpop(["block:list"], 30)))
    thread.start()
    other = ambassador.client()
    for index in range(50):  # other clients keep being served while BLPOP waits
        other.set(f"block:other:{index}", index)
        assert other.echo(f"block:{index}") == f"block:{index}".encode()
    assert thread.is_alive()
    other.rpush("block:list", "item")
    thread.join(20)
    assert result == [(b"block:list", b"item")]


async def test_asyncio_client_pipelines(cluster: Cluster, ambassador: Ambassador) -> None:
    for protocol in (2, 3):
        client = aioredis.Redis(port=ambassador.port, protocol=protocol)
        async with client.pipeline(transaction=False) as pipe:
            for index in range(50):
                pipe.set(f"aio:{protocol}:{index}", index)
                pipe.echo(index)
            results = await pipe.execute()
        assert results == [item for index in range(50) for item in (True, str(index).encode())]
        await client.aclose()


def test_redis_cli_inline_and_resp(cluster: Cluster, ambassador: Ambassador) -> None:
    cli = need("redis-cli")
    out = subprocess.run(
        [cli, "-p", str(ambassador.port), "SET", "cli:key", "hello world"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "OK"
    inline = subprocess.run(
        [cli, "-p", str(ambassador.port)],
        input="PING\nSET cli:inline \"a b\"\nGET cli:inline\nECHO 'quoted'\n",
        capture_output=True,
        text=True,
        check=True,
    )
    assert inline.stdout.split("\n")[:4] == ["PONG", "OK", "a b", "quoted"]


def test_inline_commands_over_a_raw_socket(ambassador: Ambassador) -> None:
    with socket.create_connection(("127.0.0.1", ambassador.port), timeout=10) as sock:
        sock.sendall(b"SET raw:inline 5\r\nINCR raw:inline\r\nPING\r\n")
        data = b""
        while data.count(b"\r\n") < 3:
            data += sock.recv(1024)
    assert data == b"+OK\r\n:6\r\n+PONG\r\n"


def test_session_consistency_by_default_never_stale(cluster: Cluster) -> None:
    amb = Ambassador(cluster)
    try:
        client = amb.client()
        cluster.reset_stats()
        stale = 0
        for round_ in range(30):
            pipe = client.pipeline(transaction=False)
            for index in range(20):
                pipe.set(f"ryw:{index}", f"{round_}")
                pipe.get(f"ryw:{index}")
            results = pipe.execute()
            stale += sum(1 for value in results[1::2] if value != str(round_).encode())
            # and a read right after a separate write
            client.set("ryw:single", round_)
            stale += client.get("ryw:single") != str(round_).encode()
        assert stale == 0
        # after the replicas caught up, reads go back to a replica
        cluster.wait_synced()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            client.get("ryw:single")
            if sum(calls(r.commandstats(), "get") for r in cluster.replicas):
                break
            time.sleep(0.05)
        assert sum(calls(r.commandstats(), "get") for r in cluster.replicas) > 0
    finally:
        amb.stop()


def test_local_password(cluster: Cluster, tmp_path: object) -> None:
    amb = Ambassador(cluster, env={"REDIS_AMBASSADOR_LOCAL_PASSWORD": "s3cret"})
    try:
        with pytest.raises(redis.AuthenticationError):
            amb.client().ping()
        with pytest.raises(redis.AuthenticationError):
            amb.client(password="wrong").ping()
        assert amb.client(password="s3cret").ping()
        assert amb.client(password="s3cret", protocol=3).set("pw:key", 1)
        assert "s3cret" not in amb.child.stderr
    finally:
        amb.stop()


def test_read_policy_master(cluster: Cluster) -> None:
    amb = Ambassador(cluster, "--read-policy=master")
    try:
        cluster.reset_stats()
        client = amb.client()
        for _ in range(10):
            client.get("policy:any")
        assert calls(cluster.master.commandstats(), "get") == 10
    finally:
        amb.stop()


def test_blocking_xread_goes_to_a_replica_and_wakes_up(
    cluster: Cluster, ambassador: Ambassador
) -> None:
    reader = ambassador.client()
    writer = ambassador.client()
    writer.delete("stream:s")
    writer.xadd("stream:s", {"n": "0"})
    cluster.wait_synced()
    last = reader.xrange("stream:s")[-1][0]
    cluster.reset_stats()
    result: list[object] = []
    thread = threading.Thread(
        target=lambda: result.append(reader.xread({"stream:s": last}, block=20000))
    )
    thread.start()
    deadline = time.monotonic() + 10
    while not any(
        c.get("cmd") == "xread" for r in cluster.replicas for c in r.client().client_list()
    ):
        assert time.monotonic() < deadline, "XREAD BLOCK never reached a replica"
        time.sleep(0.02)
    assert writer.ping()  # the other client is not stalled
    writer.xadd("stream:s", {"n": "1"})
    thread.join(20)
    assert result and result[0]
    assert calls(cluster.master.commandstats(), "xread") == 0


def test_monitor_is_a_pass_through(ambassador: Ambassador) -> None:
    client = ambassador.client()
    with client.monitor() as monitor:
        ambassador.client().set("monitor:key", "seen")
        for _ in range(50):
            command = monitor.next_command()
            if "monitor:key" in command["command"]:
                break
        else:
            raise AssertionError("MONITOR never showed the SET")


def test_reset_unknown_commands_and_hello_setname(ambassador: Ambassador) -> None:
    client = ambassador.client(single_connection_client=True)
    client.execute_command("SELECT", "5")
    client.set("reset:key", 1)
    assert client.execute_command("RESET") in (b"RESET", "RESET")
    assert client.get("reset:key") is None  # back to db 0
    with pytest.raises(redis.ResponseError, match="unknown command"):
        client.execute_command("NOSUCHCOMMAND", "x")
    hello = client.execute_command("HELLO", "2", "SETNAME", "hello-name")
    assert b"server" in hello or "server" in hello
    assert client.client_getname() in ("hello-name", b"hello-name")
    with pytest.raises(redis.ResponseError, match=r"NOPROTO|unsupported"):
        client.execute_command("HELLO", "4")


def test_read_policy_replica_without_replicas_is_an_error(tmp_path: Path) -> None:
    lone = Cluster(tmp_path / "lone", replicas=0)
    amb = Ambassador(lone, "--read-policy=replica", "--consistency=eventual")
    try:
        client = amb.client()
        assert client.set("lone:k", "v")
        with pytest.raises(redis.ResponseError, match="no healthy replica"):
            client.get("lone:k")
        pipe = client.pipeline(transaction=False)
        pipe.set("lone:k", "w").get("lone:k").incr("lone:n")
        results = pipe.execute(raise_on_error=False)
        assert results[0] is True
        assert isinstance(results[1], redis.ResponseError)
        assert results[2] == 1
    finally:
        amb.stop()
        lone.stop()


def test_metrics_count_commands_by_route(cluster: Cluster, ambassador: Ambassador) -> None:
    client = ambassador.client()
    before_master = ambassador.metric(
        'redis_ambassador_commands_total{command="set",route="master"}'
    )
    before_replica = ambassador.metric(
        'redis_ambassador_commands_total{command="get",route="replica"}'
    )
    for _ in range(5):
        client.set("metrics:k", 1)
        client.get("metrics:k")
    assert (
        ambassador.metric('redis_ambassador_commands_total{command="set",route="master"}')
        == before_master + 5
    )
    assert (
        ambassador.metric('redis_ambassador_commands_total{command="get",route="replica"}')
        == before_replica + 5
    )
    assert ambassador.metric("redis_ambassador_clients") >= 1
    assert ambassador.metric("redis_ambassador_upstream_latency_seconds_count") > 0
    assert ambassador.metric("redis_ambassador_upstream_up") == 3
    status, body = ambassador.get("/readyz")
    assert status == 200, body


def receive_until(sock: socket.socket, done: Callable[[bytes], bool]) -> bytes:
    """What the socket receives until ``done`` says it is complete (EOF fails the test)."""
    data = b""
    while not done(data):
        chunk = sock.recv(65536)
        assert chunk, data
        data += chunk
    return data


def test_client_side_caching_reads_where_invalidations_come_from(
    ambassador: Ambassador, cluster: Cluster
) -> None:
    """CLIENT TRACKING ON: the master tracks what this connection reads, so reads stay there and
    the invalidation push reaches the client when another client changes the key."""
    writer = ambassador.client()
    writer.set("tracked:k", "v1")
    cluster.wait_synced()
    cluster.reset_stats()
    with socket.create_connection(("127.0.0.1", ambassador.port), timeout=10) as sock:
        sock.sendall(b"HELLO 3\r\nCLIENT TRACKING ON\r\nGET tracked:k\r\n")
        receive_until(sock, lambda data: data.endswith(b"+OK\r\n$2\r\nv1\r\n"))
        assert calls(cluster.master.commandstats(), "get") == 1
        assert sum(calls(r.commandstats(), "get") for r in cluster.replicas) == 0
        writer.set("tracked:k", "v2")
        push = receive_until(sock, lambda data: b"tracked:k" in data)
        assert push == b">2\r\n$10\r\ninvalidate\r\n*1\r\n$9\r\ntracked:k\r\n"
        cluster.wait_synced()
        sock.sendall(b"CLIENT TRACKING OFF\r\nGET tracked:k\r\n")
        receive_until(sock, lambda data: data.endswith(b"$2\r\nv2\r\n"))
    assert sum(calls(r.commandstats(), "get") for r in cluster.replicas) == 1  # split again
