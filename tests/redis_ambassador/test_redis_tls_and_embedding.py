"""Upstream TLS (CA, client certificate, SNI) against real TLS redis-servers; the in-process API."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import redis
import redis.asyncio as aioredis

from podkit.core import HostPort
from podkit.redis_ambassador.service import RedisAmbassador
from podkit.redis_ambassador.settings import RedisAmbassadorSettings
from tests.redis_ambassador.support import Ambassador, Cluster, Server, need
from tests.support.certs import make_certs
from tests.support.ports import free_port, wait_for_port
from tests.support.processes import Child


def tls_server(directory: Path, certs: dict[str, Path], master: int | None = None) -> Server:
    port = free_port()
    return Server(
        directory, master,
        "--port", "0", "--tls-port", str(port),
        "--tls-cert-file", str(certs["cert"]), "--tls-key-file", str(certs["key"]),
        "--tls-ca-cert-file", str(certs["ca"]), "--tls-auth-clients", "yes",
        "--tls-replication", "yes",
        port=port,
    )  # fmt: skip


def test_upstream_tls_with_client_certificate_and_sni(tmp_path: Path) -> None:
    certs = make_certs(tmp_path / "certs", ("redis.test",))
    master = tls_server(tmp_path / "m", certs)
    replica = tls_server(tmp_path / "r", certs, master.port)

    def direct(server: Server) -> redis.Redis:
        return redis.Redis(
            host="127.0.0.1", port=server.port, ssl=True, ssl_ca_certs=str(certs["ca"]),
            ssl_certfile=str(certs["cert"]), ssl_keyfile=str(certs["key"]),
        )  # fmt: skip

    cluster = Cluster.__new__(Cluster)
    cluster.master, cluster.replicas = master, [replica]
    amb: Ambassador | None = None
    try:
        deadline = time.monotonic() + 20
        while direct(replica).info("replication").get("master_link_status") != "up":
            assert time.monotonic() < deadline, "the TLS replica never linked"
            time.sleep(0.05)
        amb = Ambassador(
            cluster,
            "--upstream-tls",
            f"--upstream-tls-ca={certs['ca']}",
            f"--upstream-tls-cert={certs['cert']}",
            f"--upstream-tls-key={certs['key']}",
            "--upstream-tls-server-name=redis.test",
        )
        amb.wait_ready()
        client = amb.client()  # plain text on loopback; TLS only upstream
        assert client.set("tls:k", "secure")
        direct(master).wait(1, 5000)
        direct(replica).config_resetstat()
        assert client.get("tls:k") == b"secure"
        assert int(direct(replica).info("commandstats")["cmdstat_get"]["calls"]) == 1
    finally:
        if amb is not None:
            amb.stop()
        replica.stop()
        master.stop()


def test_tls_to_a_plain_server_fails_clearly(cluster: Cluster) -> None:
    amb = Ambassador(cluster, "--upstream-tls", "--no-upstream-tls-verify")
    try:
        with pytest.raises(redis.RedisError):
            amb.client().ping()
        status, _ = amb.get("/readyz")
        assert status == 503
    finally:
        amb.stop()


async def test_embedded_in_an_asyncio_app(cluster: Cluster) -> None:
    settings = RedisAmbassadorSettings(
        listen=HostPort("127.0.0.1", 0),
        master=HostPort("127.0.0.1", cluster.master.port),
        replica=[HostPort("127.0.0.1", r.port) for r in cluster.replicas],
        admin_listen=None,
    )
    async with RedisAmbassador(settings) as ambassador:
        client = aioredis.Redis(port=ambassador.port, protocol=3)
        async with client.pipeline(transaction=False) as pipe:
            for index in range(50):
                pipe.set(f"embed:{index}", index).get(f"embed:{index}")
            results = await pipe.execute()
        assert results[1::2] == [str(index).encode() for index in range(50)]
        assert ambassador.stats.commands["master"][b"set"] >= 50
        await client.aclose()


def test_sentinel_over_tls(tmp_path: Path, cluster: Cluster) -> None:
    """A Sentinel that only speaks TLS (client certificates required) in front of a plain cluster."""
    certs = make_certs(tmp_path / "certs", ("redis.test",))
    port = free_port()
    directory = tmp_path / "sentinel"
    directory.mkdir()
    config = directory / "sentinel.conf"
    config.write_text(
        f"port 0\ntls-port {port}\nbind 127.0.0.1\ndir {directory}\n"
        f"tls-cert-file {certs['cert']}\ntls-key-file {certs['key']}\n"
        f"tls-ca-cert-file {certs['ca']}\ntls-auth-clients yes\ntls-replication no\n"
        f"sentinel monitor tlsmaster 127.0.0.1 {cluster.master.port} 1\n"
        "sentinel down-after-milliseconds tlsmaster 600000\n"  # never fails the shared master over
    )
    sentinel = Child([need("redis-server"), str(config), "--sentinel"])
    plain: Ambassador | None = None
    amb: Ambassador | None = None
    try:
        wait_for_port(port)
        common = (
            "--master=", "--sentinel-master=tlsmaster", f"--sentinel=127.0.0.1:{port}",
            f"--upstream-tls-ca={certs['ca']}", f"--upstream-tls-cert={certs['cert']}",
            f"--upstream-tls-key={certs['key']}", "--upstream-tls-server-name=redis.test",
        )  # fmt: skip
        amb = Ambassador(cluster, *common, "--sentinel-tls")
        amb.wait_ready()  # the master came from the Sentinel, over TLS; the servers are plain
        assert amb.client().set("tls:sentinel", "found")
        cluster.wait_synced()
        cluster.reset_stats()
        assert amb.client().get("tls:sentinel") == b"found"
        assert sum(r.commandstats().get("get", 0) for r in cluster.replicas) == 1

        plain = Ambassador(cluster, *common)  # no --sentinel-tls: the Sentinel refuses it
        time.sleep(0.5)
        assert plain.get("/readyz")[0] == 503
        assert "no Sentinel answered" in plain.child.stderr + plain.child.stdout
    finally:
        for each in (amb, plain):
            if each is not None:
                each.stop()
        sentinel.stop()
