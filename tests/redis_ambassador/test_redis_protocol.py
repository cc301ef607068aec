"""Exact protocol semantics, checked byte for byte against the master answering the same bytes
directly: the UNSUBSCRIBE family in every state and argument count, the replication commands
refused with a clear error on a connection that stays usable, AUTH and HELLO AUTH as Redis
answers them (ACL users and their permissions apply to the client's commands, replica reads
included), and CONFIG SET whose effect the client sees."""

from __future__ import annotations

import socket
import time

import pytest

from podkit.redis_ambassador.resp import encode_command
from tests.redis_ambassador.support import Ambassador, Cluster


def exchange(port: int, payload: bytes, settle: float = 0.3) -> bytes:
    """Everything a connection receives for ``payload`` (a pipeline ending in PING)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(payload)
        data = b""
        deadline = time.monotonic() + 10
        while not data.endswith((b"+PONG\r\n", b"*2\r\n$4\r\npong\r\n$0\r\n\r\n")):
            assert time.monotonic() < deadline, data
            chunk = sock.recv(65536)
            assert chunk, f"closed after {data!r}"
            data += chunk
        time.sleep(settle)  # nothing more may follow
        sock.setblocking(False)
        try:
            extra = sock.recv(65536)
        except BlockingIOError:
            extra = b""
        assert extra == b"", extra
        return data


def commands(*args: tuple[str, ...]) -> bytes:
    return b"".join(encode_command([a.encode() for a in cmd]) for cmd in args)


UNSUBSCRIBES = [
    commands(("UNSUBSCRIBE", "a", "b", "c"), ("PING",)),
    commands(("UNSUBSCRIBE",), ("PING",)),
    commands(("PUNSUBSCRIBE", "p*", "q*"), ("PING",)),
    commands(("PUNSUBSCRIBE",), ("PING",)),
    commands(("SUNSUBSCRIBE", "s1", "s2"), ("PING",)),
    commands(("SUNSUBSCRIBE",), ("PING",)),
    commands(("SUBSCRIBE", "a", "b"), ("UNSUBSCRIBE", "b", "c", "d"), ("UNSUBSCRIBE",), ("PING",)),
    commands(("PSUBSCRIBE", "x*"), ("PUNSUBSCRIBE", "x*", "y*"), ("PING",)),
    commands(("SET", "unsub:k", "v"), ("UNSUBSCRIBE", "a", "b"), ("GET", "unsub:k"), ("PING",)),
]


@pytest.mark.parametrize("protocol", [2, 3])
@pytest.mark.parametrize("payload", UNSUBSCRIBES)
def test_unsubscribe_in_every_state_is_what_redis_answers(
    cluster: Cluster, ambassador: Ambassador, payload: bytes, protocol: int
) -> None:
    if protocol == 3:
        payload = commands(("HELLO", "3")) + payload
    direct = exchange(cluster.master.port, payload)
    through = exchange(ambassador.port, payload)
    if protocol == 3:  # HELLO's map names the server it came from; compare what follows it
        direct = direct[direct.index(b"modules") :]
        through = through[through.index(b"modules") :]
    assert through == direct


@pytest.mark.parametrize(
    "command",
    [("SYNC",), ("PSYNC", "?", "-1"), ("REPLCONF", "listening-port", "6380")],
)
def test_replication_commands_are_refused_and_the_connection_stays_usable(
    ambassador: Ambassador, command: tuple[str, ...]
) -> None:
    payload = commands(("SET", "repl:k", "v"), command, ("GET", "repl:k"), ("PING",))
    reply = exchange(ambassador.port, payload)
    name = command[0].encode()
    assert reply == (
        b"+OK\r\n-ERR "
        + name
        + b" is not served through the Redis ambassador: a replica must connect to the master"
        b" itself\r\n$1\r\nv\r\n+PONG\r\n"
    )


@pytest.fixture
def bob(cluster: Cluster) -> object:
    """An ACL user on the master only (ACLs are not replicated): all commands but GET."""
    master = cluster.master.client()
    master.execute_command("ACL", "SETUSER", "bob", "on", ">bobpw", "~*", "&*", "+@all", "-get")
    yield "bob"
    master.execute_command("ACL", "DELUSER", "bob")


AUTHS = [
    commands(("AUTH", "bob", "wrong"), ("PING",)),
    commands(("AUTH", "nosuchuser", "x"), ("PING",)),
    commands(("AUTH", "onlyone"), ("PING",)),
    commands(("AUTH", "default", "anything"), ("PING",)),
    commands(("AUTH",), ("PING",)),
    commands(("AUTH", "bob", "bobpw"), ("SET", "acl:k", "v"), ("GET", "acl:k"), ("PING",)),
    commands(
        ("AUTH", "bob", "bobpw"),
        ("EVAL", "return redis.call('GET', KEYS[1])", "1", "acl:k"),
        ("MGET", "acl:k"),
        ("PING",),
    ),
    commands(("HELLO", "2", "AUTH", "bob", "wrong"), ("PING",)),
    commands(("AUTH", "bob", "bobpw"), ("GET", "acl:k"), ("STRLEN", "acl:k"), ("PING",)),
]


@pytest.mark.usefixtures("bob")
@pytest.mark.parametrize("payload", AUTHS)
def test_auth_is_answered_as_redis_answers_it(
    cluster: Cluster, ambassador: Ambassador, payload: bytes
) -> None:
    assert exchange(ambassador.port, payload) == exchange(cluster.master.port, payload)


@pytest.mark.usefixtures("bob")
def test_hello_auth_applies_the_users_acl_on_every_path(
    cluster: Cluster, ambassador: Ambassador
) -> None:
    payload = commands(
        ("HELLO", "3", "AUTH", "bob", "bobpw", "SETNAME", "bobconn"),
        ("SET", "acl:h", "1"),
        ("GET", "acl:h"),
        ("STRLEN", "acl:h"),
        ("ACL", "WHOAMI"),
        ("CLIENT", "GETNAME"),
        ("PING",),
    )
    through = exchange(ambassador.port, payload)
    direct = exchange(cluster.master.port, payload)
    assert through[through.index(b"modules") :] == direct[direct.index(b"modules") :]
    assert b"-NOPERM" in through and b"$3\r\nbob\r\n" in through


@pytest.mark.usefixtures("bob")
def test_after_auth_replica_reads_run_as_the_user(cluster: Cluster, ambassador: Ambassador) -> None:
    with socket.create_connection(("127.0.0.1", ambassador.port), timeout=10) as sock:
        sock.sendall(commands(("AUTH", "bob", "bobpw")))
        assert sock.recv(100) == b"+OK\r\n"
        time.sleep(0.2)
        sock.sendall(commands(("GET", "acl:k"), ("ACL", "WHOAMI"), ("PING",)))
        data = b""
        while not data.endswith(b"+PONG\r\n"):
            data += sock.recv(65536)
    assert data.startswith(b"-NOPERM") and data.endswith(b"$3\r\nbob\r\n+PONG\r\n")


def test_config_set_is_seen_by_the_clients_reads(cluster: Cluster, ambassador: Ambassador) -> None:
    master = cluster.master.client()
    before = master.config_get("hash-max-listpack-entries")["hash-max-listpack-entries"]
    client = ambassador.client(single_connection_client=True)
    try:
        client.delete("cfg:h")
        client.config_set("hash-max-listpack-entries", 1)
        client.hset("cfg:h", mapping={"a": "1", "b": "2"})
        cluster.wait_synced()
        cluster.reset_stats()
        assert client.object("encoding", "cfg:h") == b"hashtable"
        assert client.hgetall("cfg:h") == {b"a": b"1", b"b": b"2"}
        # this connection's reads now see the master's configuration: they go there
        assert cluster.master.commandstats().get("hgetall", 0) == 1
    finally:
        master.config_set("hash-max-listpack-entries", before)
        client.close()
