"""The health loop: checks the master and every replica, and keeps the topology up to date.

Each round sends ``INFO replication`` to the master, then to every replica, over one persistent
connection per node (authenticated like the sessions' connections). The master must answer as
``role:master``; on each (re)connection to it the command table is rebuilt from ``COMMAND``. A
replica stays in the rotation while it answers within the timeout, reports ``role:slave`` with
``master_link_status:up``, and is not lagging: lag is measured by offsets, as the age of the
oldest master offset sample the replica has not applied yet (zero when it has applied the latest),
so an idle master, whose replicas hear from it only every ``repl-ping-replica-period``, never
trips the bound. A node's health is logged once per change of state, not once per round. A
round runs every interval, or early when something asks (``Topology.poke``).

When the master's replication ID changes (a restart that lost its data, a failover), the offset
session consistency requires is reset to the new master's offset: replicas must reach it.

With Sentinels, each round first asks them (the first that answers) for the master's address and
its replicas; a ``+switch-master`` message on any Sentinel starts a round at once. When the master
changes, ``on_master_change`` runs so sessions drop their connections to the old one.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from ssl import SSLContext
from typing import Any

import hiredis

from podkit.core import HostPort, Logger
from podkit.redis_ambassador.commands import CommandTable
from podkit.redis_ambassador.resp import encode_command
from podkit.redis_ambassador.topology import Node, Topology

__all__ = ["HealthChecker", "UpstreamClient", "parse_info"]


class UpstreamError(Exception):
    """An upstream answered with an error reply."""


class UpstreamClient:
    """A minimal request/response Redis client over asyncio streams and hiredis."""

    def __init__(
        self,
        addr: HostPort,
        username: str,
        password: str,
        timeout: float,
        ssl: SSLContext | None = None,
        server_name: str = "",
    ) -> None:
        self.addr = addr
        self.ssl = ssl
        self.server_name = server_name
        self.username = username
        self.password = password
        self.timeout = timeout or None
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._parser = hiredis.Reader()

    @property
    def connected(self) -> bool:
        return self._writer is not None

    async def connect(self) -> None:
        self._reader, self._writer = await asyncio.wait_for(
            asyncio.open_connection(
                self.addr.host,
                self.addr.port,
                ssl=self.ssl,
                server_hostname=(self.server_name or self.addr.host) if self.ssl else None,
            ),
            self.timeout,
        )
        self._parser = hiredis.Reader()
        if self.password:
            auth = [b"AUTH"]
            if self.username:
                auth.append(self.username.encode())
            await self.call(*auth, self.password.encode())

    async def call(self, *args: bytes) -> Any:
        if self._writer is None or self._reader is None:
            raise ConnectionError("not connected")
        self._writer.write(encode_command(list(args)))
        try:
            return await asyncio.wait_for(self._read(), self.timeout)
        except BaseException:
            self.close()
            raise

    def twin(self) -> UpstreamClient:
        """Another client for the same server with the same credentials and TLS."""
        return UpstreamClient(
            self.addr,
            self.username,
            self.password,
            self.timeout or 0,
            self.ssl,
            self.server_name,
        )

    async def receive(self) -> Any:
        """The next message the server pushes (a subscribed connection), however long it takes."""
        if self._reader is None:
            raise ConnectionError("not connected")
        return await self._read()

    async def _read(self) -> Any:
        assert self._reader is not None
        while True:
            reply = self._parser.gets()
            if reply is not False:
                if isinstance(reply, hiredis.ReplyError):
                    raise UpstreamError(str(reply))
                return reply
            data = await self._reader.read(65536)
            if not data:
                raise ConnectionError("connection closed")
            self._parser.feed(data)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._writer = self._reader = None


def parse_info(text: bytes) -> dict[str, str]:
    """The ``key:value`` lines of an INFO reply."""
    fields: dict[str, str] = {}
    for line in text.decode(errors="replace").splitlines():
        if ":" in line and not line.startswith("#"):
            key, _, value = line.partition(":")
            fields[key] = value
    return fields


class HealthChecker:
    """Runs the checks and writes what it finds into the :class:`Topology`."""

    def __init__(
        self,
        topology: Topology,
        *,
        username: str,
        password: str,
        interval: float,
        timeout: float,
        max_lag: float,
        log: Logger,
        sentinels: list[HostPort] | None = None,
        sentinel_master: str = "",
        sentinel_username: str = "",
        sentinel_password: str = "",
        sentinel_ssl: SSLContext | None = None,
        on_master_change: Callable[[], None] | None = None,
        ssl: SSLContext | None = None,
        server_name: str = "",
    ) -> None:
        self.ssl = ssl
        self.server_name = server_name
        self.topology = topology
        self.username = username
        self.password = password
        self.interval = interval
        self.timeout = timeout
        self.max_lag = max_lag
        self.log = log
        self.clients: dict[HostPort, UpstreamClient] = {}
        self.sentinels = [
            UpstreamClient(addr, sentinel_username, sentinel_password, timeout, sentinel_ssl)
            for addr in sentinels or []
        ]
        self.sentinel_master = sentinel_master.encode()
        self.on_master_change = on_master_change
        self.rounds = 0
        self.samples: deque[tuple[float, int]] = deque()  # (time sent, master offset)
        self._healthy: tuple[HostPort, ...] = ()
        self._probe_logged = False

    def _client(self, node: Node) -> UpstreamClient:
        client = self.clients.get(node.addr)
        if client is None:
            client = UpstreamClient(
                node.addr, self.username, self.password, self.timeout, self.ssl, self.server_name
            )
            self.clients[node.addr] = client
        return client

    async def run(self) -> None:
        """Check forever (cancelled at shutdown)."""
        watchers = [asyncio.create_task(self._watch_sentinel(s)) for s in self.sentinels]
        try:
            while True:
                self.topology.poke.clear()  # a poke during the round asks for another
                await self.check_once()
                try:
                    await asyncio.wait_for(self.topology.poke.wait(), self.interval)
                    await asyncio.sleep(0.005)  # gather concurrent pokes into one round
                except TimeoutError:
                    pass
        finally:
            for watcher in watchers:
                watcher.cancel()
            for client in (*self.clients.values(), *self.sentinels):
                client.close()

    async def check_once(self) -> None:
        if self.sentinels:
            await self._discover()
        await self._check_master()
        await asyncio.gather(*(self._check_replica(node) for node in self.topology.replicas))
        healthy = tuple(node.addr for node in self.topology.healthy_replicas())
        if healthy != self._healthy:
            self._healthy = healthy
            self.topology.generation += 1  # sessions spread their reads again
        if not self.topology.probes and not self._probe_logged:
            self._probe_logged = True
            self.log.warning(
                "the master refused ROLE: with --consistency=session reads now go to the master",
                error=self.topology.probe_error,
            )
        self.rounds += 1

    # --- Sentinel ----------------------------------------------------------------------------------

    async def _discover(self) -> None:
        problems: dict[str, str] = {}
        for index, sentinel in enumerate(self.sentinels):
            try:
                if not sentinel.connected:
                    await sentinel.connect()
                name = self.sentinel_master
                master = await sentinel.call(b"SENTINEL", b"get-master-addr-by-name", name)
                replicas = await sentinel.call(b"SENTINEL", b"replicas", name)
            except (OSError, TimeoutError, ConnectionError, UpstreamError) as exc:
                problems[str(sentinel.addr)] = str(exc) or exc.__class__.__name__
                sentinel.close()
                continue
            if not master:
                problems[str(sentinel.addr)] = f"does not know a master named {name.decode()!r}"
                continue
            if index:  # ask the one that answered first next time
                self.sentinels.insert(0, self.sentinels.pop(index))
            self._apply(master, replicas)
            return
        self.log.warning("no Sentinel answered; keeping the last known topology", errors=problems)

    def _apply(self, master: Any, replicas: Any) -> None:
        master_addr = HostPort(master[0].decode(), int(master[1]))
        replica_addrs: list[HostPort] = []
        for entry in replicas or []:
            fields = dict(zip(entry[::2], entry[1::2], strict=False))
            flags = fields.get(b"flags", b"").split(b",")
            if any(flag in flags for flag in (b"s_down", b"o_down", b"disconnected")):
                continue
            replica_addrs.append(HostPort(fields[b"ip"].decode(), int(fields[b"port"])))
        old = self.topology.master.addr
        if self.topology.update(master_addr, replica_addrs):
            self.log.warning("master changed", old=str(old), new=str(master_addr))
            stale = self.clients.pop(old, None)
            if stale is not None:
                stale.close()
            if self.on_master_change is not None:
                self.on_master_change()

    async def _watch_sentinel(self, sentinel: UpstreamClient) -> None:
        """Poke the health loop whenever this Sentinel announces +switch-master."""
        addr = sentinel.addr
        while True:
            watcher = sentinel.twin()  # a connection of its own: it stays subscribed
            try:
                await watcher.connect()
                await watcher.call(b"SUBSCRIBE", b"+switch-master")
                while True:
                    message = await watcher.receive()
                    if isinstance(message, list) and message[:1] == [b"message"]:
                        self.log.info("Sentinel announced a failover", sentinel=str(addr))
                        self.topology.poke.set()
            except (OSError, TimeoutError, ConnectionError, UpstreamError) as exc:
                self.log.debug("Sentinel watch interrupted", sentinel=str(addr), error=str(exc))
            finally:
                watcher.close()
            await asyncio.sleep(self.interval or 1.0)

    async def _check_master(self) -> None:
        node = self.topology.master
        if not node.addr.port:
            return  # not discovered yet
        client = self._client(node)
        try:
            fresh = not client.connected
            if fresh:
                await client.connect()
                await self._load_commands(client)
            sent = time.monotonic()
            info = parse_info(await client.call(b"INFO", b"replication"))
        except (OSError, TimeoutError, ConnectionError, UpstreamError) as exc:
            self._down(node, "unreachable", str(exc) or "timeout")
            client.close()
            return
        if info.get("role") != "master":
            self._down(node, "not a master", f"role is {info.get('role')!r}")
            return
        topology = self.topology
        offset = int(info.get("master_repl_offset", "0"))
        replid = info.get("master_replid", "")
        if replid != topology.master_replid:
            if topology.master_replid:
                self.log.info("new master replication ID", address=str(node.addr), offset=offset)
                topology.required = offset  # replicas must reach the new history
                self.samples.clear()
            topology.master_replid = replid
        topology.master_offset = offset
        self.samples.append((sent, offset))
        horizon = sent - max(self.max_lag, self.interval) * 2 - 1
        while len(self.samples) > 2 and self.samples[1][0] < horizon:
            self.samples.popleft()
        self._up(node)

    def lag(self, offset: int, now: float) -> float:
        """Seconds since the master had an offset this replica has not applied yet (0: none)."""
        behind = [sent for sent, master in self.samples if master > offset]
        if not behind:
            return 0.0
        return now - behind[0]

    async def _load_commands(self, client: UpstreamClient) -> None:
        try:
            reply = await client.call(b"COMMAND")
            self.topology.table = CommandTable.from_command_reply(reply)
        except (UpstreamError, ValueError) as exc:
            self.log.warning(
                "COMMAND unavailable; using the built-in command table", error=str(exc)
            )
            self.topology.table = CommandTable()

    async def _check_replica(self, node: Node) -> None:
        client = self._client(node)
        try:
            if not client.connected:
                await client.connect()
            info = parse_info(await client.call(b"INFO", b"replication"))
        except (OSError, TimeoutError, ConnectionError, UpstreamError) as exc:
            self._down(node, "unreachable", str(exc) or "timeout")
            client.close()
            return
        if info.get("role") != "slave":
            self._down(node, "not a replica", f"role is {info.get('role')!r}")
            return
        if info.get("master_link_status") != "up":
            self._down(node, "replication link down", "")
            return
        node.offset = int(info.get("slave_repl_offset", "-1"))
        node.lag_seconds = self.lag(node.offset, time.monotonic())
        if node.lag_seconds > self.max_lag:
            self._down(
                node, f"lagging more than {self.max_lag:g}s", f"{node.lag_seconds:.1f}s behind"
            )
            return
        self._up(node)

    def _down(self, node: Node, state: str, detail: str) -> None:
        """Out of the rotation; logged when the node's state changes (not every round)."""
        if node.healthy or node.reason.split(":")[0] != state:
            self.log.warning(
                "upstream unhealthy",
                role=node.role,
                address=str(node.addr),
                reason=state,
                detail=detail,
            )
        node.mark_down(f"{state}: {detail}" if detail else state)
        if node is self.topology.master:
            self.topology.master_up.clear()

    def _up(self, node: Node) -> None:
        if not node.healthy:
            self.log.info("upstream healthy", role=node.role, address=str(node.addr))
        node.healthy = True
        node.reason = ""
        if node is self.topology.master:
            self.topology.master_up.set()
