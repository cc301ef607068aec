"""The Redis ambassador as a podkit service: listener -> sessions -> upstreams, plus health.

Owns the client listener (an asyncio Protocol server, on uvloop when :func:`podkit.core.run`
installs it), the shared topology and counters, the health loop, readiness (``/readyz`` fails while
the master is unreachable) and graceful shutdown: on SIGTERM it stops accepting, stops reading new
commands, lets replies in flight reach their clients within the grace period, then closes.
Embeddable::

    async with RedisAmbassador(RedisAmbassadorSettings(master=HostPort("10.0.0.5", 6379))) as amb:
        ...
"""

from __future__ import annotations

import asyncio

from podkit.core import Service
from podkit.redis_ambassador import __version__
from podkit.redis_ambassador.health import HealthChecker
from podkit.redis_ambassador.metrics import AmbassadorCollector, Stats
from podkit.redis_ambassador.resp import EXTENSION_ERROR, Scanners
from podkit.redis_ambassador.session import ClientSession
from podkit.redis_ambassador.settings import RedisAmbassadorSettings
from podkit.redis_ambassador.topology import Topology
from podkit.redis_ambassador.upstream import SessionConfig

__all__ = ["RedisAmbassador"]


class RedisAmbassador(Service[RedisAmbassadorSettings]):
    """One Redis on localhost: writes to the master, reads to healthy replicas."""

    name = "podkit-redis-ambassador"
    version = __version__
    description = "Redis ambassador: one Redis on localhost that splits reads to replicas."
    metrics_prefix = "redis_ambassador"
    settings_class = RedisAmbassadorSettings

    def __init__(self, settings: RedisAmbassadorSettings | None = None) -> None:
        super().__init__(settings)
        s = self.settings
        upstream_password = s.upstream_secret()
        local_password = s.local_secret()
        sentinel_password = s.sentinel_secret()
        self.redactor.add(upstream_password, local_password, sentinel_password)
        self.topology = Topology(None if s.sentinel else s.master, [] if s.sentinel else s.replica)
        self.stats = Stats()
        upstream_ssl = s.upstream_ssl()
        self.scanners = Scanners.load(s.resp_scanner)
        self.config = SessionConfig(
            s,
            self.topology,
            self.stats,
            upstream_password,
            local_password,
            upstream_ssl,
            self.scanners,
        )
        self.checker = HealthChecker(
            self.topology,
            username=s.upstream_username,
            password=upstream_password,
            interval=s.health_interval,
            timeout=s.health_timeout,
            max_lag=s.max_replica_lag,
            log=self.log,
            sentinels=list(s.sentinel),
            sentinel_master=s.sentinel_master,
            sentinel_username=s.sentinel_username,
            sentinel_password=sentinel_password,
            sentinel_ssl=s.sentinel_ssl(),
            on_master_change=self._master_changed,
            ssl=upstream_ssl,
            server_name=s.upstream_tls_server_name,
        )
        self.server: asyncio.Server | None = None
        self.registry.register(AmbassadorCollector(self.stats, lambda: self.topology))
        self.health.add_readiness_check("master", self._master_ready)

    def _master_ready(self) -> str | None:
        master = self.topology.master
        return None if master.healthy else f"master {master.addr} {master.reason}"

    def _master_changed(self) -> None:
        """A failover: sessions leave the old master and hold their commands for the new one."""
        self.config.pools.drop("master changed (failover)", master_only=True)
        for session in list(self.config.sessions):
            session.master_changed()

    @property
    def port(self) -> int:
        """The port the listener is bound to (useful with port 0)."""
        assert self.server is not None
        return int(self.server.sockets[0].getsockname()[1])

    async def on_start(self) -> None:
        if self.scanners.name == "python" and self.settings.resp_scanner == "auto":
            self.log.warning("RESP scanners run in pure Python (slower)", why=EXTENSION_ERROR)
        await self.checker.check_once()
        self.spawn(self.checker.run(), "health")
        listen = self.settings.listen
        self.server = await asyncio.get_running_loop().create_server(
            lambda: ClientSession(self.config), listen.bind_host, listen.port, reuse_address=True
        )
        self.log.info(
            "listening for Redis clients",
            listen=f"{listen.host}:{self.port}",
            master=str(self.topology.master.addr),
            replicas=[str(node.addr) for node in self.topology.replicas],
            read_policy=self.settings.read_policy,
            commands=self.topology.table.source,
            scanner=self.scanners.name,
            consistency=self.settings.consistency,
        )

    async def on_stop(self) -> None:
        if self.server is not None:
            self.server.close()
        sessions = list(self.config.sessions)
        for session in sessions:
            session.stop_reading()
        started = asyncio.Event()

        async def drain() -> None:
            async with self.work():
                started.set()
                while any(session.busy for session in sessions):  # noqa: ASYNC110
                    await asyncio.sleep(0.01)

        self._drainer = asyncio.create_task(drain())
        await started.wait()

    async def on_close(self) -> None:
        drainer = getattr(self, "_drainer", None)
        if drainer is not None:
            drainer.cancel()
        for session in list(self.config.sessions):
            session.close()
        self.config.pools.close()
        if self.server is not None:
            await self.server.wait_closed()
