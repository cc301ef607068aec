"""Bad input and broken upstreams: each gets a clear error or a retry, and no other client notices."""

from __future__ import annotations

import signal
import socket
import threading
import time

import pytest
import redis

from podkit.redis_ambassador.resp import encode_command
from tests.redis_ambassador.support import Ambassador, Cluster
from tests.support.ports import free_port
from tests.support.waits import wait_until


def read_until_closed(sock: socket.socket) -> bytes:
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk


def raw(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=10)


def test_malformed_resp_gets_a_protocol_error_and_a_closed_connection(
    ambassador: Ambassador,
) -> None:
    bystander = ambassador.client()
    bystander.set("fault:bystander", "fine")
    cases = {
        b"*1\r\n$x\r\n": b"-ERR Protocol error: invalid bulk length\r\n",
        b"*a\r\n": b"-ERR Protocol error: invalid multibulk length\r\n",
        b"*2\r\n+PING\r\n": b"-ERR Protocol error: expected '$', got '+'\r\n",
        b'ECHO "unterminated\r\n': b"-ERR Protocol error: unbalanced quotes in request\r\n",
    }
    for payload, expected in cases.items():
        with raw(ambassador.port) as sock:
            sock.sendall(b"PING\r\n" + payload + b"PING\r\n")
            assert read_until_closed(sock) == b"+PONG\r\n" + expected
    assert bystander.get("fault:bystander") == b"fine"


def test_oversized_bulk_length(cluster: Cluster) -> None:
    amb = Ambassador(cluster, "--max-bulk-len=1KiB")
    try:
        with raw(amb.port) as sock:
            sock.sendall(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5000\r\n")
            assert read_until_closed(sock) == b"-ERR Protocol error: invalid bulk length\r\n"
        assert amb.client().set("fault:small", "x" * 1000)
        assert amb.metric("redis_ambassador_errors_total") >= 1
    finally:
        amb.stop()


@pytest.mark.parametrize("depth", [1, 50, 500])
def test_commands_sent_before_the_client_left_all_run(
    ambassador: Ambassador, cluster: Cluster, depth: int
) -> None:
    """As on Redis: every complete command runs, even when the client closes without reading
    (`printf 'SET k v' | nc -q0`), and small and big pipelines alike (shared or own upstreams)."""
    other = ambassador.client()
    master = cluster.master.client()
    keys = [f"fault:left:{depth}:{n}" for n in range(20)]
    master.delete(*keys)
    for key in keys:
        with raw(ambassador.port) as sock:
            pipeline = b"".join(
                encode_command([b"SET", key.encode(), b"%03d" % i]) for i in range(depth)
            )
            sock.sendall(pipeline + b"*2\r\n$3\r\nGET\r\n$8\r\nfault:")  # cut mid-frame
        assert other.ping()
    last = b"%03d" % (depth - 1)
    wait_until(lambda: master.mget(keys) == [last] * len(keys), what=f"every key at {last!r}")


def test_a_blocked_command_of_a_client_that_left_takes_nothing(
    ambassador: Ambassador, cluster: Cluster
) -> None:
    """A client that left while blocked is dropped, as Redis drops its own: nothing popped."""
    master = cluster.master.client()
    master.delete("fault:queue")

    def blocked() -> int:
        return int(master.info("clients")["blocked_clients"])

    before = blocked()  # another test's blocked client may still be there
    with raw(ambassador.port) as sock:
        sock.sendall(encode_command([b"SET", b"fault:before", b"1"]))
        sock.sendall(encode_command([b"BLPOP", b"fault:queue", b"0"]))
        assert sock.recv(100) == b"+OK\r\n"
        wait_until(lambda: blocked() == before + 1, 10, "the BLPOP to block")
    wait_until(lambda: blocked() == before, 10, "the blocked client to be dropped")
    master.rpush("fault:queue", "job")
    time.sleep(0.2)
    assert master.lrange("fault:queue", 0, -1) == [b"job"]


def test_client_that_never_reads_is_bounded_and_isolated(cluster: Cluster) -> None:
    amb = Ambassador(cluster, "--max-output-buffer=256KiB")
    try:
        amb.client().set("fault:big", "x" * 100_000)
        sock = raw(amb.port)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.setblocking(False)
        request = b"*2\r\n$3\r\nGET\r\n$9\r\nfault:big\r\n" * 100
        sent = 0
        try:
            for _ in range(2000):  # 200k GETs of 100 kB: 20 GB of replies if nothing pushed back
                sent += sock.send(request)
        except BlockingIOError:
            pass  # the ambassador stopped reading from us: back-pressure works
        assert sent < len(request) * 2000
        other = amb.client()
        assert other.set("fault:other", 1)
        assert other.get("fault:other") == b"1"
        sock.close()
    finally:
        amb.stop()


def test_killed_replica_under_load_reads_keep_working(own_cluster: Cluster) -> None:
    cluster = own_cluster
    amb = Ambassador(cluster, "--replica-choice=least-outstanding")
    try:
        seed = amb.client()
        for index in range(100):
            seed.set(f"load:{index}", index)
        cluster.wait_synced()
        errors: list[BaseException] = []
        wrong: list[object] = []
        stop = threading.Event()
        done = [0]

        def reader() -> None:
            client = amb.client()
            try:
                while not stop.is_set():
                    pipe = client.pipeline(transaction=False)
                    for index in range(100):
                        pipe.get(f"load:{index}")
                    results = pipe.execute()
                    wrong.extend(r for index, r in enumerate(results) if r != str(index).encode())
                    done[0] += 1
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=reader) for _ in range(4)]
        for thread in threads:
            thread.start()
        while done[0] < 20:
            threading.Event().wait(0.01)
        cluster.replicas[0].kill()
        before = done[0]
        while done[0] < before + 40:
            threading.Event().wait(0.01)
        cluster.replicas[1].kill()  # no replica left: prefer-replica falls back to the master
        before = done[0]
        while done[0] < before + 40 and not errors:
            threading.Event().wait(0.01)
        stop.set()
        for thread in threads:
            thread.join(30)
        assert errors == []
        assert wrong == []
        port = cluster.replicas[0].port
        up = f'redis_ambassador_upstream_up{{address="127.0.0.1:{port}",role="replica"}}'
        assert amb.metric(up) == 0
        # a replica that comes back returns to the rotation
        cluster.replicas[0] = cluster.replicas[0].restart()
        cluster.replicas[0].wait_link_up()
        cluster.replicas[0].client().config_resetstat()
        deadline = threading.Event()
        for _ in range(400):
            amb.client().get("load:1")
            if cluster.replicas[0].commandstats().get("get", 0):
                break
            deadline.wait(0.05)
        assert cluster.replicas[0].commandstats().get("get", 0) > 0
    finally:
        amb.stop()
        cluster.replicas[1].stop()


def test_readyz_follows_the_master(own_cluster: Cluster) -> None:
    amb = Ambassador(own_cluster)
    try:
        amb.wait_ready()
        client = amb.client()
        assert client.set("ready:k", 1)
        own_cluster.master.stop()
        amb.wait_ready(False)
        status, body = amb.get("/readyz")
        assert status == 503
        assert "master" in body
        with pytest.raises(redis.RedisError):
            client.set("ready:k", 2)
    finally:
        amb.stop()


def test_sigterm_lets_in_flight_replies_finish(cluster: Cluster) -> None:
    amb = Ambassador(cluster)
    try:
        client = amb.client()
        client.delete("term:list")
        result: list[object] = []
        thread = threading.Thread(target=lambda: result.append(client.blpop(["term:list"], 2)))
        thread.start()
        while not any(c.get("cmd") == "blpop" for c in cluster.master.client().client_list()):
            threading.Event().wait(0.02)
        amb.child.signal(signal.SIGTERM)
        thread.join(20)
        assert result == [None]  # the BLPOP timed out normally: its reply was not cut off
        assert amb.child.wait(20) == 0
    finally:
        amb.stop()


def test_broken_replication_link_takes_a_replica_out_of_rotation(own_cluster: Cluster) -> None:
    cluster = own_cluster
    amb = Ambassador(cluster)
    try:
        amb.wait_ready()
        broken, good = cluster.replicas
        broken.client().replicaof("127.0.0.1", free_port())  # a master that is not there
        up = f'redis_ambassador_upstream_up{{address="127.0.0.1:{broken.port}",role="replica"}}'
        deadline = time.monotonic() + 20
        while amb.metric(up) != 0:
            assert time.monotonic() < deadline, "the broken replica stayed in the rotation"
            time.sleep(0.05)
        cluster.reset_stats()
        clients = [amb.client() for _ in range(6)]  # round-robin would give some the broken one
        for client in clients:
            client.set("link:k", "v")
        cluster.master.client().wait(1, 5000)
        for client in clients:
            client.get("link:k")
        assert broken.commandstats().get("get", 0) == 0
        assert good.commandstats().get("get", 0) == 6
        # repaired, it comes back
        broken.client().replicaof("127.0.0.1", cluster.master.port)
        broken.wait_link_up()
        while amb.metric(up) != 1:
            assert time.monotonic() < deadline + 20, "the repaired replica never came back"
            time.sleep(0.05)
    finally:
        amb.stop()


def test_a_master_restart_is_held_and_an_inflight_write_is_not_replayed(
    own_cluster: Cluster,
) -> None:
    amb = Ambassador(own_cluster, "--failover-hold=15s")
    try:
        blocked = amb.client()
        writer = amb.client(single_connection_client=True)
        writer.set("hold:before", "1")
        outcome: list[object] = []

        def blocked_write() -> None:
            try:
                outcome.append(blocked.blmove("hold:src", "hold:dst", 0))
            except redis.RedisError as exc:
                outcome.append(exc)

        thread = threading.Thread(target=blocked_write)
        thread.start()
        wait_until(lambda: own_cluster.master.client().info("clients")["blocked_clients"] == 1)
        master = own_cluster.master
        master.kill()
        thread.join(10)
        # in flight when the master died: it may have been applied, so it is never resent
        assert len(outcome) == 1 and isinstance(outcome[0], redis.ResponseError)
        assert "may have been applied" in str(outcome[0])
        results: list[object] = []

        def during() -> None:
            try:
                results.append(writer.set("hold:during", "2"))
                results.append(writer.get("hold:during"))
            except redis.RedisError as exc:
                results.append(exc)

        sender = threading.Thread(target=during)
        sender.start()  # sent while the master is down: held
        time.sleep(1.0)
        assert results == []
        own_cluster.master = master.restart()
        sender.join(20)
        assert results == [True, b"2"]
        assert own_cluster.master.client().get("hold:during") == b"2"
        assert amb.metric("redis_ambassador_errors_total") >= 1  # the lost master, counted
    finally:
        amb.stop()


def test_past_the_failover_hold_commands_get_an_error(own_cluster: Cluster) -> None:
    amb = Ambassador(own_cluster, "--failover-hold=1s")
    try:
        client = amb.client(single_connection_client=True)
        client.set("expire:k", "v")
        own_cluster.master.kill()
        with pytest.raises((redis.ResponseError, redis.ConnectionError), match="upstream"):
            client.set("expire:k", "w")
        assert amb.metric("redis_ambassador_errors_total") >= 1
    finally:
        amb.stop()
