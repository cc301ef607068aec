"""Shared upstream connections: clients in the default state share one connection per server.

Replies go back to the client that sent the command, in order, however many clients interleave;
a client that changes its state moves to connections of its own without reordering its commands;
a client leaving or an upstream dying with several clients' commands in flight on a shared
connection never hands one client another's reply.
"""

from __future__ import annotations

import socket
import threading
import time

import hiredis
import pytest
import redis

from tests.redis_ambassador.support import Ambassador, Cluster


def command(*args: bytes | str | int) -> bytes:
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        raw = arg if isinstance(arg, bytes) else str(arg).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(raw), raw))
    return b"".join(parts)


class Conn:
    """A raw client: send any bytes, read back a number of decoded replies."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.reader = hiredis.Reader()

    def send(self, *commands: bytes) -> None:
        self.sock.sendall(b"".join(commands))

    def replies(self, count: int) -> list[object]:
        """``count`` replies; an error reply is returned as its exception, EOF stops early."""
        out: list[object] = []
        while len(out) < count:
            item = self.reader.gets()
            if item is not False:
                out.append(item)
                continue
            data = self.sock.recv(65536)
            if not data:
                break
            self.reader.feed(data)
        return out

    def close(self) -> None:
        self.sock.close()


def connected_clients(cluster: Cluster) -> int:
    return int(cluster.master.client().info("clients")["connected_clients"])


def settled_clients(cluster: Cluster) -> int:
    """The master's client count once connections of earlier tests finished closing."""
    previous = connected_clients(cluster)
    for _ in range(50):
        time.sleep(0.1)
        current = connected_clients(cluster)
        if current == previous:
            return current
        previous = current
    return previous


def test_many_clients_interleave_pipelines_on_shared_connections(cluster: Cluster) -> None:
    # session consistency (the default): each GET, on the master or a replica, sees the SET
    ambassador = Ambassador(cluster)
    before = connected_clients(cluster)
    conns = [Conn(ambassador.port) for _ in range(30)]
    errors: list[str] = []

    def work(index: int, conn: Conn) -> None:
        for round_ in range(30):
            pipeline = []
            expected: list[object] = []
            for j in range(1 + (index + round_) % 12):
                key = f"shared:{index}:{j}"
                value = f"{index}-{round_}-{j}"
                pipeline += [command("SET", key, value), command("GET", key)]
                pipeline.append(command("INCR", f"shared:ctr:{index}"))
                expected += [b"OK", value.encode(), None]
            conn.send(*pipeline)
            got = conn.replies(len(pipeline))
            for k in range(0, len(got), 3):
                if got[k] != b"OK" or got[k + 1] != expected[k + 1]:
                    errors.append(f"client {index} round {round_}: {got[k : k + 3]!r}")
                if not isinstance(got[k + 2], int):
                    errors.append(f"client {index}: INCR gave {got[k + 2]!r}")
            counters = [got[k + 2] for k in range(0, len(got), 3)]
            if counters != sorted(counters) or len(set(counters)) != len(counters):
                errors.append(f"client {index}: INCR replies out of order {counters}")

    for conn in conns:
        conn.send(command("PING"))
        assert conn.replies(1) == [b"PONG"]
    during = connected_clients(cluster)
    threads = [threading.Thread(target=work, args=(i, c)) for i, c in enumerate(conns)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for conn in conns:
        conn.close()
    ambassador.stop()
    assert errors == []
    # 30 clients, but only a shared connection or two more on the master
    assert during - before <= 3


def test_client_switching_state_mid_pipeline_keeps_its_order(cluster: Cluster) -> None:
    # session consistency (the default): no read below races a write before it
    ambassador = Ambassador(cluster)
    try:
        check_switching(ambassador)
    finally:
        ambassador.stop()


def check_switching(ambassador: Ambassador) -> None:
    other = ambassador.client()
    other.delete("switch:k")
    conn = Conn(ambassador.port)
    # the SETs are in flight on the shared connection when SELECT arrives in the same read
    conn.send(
        command("SET", "switch:k", "1"),
        command("INCR", "switch:k"),
        command("SELECT", "1"),
        command("GET", "switch:k"),
        command("SET", "switch:k", "db1"),
        command("SELECT", "0"),
        command("GET", "switch:k"),
        command("CLIENT", "SETNAME", "switcher"),
        command("CLIENT", "GETNAME"),
        command("GET", "switch:k"),
    )
    assert conn.replies(10) == [b"OK", 2, b"OK", None, b"OK", b"OK", b"2", b"OK", b"switcher", b"2"]
    assert other.get("switch:k") == b"2"  # the shared connections stayed in DB 0
    conn.send(command("SELECT", "1"), command("GET", "switch:k"))
    assert conn.replies(2) == [b"OK", b"db1"]
    assert other.client_getname() is None
    conn.send(command("SELECT", "1"), command("DEL", "switch:k"))
    assert conn.replies(2) == [b"OK", 1]
    conn.close()
    # a transaction and a blocking pop after shared traffic, in one read
    conn = Conn(ambassador.port)
    conn.send(
        command("DEL", "switch:list"),
        command("RPUSH", "switch:list", "a"),
        command("MULTI"),
        command("RPUSH", "switch:list", "b"),
        command("EXEC"),
        command("BLPOP", "switch:list", "1"),
        command("RPOP", "switch:list"),  # a write: the master
    )
    assert conn.replies(7) == [
        0,
        1,
        b"OK",
        b"QUEUED",
        [2],
        [b"switch:list", b"a"],
        b"b",
    ]
    conn.close()


def test_client_leaving_with_replies_pending_on_a_shared_connection(
    ambassador: Ambassador,
) -> None:
    seed = ambassador.client()
    seed.set("leave:big", "x" * 50_000)
    errors: list[str] = []
    stop = threading.Event()

    def checker(index: int) -> None:
        conn = Conn(ambassador.port)
        n = 0
        while not stop.is_set():
            n += 1
            value = f"{index}:{n}"
            key = f"leave:{index}"
            conn.send(command("SET", key, value), command("GETDEL", key))  # both on the master
            got = conn.replies(2)
            if got != [b"OK", value.encode()]:
                errors.append(f"{index}: {got!r}")
                return
        conn.close()

    threads = [threading.Thread(target=checker, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for _ in range(30):
        conn = Conn(ambassador.port)
        conn.send(*(command("GET", "leave:big") for _ in range(100)))
        conn.close()  # with most replies still owed
    time.sleep(0.2)
    stop.set()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert seed.ping()


@pytest.mark.parametrize("role", ["master", "replica"])
def test_upstream_dying_with_several_clients_pending(own_cluster: Cluster, role: str) -> None:
    cluster = own_cluster
    amb = Ambassador(cluster, "--read-policy=prefer-replica", "--replica-choice=round-robin")
    try:
        amb.wait_ready()
        seed = amb.client()
        for index in range(8):
            seed.set(f"die:{index}", f"value-{index}")
        cluster.wait_synced()
        conns = [Conn(amb.port) for _ in range(8)]
        for conn in conns:
            conn.send(command("PING"))
            assert conn.replies(1) == [b"PONG"]
        servers = [cluster.master] if role == "master" else cluster.replicas
        for server in servers:  # every command sent to it now stays in flight
            server.client().client_pause(5000)
        for index, conn in enumerate(conns):
            key, value = f"die:{index}", f"value-{index}"
            # a read goes to a replica, SET ... GET (same value, old one back) to the master
            request = (
                command("GET", key) if role == "replica" else command("SET", key, value, "GET")
            )
            conn.send(*(request for _ in range(5)))
        time.sleep(0.3)
        for server in servers:
            server.kill()
        for index, conn in enumerate(conns):
            got = conn.replies(5)
            if role == "replica":  # reads are resent to the master: every client gets its value
                assert got == [f"value-{index}".encode()] * 5, (index, got)
            else:  # an error per command (or the connection closed), never another's value
                for item in got:
                    assert isinstance(item, hiredis.ReplyError), (index, got)
                    assert "upstream" in str(item)
            conn.close()
        if role == "replica":
            assert amb.client().get("die:3") == b"value-3"
        else:
            with pytest.raises(redis.RedisError):
                amb.client().set("die:x", 1)
    finally:
        amb.stop()


def test_wait_covers_writes_made_on_the_shared_connection(
    cluster: Cluster, ambassador: Ambassador
) -> None:
    conn = Conn(ambassador.port)
    for n in range(20):
        value = f"w{n}"
        conn.send(command("SET", "wait:k", value), command("WAIT", "2", "5000"))
        assert conn.replies(2) == [b"OK", 2]
        for replica in cluster.replicas:  # WAIT returned: both replicas have the write
            assert replica.client().get("wait:k") == value.encode()
    conn.close()


def test_no_share_connections_gives_each_client_its_own(cluster: Cluster) -> None:
    """--no-share-connections: every client has a master connection of its own from the start."""
    ambassador = Ambassador(cluster, "--no-share-connections")
    try:
        before = settled_clients(cluster)
        conns = [Conn(ambassador.port) for _ in range(8)]
        for index, conn in enumerate(conns):
            conn.send(command("SET", f"own:{index}", index), command("GET", f"own:{index}"))
        for index, conn in enumerate(conns):
            assert conn.replies(2) == [b"OK", str(index).encode()]
        assert connected_clients(cluster) - before >= 8  # shared: one or two
        for conn in conns:
            conn.close()
    finally:
        ambassador.stop()


def test_redis_py_handshakes_stay_on_shared_connections(cluster: Cluster) -> None:
    """HELLO 3 and CLIENT SETINFO (redis-py's connect) keep clients on the shared connections,
    one per protocol, and a RESP3 client still gets RESP3 (a map) from the master and replicas."""
    ambassador = Ambassador(cluster)
    try:
        before = settled_clients(cluster)
        clients = [
            ambassador.client(protocol=protocol, single_connection_client=True)
            for protocol in (2, 3)
            for _ in range(6)
        ]
        for index, client in enumerate(clients):
            client.set(f"hs:{index}", index)
            assert client.get(f"hs:{index}") == str(index).encode()
        # twelve clients: the shared RESP2 and RESP3 connections (and the health check's)
        assert connected_clients(cluster) - before <= 3
        clients[0].hset("hs:h", "f", "v")
        cluster.wait_synced()
        conn = Conn(ambassador.port)
        conn.send(command("HELLO", "3"), command("HGETALL", "hs:h"), command("HELLO", "2"))
        conn.send(command("HGETALL", "hs:h"))
        hello3, resp3, hello2, resp2 = conn.replies(4)
        assert isinstance(hello3, dict) and hello3[b"proto"] == 3
        assert resp3 == {b"f": b"v"}  # a RESP3 map
        assert isinstance(hello2, list) and resp2 == [b"f", b"v"]  # back to RESP2 arrays
        conn.close()
        assert connected_clients(cluster) - before <= 3
        for client in clients:
            client.close()
    finally:
        ambassador.stop()
