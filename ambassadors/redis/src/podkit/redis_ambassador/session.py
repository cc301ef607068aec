"""One client connection and its upstream connections: routing, state, ordering, failures.

Clients in the default state (DB 0, RESP2, no name, no transaction, subscription or blocking
command) share one :class:`SharedUpstream` per server: their commands are written to it once per
event-loop iteration, its FIFO of runs spans every session, and each reply goes back to the
session that sent the command. A session whose state leaves the default (or that pipelines more
than :data:`SHARED_MAX_BATCH` commands per read, or reads its replies too slowly) switches to
upstream connections of its own once its replies from the shared ones are in, so its commands
keep their order; it stays on them for the rest of its life.

:class:`ClientSession` is the asyncio Protocol of a client. It scans each received buffer into
commands, sends contiguous runs of commands bound for the same upstream as one write, and keeps a
FIFO of :class:`Run` objects in request order. Each :class:`Upstream` (the session's master
connection, and the replica connection chosen for its reads) fills its own runs with reply bytes
in its own order; the session flushes the FIFO head while it is complete, so replies go back in
request order however a pipeline mixes reads and writes, with one write per batch.

Per-connection state (SELECT, HELLO protocol, CLIENT SETNAME) is replayed on every upstream, whose
replies to the replays are discarded. MULTI and WATCH pin reads to the master until the
transaction ends; SUBSCRIBE / PSUBSCRIBE / SSUBSCRIBE / MONITOR make the connection a pass-through
to the master. A replica connection that dies has its unanswered reads resent to the master.
"""

from __future__ import annotations

import asyncio
import hmac
import sys
from collections import deque
from ssl import SSLContext
from time import monotonic
from typing import TYPE_CHECKING, cast

from podkit.redis_ambassador.commands import CommandTable
from podkit.redis_ambassador.metrics import Stats
from podkit.redis_ambassador.router import PASSTHROUGH, SPECIAL, ReadRouter
from podkit.redis_ambassador.scanner import (
    Command,
    ProtocolError,
    ReplyScanner,
    RequestScanner,
    encode_command,
)
from podkit.redis_ambassador.topology import Node, Topology

if TYPE_CHECKING:
    from podkit.redis_ambassador.settings import RedisAmbassadorSettings

__all__ = ["ClientSession", "Run", "SessionConfig", "SharedUpstream", "Upstream"]

_FOREVER = sys.maxsize
_WAITS = frozenset({b"wait", b"waitaof"})
_WOFF_MARKER = encode_command([b"PUBLISH", b"__podkit_redis_ambassador__", b"wait"])
SHARED_MAX_BATCH = 128  # a client pipelining more commands per read gets its own connections
# a connection finishing after its client left gets this long to flush what the client sent
FINISH_BOUND = 30.0
# not special, but they block or change the connection's state: not on a shared connection
DEDICATED = frozenset(
    {
        b"blpop",
        b"brpop",
        b"brpoplpush",
        b"blmove",
        b"blmpop",
        b"bzpopmin",
        b"bzpopmax",
        b"bzmpop",
        b"xread",
        b"xreadgroup",
        b"wait",
        b"waitaof",
        b"readonly",
        b"readwrite",
        b"asking",
        b"unsubscribe",
        b"punsubscribe",
        b"sunsubscribe",
        b"sync",
        b"psync",
        b"replconf",
    }
)
_NOAUTH = b"-NOAUTH Authentication required.\r\n"
_WRONGPASS = b"-WRONGPASS invalid username-password pair or user is disabled.\r\n"
_NOPASS = (
    b"-ERR AUTH <password> called without any password configured for the default user. "
    b"Are you sure your configuration is correct?\r\n"
)


_slow_cache: tuple[CommandTable | None, frozenset[bytes]] = (None, frozenset())


def _slow_names(table: CommandTable) -> frozenset[bytes]:
    """Names that leave the fast path: special, or needing the session's own upstreams."""
    global _slow_cache
    if _slow_cache[0] is not table:
        _slow_cache = (table, SPECIAL | DEDICATED | table.blocking)
    return _slow_cache[1]


class SessionConfig:
    """What every session shares: settings, topology, routing and counters."""

    def __init__(
        self,
        settings: RedisAmbassadorSettings,
        topology: Topology,
        stats: Stats,
        upstream_password: str,
        local_password: str,
        ssl: SSLContext | None = None,
    ) -> None:
        self.settings = settings
        self.topology = topology
        self.stats = stats
        self.router = ReadRouter(topology, settings.read_policy, settings.replica_choice)
        self.upstream_username = settings.upstream_username
        self.upstream_password = upstream_password
        self.local_password = local_password
        self.read_your_writes = settings.read_your_writes
        self.ryw_bound = settings.read_your_writes_bound
        self.sessions: set[ClientSession] = set()
        self.ssl = ssl
        self.server_name = settings.upstream_tls_server_name
        self.share = settings.share_connections  # default-state sessions share connections
        self.pools: dict[Node, SharedUpstream] = {}

    def shared(self, node: Node) -> SharedUpstream:
        """The live shared connection to ``node`` (a new one when there is none)."""
        upstream = self.pools.get(node)
        if upstream is None or upstream.closed:
            upstream = self.pools[node] = SharedUpstream(self, node)
            upstream.start()
        return upstream

    def drop_shared(self, reason: str, master_only: bool = False) -> None:
        """Fail the shared connections (to the old master only, after a failover)."""
        for upstream in list(self.pools.values()):
            if not master_only or upstream.route == "master":
                upstream.fail(reason)

    def close_shared(self) -> None:
        for upstream in list(self.pools.values()):
            upstream.close()
        self.pools.clear()


class Run:
    """Replies owed for a batch of commands sent to one upstream (or a local reply)."""

    __slots__ = (
        "chunks",
        "data",
        "discard",
        "got",
        "marks",
        "need",
        "session",
        "t0",
        "upstream",
        "write",
    )

    def __init__(
        self,
        upstream: Upstream | None,
        need: int,
        data: bytes = b"",
        marks: list[int] | None = None,
        discard: bool = False,
        write: bool = False,
    ) -> None:
        self.upstream = upstream
        self.need = need
        self.got = 0
        self.chunks: list[bytes] = []
        self.data = data  # kept for reads on a replica, to resend them to the master
        self.marks = marks  # end offset of each command in ``data``
        self.discard = discard  # replies to replayed state commands are not the client's
        self.write = write
        self.t0 = 0.0
        self.session: ClientSession | None = None

    def remaining_data(self) -> bytes:
        if self.got == 0 or self.marks is None:
            return self.data
        return self.data[self.marks[self.got - 1] :]


class Upstream(asyncio.Protocol):
    """One connection from a session to a node; fills that session's runs with replies."""

    shared = False

    def __init__(self, session: ClientSession, node: Node) -> None:
        self.session = session
        self._setup(session.config, node)

    def _setup(self, config: SessionConfig, node: Node) -> None:
        self.config = config
        self.node = node
        self.route = "master" if node is config.topology.master else "replica"
        self.runs: deque[Run] = deque()
        self.scanner = ReplyScanner()
        self.transport: asyncio.Transport | None = None
        self.pending: list[bytes] = []
        self.handshake_left = 0
        self.closed = False
        self.failed = False
        self.passthrough = False
        self.finishing = False
        self.hello: list[bytes] = []

    # --- connecting ------------------------------------------------------------------------------

    def start(self) -> None:
        self.hello = self.handshake()  # the state as of now: later changes follow as replays
        loop = asyncio.get_running_loop()
        self.task = loop.create_task(self._connect())  # a reference: the loop keeps tasks weakly

    async def _connect(self) -> None:
        addr = self.node.addr
        config = self.config
        try:
            await asyncio.wait_for(
                asyncio.get_running_loop().create_connection(
                    lambda: self,
                    addr.host,
                    addr.port,
                    ssl=config.ssl,
                    server_hostname=(config.server_name or addr.host) if config.ssl else None,
                ),
                config.settings.connect_timeout or None,
            )
        except (OSError, TimeoutError) as exc:  # ssl.SSLError is an OSError
            self.fail(f"cannot connect to {self.route} {addr}: {exc or 'timeout'}")

    def handshake(self) -> list[bytes]:
        """Commands that bring a new upstream connection to the session's state."""
        session = self.session
        commands = _auth(self.config)
        if session.proto == 3:
            commands.append([b"HELLO", b"3"])
        if session.db:
            commands.append([b"SELECT", b"%d" % session.db])
        if session.client_name:
            commands.append([b"CLIENT", b"SETNAME", session.client_name])
        return [encode_command(args) for args in commands]

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport = cast(asyncio.Transport, transport)  # uvloop's is no subclass
        if self.closed and not self.finishing:
            transport.close()
            return
        hello = self.hello
        self.handshake_left = len(hello)
        transport.write(b"".join(hello + self.pending))
        self.pending = []
        if self.finishing:
            self.transport = None
            _close_after_flush(transport)

    # --- sending ---------------------------------------------------------------------------------

    def send(self, run: Run, data: bytes) -> None:
        self.runs.append(run)
        run.upstream = self
        if self.route == "replica":
            self.node.inflight += run.need
        if self.transport is not None:
            self.transport.write(data)
        elif not self.failed:
            self.pending.append(data)
        else:
            self.session.upstream_lost(self, "connection failed")

    def send_raw(self, data: bytes) -> None:
        if self.transport is not None:
            self.transport.write(data)
        else:
            self.pending.append(data)

    # --- receiving -------------------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        try:
            src, ends = self.scanner.feed(data)
        except (ProtocolError, ValueError) as exc:
            self.fail(f"bad reply from {self.route}: {exc}")
            return
        if not ends:
            return
        prev = 0
        i = 0
        n = len(ends)
        while self.handshake_left and i < n:
            self.handshake_left -= 1
            if src[prev] == 45:  # '-'
                self.fail(f"{self.route} refused the handshake: {src[prev + 1 : ends[i] - 2]!r}")
                return
            prev = abs(ends[i])
            i += 1
        runs = self.runs
        session = self.session
        pushes = self.scanner.pushes
        while i < n:
            if not runs:
                if pushes:  # out-of-band push (RESP3), not a reply to a command
                    stop = abs(ends[i])
                    session.out_of_band(src[prev:stop])
                    prev = stop
                    i += 1
                    continue
                self.fail(f"unexpected reply from {self.route}")
                return
            run = runs[0]
            take = run.need - run.got
            if take > n - i:
                take = n - i
            if pushes:
                # slow path: step one frame at a time, passing pushes through
                stop = ends[i]
                if stop < 0 and not self.passthrough:
                    session.out_of_band(src[prev:-stop])
                    prev = -stop
                    i += 1
                    continue
                take = 1
                stop = abs(stop)
            else:
                stop = ends[i + take - 1]
            run.chunks.append(src[prev:stop])
            prev = stop
            i += take
            run.got += take
            if run.got >= run.need:
                runs.popleft()
                session.run_done(run)
            if self.route == "replica":
                self.node.inflight -= take
        session.flush()

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        if not self.closed:
            self.fail(f"{self.route} {self.node.addr} closed the connection")

    def pause_writing(self) -> None:
        self.session.pause("upstream")

    def resume_writing(self) -> None:
        self.session.resume("upstream")

    def fail(self, reason: str) -> None:
        if self.closed:
            return
        self.failed = True
        self.close()
        self.session.upstream_lost(self, reason)

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.abort()
            self.transport = None

    def finish(self) -> None:
        """Close the way a client closing its socket does: what was sent still reaches the server.

        The server runs every command it has read, then sees end-of-file (a blocked command is
        dropped, not served, as for a client of its own that went away); replies are not read.
        A connection still being opened sends the handshake and what is pending first.
        """
        if self.closed:
            return
        self.closed = True
        transport = self.transport
        if transport is not None:
            self.transport = None
            _close_after_flush(transport)
        elif self.pending and not self.failed:
            self.finishing = True  # connection_made sends and closes


def _auth(config: SessionConfig) -> list[list[bytes]]:
    """The AUTH command that opens every upstream connection (none without a password)."""
    if not config.upstream_password:
        return []
    user = [config.upstream_username.encode()] if config.upstream_username else []
    return [[b"AUTH", *user, config.upstream_password.encode()]]


def _close_after_flush(transport: asyncio.Transport) -> None:
    """Close ``transport`` once its write buffer is sent, aborting it if that takes too long."""
    transport.pause_reading()
    transport.close()
    asyncio.get_running_loop().call_later(FINISH_BOUND, transport.abort)


class SharedUpstream(Upstream):
    """A connection to a node shared by every session in the default state (DB 0, RESP2, no name,
    no transaction, subscription or blocking command), like twemproxy's server connections.

    Sessions' commands are queued and written once per event-loop iteration; the runs of every
    session wait in one FIFO, so each reply goes to the session that sent the command, in order.
    Sessions that change their connection state move to their own :class:`Upstream` first.
    """

    shared = True

    def __init__(self, config: SessionConfig, node: Node) -> None:
        self._setup(config, node)
        self.scheduled = False
        self.paused = False
        self.blocked: set[ClientSession] = set()
        self.loop = asyncio.get_running_loop()

    def handshake(self) -> list[bytes]:
        return [encode_command(args) for args in _auth(self.config)]

    def send(self, run: Run, data: bytes) -> None:
        if self.failed:
            session = run.session
            assert session is not None
            session.upstream_lost(self, "connection failed", [run])
            return
        self.runs.append(run)
        run.upstream = self
        if self.route == "replica":
            self.node.inflight += run.need
        self.pending.append(data)
        if self.transport is not None and not self.scheduled:
            self.scheduled = True
            self.loop.call_soon(self._write)  # one write per loop iteration
        if self.paused and run.session is not None:
            run.session.pause("upstream")
            self.blocked.add(run.session)

    def send_raw(self, data: bytes) -> None:  # pragma: no cover - sessions use send()
        raise NotImplementedError

    def _write(self) -> None:
        self.scheduled = False
        pending = self.pending
        if pending and self.transport is not None:
            self.pending = []
            self.transport.write(pending[0] if len(pending) == 1 else b"".join(pending))

    def data_received(self, data: bytes) -> None:
        try:
            src, ends = self.scanner.feed(data)
        except (ProtocolError, ValueError) as exc:
            self.fail(f"bad reply from {self.route}: {exc}")
            return
        n = len(ends)
        if not n:
            return
        prev = 0
        i = 0
        while self.handshake_left and i < n:
            self.handshake_left -= 1
            if src[prev] == 45:  # '-'
                self.fail(f"{self.route} refused the handshake: {src[prev + 1 : ends[i] - 2]!r}")
                return
            prev = ends[i]
            i += 1
        if self.scanner.pushes:
            self.fail(f"unexpected push frame from {self.route}")
            return
        runs = self.runs
        dirty: list[ClientSession] = []
        replica = self.route == "replica"
        while i < n:
            if not runs:
                self.fail(f"unexpected reply from {self.route}")
                break
            run = runs[0]
            take = run.need - run.got
            if take > n - i:
                take = n - i
            stop = ends[i + take - 1]
            run.chunks.append(src[prev:stop])
            prev = stop
            i += take
            run.got += take
            if replica:
                self.node.inflight -= take
            session = run.session
            assert session is not None
            if run.got >= run.need:
                runs.popleft()
                session.run_done(run)
            if not dirty or dirty[-1] is not session:
                dirty.append(session)
        for session in dict.fromkeys(dirty) if len(dirty) > 1 else dirty:
            session.flush()

    def pause_writing(self) -> None:
        self.paused = True

    def resume_writing(self) -> None:
        self.paused = False
        blocked, self.blocked = self.blocked, set()
        for session in blocked:
            session.resume("upstream")

    def fail(self, reason: str) -> None:
        if self.closed:
            return
        self.failed = True
        self.close()
        runs = list(self.runs)
        self.runs.clear()
        if self.route == "replica":
            self.node.inflight -= sum(run.need - run.got for run in runs)
        by_session: dict[ClientSession, list[Run]] = {}
        for run in runs:
            assert run.session is not None
            by_session.setdefault(run.session, []).append(run)
        for session, lost in by_session.items():
            session.upstream_lost(self, reason, lost)
        blocked, self.blocked = self.blocked, set()
        for session in blocked:
            session.resume("upstream")

    def close(self) -> None:
        if self.config.pools.get(self.node) is self:
            del self.config.pools[self.node]
        super().close()


class ClientSession(asyncio.Protocol):
    """A client connection: scans commands, routes them, returns replies in request order."""

    def __init__(self, config: SessionConfig) -> None:
        self.config = config
        settings = config.settings
        self.scanner = RequestScanner(
            max_bulk=settings.max_bulk_len,
            max_multibulk=settings.max_multibulk,
            max_inline=settings.max_inline,
            max_query=settings.max_query_buffer,
        )
        self.table = config.topology.table
        self.fifo: deque[Run] = deque()
        self.transport: asyncio.Transport | None = None
        self.master: Upstream | None = None
        self.replica: Upstream | None = None
        self.retired: list[Upstream] = []
        self.proto = 2
        self.db = 0
        self.client_name = b""
        self.authed = not config.local_password
        self.in_multi = False
        self.watching = False
        self.tracking = False  # CLIENT TRACKING on: reads stay where the invalidations come from
        self.passthrough: Upstream | None = None
        self.closing = False
        self.stopped = False
        self.gone = False  # the client closed its connection
        self.writes_outstanding = 0
        self.write_acked: float | None = None
        self._paused: set[str] = set()
        self._oob: list[bytes] = []
        # on shared upstreams until its state leaves the default (see SharedUpstream)
        self.shared = config.share
        self._want_dedicated = False
        self._deferred: list[Command] | None = None  # commands waiting for the switch
        self._deferred_src = b""
        self._deferred_more: list[tuple[bytes, list[Command]]] = []
        self._deferred_error = False
        self.wrote_shared = False  # a write went through a shared connection (see _sync_woff)

    # --- connection ------------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport = cast(asyncio.Transport, transport)
        transport.set_write_buffer_limits(high=self.config.settings.max_output_buffer)
        self.config.sessions.add(self)
        stats = self.config.stats
        stats.clients += 1
        stats.clients_total += 1
        if self.shared:
            self.master = self.config.shared(self.config.topology.master)
        else:
            self.master = Upstream(self, self.config.topology.master)
            self.master.start()

    def connection_lost(self, exc: Exception | None) -> None:
        """The client went away: what it sent still runs, as it would on Redis (see finish)."""
        self.transport = None
        self.gone = True
        if self._deferred is None:
            self.closing = True
            self._close_upstreams()
        # else: the deferred commands go out when the shared replies are in (flush), then close
        if self in self.config.sessions:
            self.config.sessions.discard(self)
            self.config.stats.clients -= 1

    def _close_upstreams(self) -> None:
        self._deferred = None
        for upstream in (self.master, self.replica, *self.retired):
            if upstream is not None and not upstream.shared:
                if self.gone:
                    upstream.finish()
                else:
                    upstream.close()
                if upstream.route == "replica":  # replies it will never deliver
                    upstream.node.inflight -= sum(run.need - run.got for run in upstream.runs)
                    upstream.runs.clear()
        if self.replica is not None:
            self.replica.node.sessions -= 1
            self.replica = None
        self.retired.clear()

    def pause_writing(self) -> None:
        self.pause("client")

    def resume_writing(self) -> None:
        self.resume("client")

    def pause(self, reason: str) -> None:
        """Stop reading the client (and, when the client is slow, its upstreams' replies)."""
        if reason in self._paused:
            return
        if not self._paused and self.transport is not None:
            self.transport.pause_reading()
        if reason == "client":
            self._want_dedicated = True  # a slow reader gets back-pressure of its own
            for upstream in (self.master, self.replica, *self.retired):
                if upstream is not None and upstream.transport is not None and not upstream.shared:
                    upstream.transport.pause_reading()
        self._paused.add(reason)

    def resume(self, reason: str) -> None:
        if reason not in self._paused:
            return
        self._paused.discard(reason)
        if reason == "client":
            for upstream in (self.master, self.replica, *self.retired):
                if upstream is not None and upstream.transport is not None and not upstream.shared:
                    upstream.transport.resume_reading()
        if not (self._paused or self.stopped or self.closing) and self.transport is not None:
            self.transport.resume_reading()

    def stop_reading(self) -> None:
        """Shutdown: take no more commands; replies in flight still go out."""
        self.stopped = True
        if self.transport is not None:
            self.transport.pause_reading()
        if not self.busy:
            self.close()

    @property
    def busy(self) -> bool:
        """Replies still owed (a pass-through connection never finishes, so it is not busy)."""
        return bool(self.fifo) and self.transport is not None and self.passthrough is None

    def close(self) -> None:
        self.closing = True
        if self.transport is not None:
            self.transport.close()  # sends what is buffered first
        self._close_upstreams()

    # --- requests --------------------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        if self.closing:
            return
        stats = self.config.stats
        stats.bytes_in += len(data)
        if self.passthrough is not None:
            self.passthrough.send_raw(data)
            return
        scanner = self.scanner
        src, commands = scanner.feed(data)
        if self._deferred is not None:  # reading is paused: not expected, but keep the order
            if commands:
                self._deferred_more.append((src, commands))
        elif commands:
            self._route(src, commands)
        if scanner.error is not None:
            if self._deferred is not None:
                self._deferred_error = True
            else:
                self._protocol_error()
        fifo = self.fifo
        if self.closing or (fifo and fifo[0].got >= fifo[0].need):
            self.flush()

    def _protocol_error(self) -> None:
        error = self.scanner.error
        self.config.stats.error("protocol")
        self._local(b"-ERR Protocol error: " + str(error).encode() + b"\r\n")
        self.closing = True
        if self.transport is not None:
            self.transport.pause_reading()

    def _needs_own(self, cmd: Command) -> bool:
        """Whether ``cmd`` needs the session's own upstream connections (not shared ones)."""
        name = cmd.name
        if name in SPECIAL:
            return name not in (b"auth", b"quit") and (self.authed or name == b"hello")
        return name in DEDICATED or name in self.table.blocking

    def _shared_inflight(self) -> bool:
        return any(run.got < run.need and run.upstream is not None for run in self.fifo)

    def _dedicate(self, src: bytes, commands: list[Command]) -> bool:
        """Leave the shared upstreams; False when that must wait for replies still in flight.

        Then ``commands`` are kept, and reading paused, until the session's last reply from a
        shared upstream is in: so a command on the new connection never overtakes one the
        session sent before on a shared one.
        """
        if self._shared_inflight():
            self._deferred = commands
            self._deferred_src = src
            self.pause("switch")
            return False
        self.shared = False
        config = self.config
        self.master = Upstream(self, config.topology.master)
        self.master.start()
        if self.replica is not None:
            self.replica.node.sessions -= 1
            self.replica = None
        return True

    def _sync_woff(self) -> None:
        """Before WAIT on the session's own master connection, after writes on a shared one.

        WAIT waits for the replication offset of the connection's last propagated write; a
        PUBLISH (propagated to replicas, reply discarded) on the new connection moves that offset
        past every write the session made on the shared connection.
        """
        self.wrote_shared = False
        master = self.master
        assert master is not None
        run = Run(master, 1, discard=True)
        run.session = self
        self.fifo.append(run)
        master.send(run, _WOFF_MARKER)

    def _resume_deferred(self) -> None:
        commands, src = self._deferred, self._deferred_src
        assert commands is not None
        self._deferred = None
        self._deferred_src = b""
        self._route(src, commands)
        more, self._deferred_more = self._deferred_more, []
        for src, commands in more:
            if self.closing:
                break
            self._route(src, commands)
        if self._deferred_error:
            self._deferred_error = False
            self._protocol_error()
        self.resume("switch")

    def _route(self, src: bytes, commands: list[Command]) -> None:
        if self.shared:
            if self._want_dedicated or len(commands) > SHARED_MAX_BATCH:
                if not self._dedicate(src, commands):
                    return
            elif self.master is None or self.master.closed:
                self.master = self.config.shared(self.config.topology.master)
        master = self.master
        assert master is not None
        table = self.table
        splits = self.config.router.splits and not (self.in_multi or self.watching or self.tracking)
        authed = self.authed
        counts_master = self.config.stats.commands["master"]
        counts_replica = self.config.stats.commands["replica"]
        ryw = self.config.read_your_writes
        batch_wrote = False
        seg_up: Upstream | None = None
        seg_start = seg_end = 0
        seg_count = 0
        seg_write = False
        marks: list[int] | None = None
        shared = self.shared
        slow = _slow_names(table)
        readonly, parents = table.readonly, table.parents
        read_up: Upstream | bool | None = False  # this batch's read upstream, once looked up
        for index, cmd in enumerate(commands):
            name = cmd.name
            if name in slow or not authed or cmd.end < 0:
                if not shared and self.wrote_shared and name in _WAITS:
                    if seg_up is not None:
                        self._emit(seg_up, src[seg_start:seg_end], seg_count, seg_write, marks)
                        seg_up = None
                    self._sync_woff()
                if shared and self._needs_own(cmd):
                    if seg_up is not None:
                        self._emit(seg_up, src[seg_start:seg_end], seg_count, seg_write, marks)
                        seg_up = None
                    if self._dedicate(src, commands[index:]):
                        self._route(src, commands[index:])
                    return
                if name in SPECIAL or not authed or cmd.end < 0:
                    read_up = False
                    if seg_up is not None:
                        self._emit(seg_up, src[seg_start:seg_end], seg_count, seg_write, marks)
                        seg_up = None
                    self._special(cmd)
                    if self.closing:  # QUIT: nothing after it runs
                        return
                    if self.passthrough is not None:
                        rest = commands[index + 1 :]
                        if rest:
                            self.passthrough.send_raw(
                                b"".join(
                                    encode_command(c.args) if c.end < 0 else src[c.start : c.end]
                                    for c in rest
                                )
                            )
                        return
                    splits = self.config.router.splits and not (
                        self.in_multi or self.watching or self.tracking
                    )
                    authed = self.authed
                    continue
            up: Upstream | None = master
            write = True
            if splits and (
                name in readonly if name not in parents else table.is_readonly(name, cmd.args)
            ):
                write = False
                # read-your-writes: a write earlier in this batch is not even sent yet
                if batch_wrote:
                    up = master
                else:
                    if read_up is False:
                        read_up = self._read_upstream()
                    up = cast("Upstream | None", read_up)
                if up is None:
                    if seg_up is not None:
                        self._emit(seg_up, src[seg_start:seg_end], seg_count, seg_write, marks)
                        seg_up = None
                    self.config.stats.error("no_replica")
                    self._local(b"-ERR no healthy replica for a read (read policy replica)\r\n")
                    continue
            if up is seg_up and seg_end == cmd.start:
                seg_end = cmd.end
                seg_count += 1
                seg_write = seg_write or write
                batch_wrote = batch_wrote or (write and ryw)
            else:
                if seg_up is not None:
                    self._emit(seg_up, src[seg_start:seg_end], seg_count, seg_write, marks)
                seg_up = up
                seg_start, seg_end, seg_count, seg_write = cmd.start, cmd.end, 1, write
                batch_wrote = batch_wrote or (write and ryw)
                marks = [] if up is not master else None
            if marks is not None:
                marks.append(cmd.end - seg_start)
            if up is master:
                counts_master[name] = counts_master.get(name, 0) + 1
            else:
                counts_replica[name] = counts_replica.get(name, 0) + 1
        if seg_up is not None:
            self._emit(seg_up, src[seg_start:seg_end], seg_count, seg_write, marks)

    def _emit(
        self, up: Upstream, data: bytes, count: int, write: bool, marks: list[int] | None
    ) -> None:
        run = Run(up, count, data if marks is not None else b"", marks, write=write)
        run.session = self
        run.t0 = monotonic()
        if write:
            if up.shared:
                self.wrote_shared = True
            if self.config.read_your_writes:
                self.writes_outstanding += 1
        self.fifo.append(run)
        up.send(run, data)

    def _read_upstream(self) -> Upstream | None:
        """The upstream for this session's next read (None: no eligible node)."""
        master = self.master
        replica = self.replica
        if replica is None or not replica.node.healthy or replica.failed:
            node = self.config.router.pick()
            if node is None:
                return None
            if node is self.config.topology.master:
                return master
            if replica is not None:
                self._retire(replica)
            if self.shared:
                replica = self.replica = self.config.shared(node)
            else:
                replica = self.replica = Upstream(self, node)
                replica.start()
            node.sessions += 1
        if self.config.read_your_writes and (self.writes_outstanding or self.write_acked):
            if self.writes_outstanding:
                return master  # a write of this client is still in flight
            acked = self.write_acked
            assert acked is not None
            if monotonic() - acked < self.config.ryw_bound and not (
                self.config.topology.caught_up(replica.node, acked)
            ):
                return master
            self.write_acked = None
        return replica

    def _retire(self, upstream: Upstream) -> None:
        if upstream is self.replica:
            self.replica = None
            upstream.node.sessions -= 1
        if upstream.shared:
            return  # its runs still complete; the connection stays with the others
        if upstream.runs:
            self.retired.append(upstream)
        else:
            upstream.close()

    # --- special commands ------------------------------------------------------------------------

    def _local(self, reply: bytes) -> None:
        run = Run(None, 0)
        run.chunks.append(reply)
        self.fifo.append(run)
        self.config.stats.commands["local"][b"reply"] = (
            self.config.stats.commands["local"].get(b"reply", 0) + 1
        )

    def _to_master(self, args: list[bytes], write: bool = True) -> None:
        assert self.master is not None
        name = args[0].lower()
        counts = self.config.stats.commands["master"]
        counts[name] = counts.get(name, 0) + 1
        self._emit(self.master, encode_command(args), 1, write, None)

    def _replay(self, args: list[bytes]) -> None:
        """Apply a state command to the replica connection too; its reply is not the client's."""
        for upstream in (self.replica, *self.retired):
            if upstream is not None and not upstream.failed:
                run = Run(upstream, 1, discard=True)
                self.fifo.append(run)
                upstream.send(run, encode_command(args))

    def _check_password(self, username: bytes | None, password: bytes) -> bytes | None:
        """None when the credentials are right, else the error reply."""
        secret = self.config.local_password
        if not secret:
            return _NOPASS if username is None else None
        if username not in (None, b"default") or not hmac.compare_digest(password, secret.encode()):
            self.config.stats.error("auth")
            return _WRONGPASS
        return None

    def _special(self, cmd: Command) -> None:
        args = cmd.args
        name = cmd.name
        if not self.authed and name not in (b"auth", b"hello", b"quit"):
            self._local(_NOAUTH)
            return
        if name == b"auth":
            if len(args) not in (2, 3):
                self._local(b"-ERR wrong number of arguments for 'auth' command\r\n")
                return
            error = self._check_password(args[1] if len(args) == 3 else None, args[-1])
            if error is None:
                self.authed = True
            self._local(error or b"+OK\r\n")
        elif name == b"hello":
            self._hello(args)
        elif name == b"select":
            if len(args) == 2 and args[1].isdigit():
                self.db = int(args[1])
                self._replay(args)
            self._to_master(args, write=False)
        elif name == b"client":
            sub = args[1].lower() if len(args) > 1 else b""
            if len(args) == 3 and sub == b"setname":
                self.client_name = args[2]
                self._replay(args)
            elif sub == b"tracking" and len(args) > 2:
                # the master tracks the keys this connection reads: so they are read there
                self.tracking = args[2].lower() == b"on"
            self._to_master(args)
        elif name == b"reset":
            self.proto, self.db, self.client_name = 2, 0, b""
            self.in_multi = self.watching = self.tracking = False
            self.authed = not self.config.local_password
            self._replay(args)
            self._to_master(args, write=False)
        elif name == b"quit":
            self._local(b"+OK\r\n")
            self.closing = True
        elif name == b"multi":
            self.in_multi = True
            self._to_master(args)
        elif name in (b"exec", b"discard"):
            self.in_multi = self.watching = False
            self._to_master(args)
        elif name == b"watch":
            self.watching = True
            self._to_master(args)
        elif name == b"unwatch":
            if not self.in_multi:
                self.watching = False
            self._to_master(args)
        elif name in PASSTHROUGH:
            assert self.master is not None
            self._to_master(args)
            run = Run(self.master, _FOREVER)
            self.fifo.append(run)
            self.master.runs.append(run)
            self.master.passthrough = True
            self.passthrough = self.master
            if self.replica is not None:
                self._retire(self.replica)
        else:  # an inline command that is not special
            data = encode_command(args)
            self._route(data, [Command(args, 0, len(data))])

    def _hello(self, args: list[bytes]) -> None:
        proto = self.proto
        username: bytes | None = None
        password: bytes | None = None
        setname: bytes | None = None
        i = 1
        if len(args) > 1:
            if not args[1].isdigit() or int(args[1]) not in (2, 3):
                self._local(b"-NOPROTO unsupported protocol version\r\n")
                return
            proto = int(args[1])
            i = 2
        while i < len(args):
            option = args[i].lower()
            if option == b"auth" and i + 2 < len(args):
                username, password = args[i + 1], args[i + 2]
                i += 3
            elif option == b"setname" and i + 1 < len(args):
                setname = args[i + 1]
                i += 2
            else:
                self._local(b"-ERR Syntax error in HELLO option '" + args[i] + b"'\r\n")
                return
        if password is not None:
            error = self._check_password(username or b"default", password)
            if error is not None:
                self._local(error)
                return
            self.authed = True
        if not self.authed:
            self._local(
                b"-NOAUTH HELLO must be called with the client already authenticated, otherwise "
                b"the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the "
                b"client and select the RESP protocol version at the same time\r\n"
            )
            return
        self.proto = proto
        upstream_args = [b"HELLO", b"%d" % proto]
        if setname is not None:
            self.client_name = setname
            upstream_args += [b"SETNAME", setname]
        self._replay(upstream_args)
        self._to_master(upstream_args, write=False)

    # --- replies ---------------------------------------------------------------------------------

    def out_of_band(self, frame: bytes) -> None:
        self._oob.append(frame)

    def run_done(self, run: Run) -> None:
        """An upstream filled ``run``: account for it (it is flushed in FIFO order)."""
        upstream = run.upstream
        if upstream is not None and run.t0:
            now = monotonic()
            self.config.stats.latency[upstream.route].observe(now - run.t0)
            if run.write and self.config.read_your_writes:
                self.writes_outstanding -= 1
                self.write_acked = now

    def flush(self) -> None:
        """Write every complete reply at the FIFO head, in request order, in one write."""
        if self._deferred is not None and not self.closing and not self._shared_inflight():
            self._resume_deferred()  # the switch to own upstreams can happen now
            if self.gone:
                self.closing = True
                self._close_upstreams()
        out = self._oob
        fifo = self.fifo
        while fifo:
            run = fifo[0]
            if run.got < run.need:
                if run.need == _FOREVER and run.chunks:
                    out.extend(run.chunks)
                    run.chunks.clear()
                break
            fifo.popleft()
            if not run.discard:
                out.extend(run.chunks)
        transport = self.transport
        if out:
            self._oob = []
            if transport is not None:
                data = out[0] if len(out) == 1 else b"".join(out)
                self.config.stats.bytes_out += len(data)
                transport.write(data)
        if (self.closing or self.stopped) and not fifo:
            self.close()

    def master_changed(self) -> None:
        """The master was replaced: fail what is in flight on the old one and close."""
        if self.master is not None and not self.master.shared:
            self.master.fail("master changed (failover); reconnect")
        elif self.transport is not None:  # its runs on the old master failed already
            self.closing = True
            self.flush()
            self.close()

    # --- upstream failures -----------------------------------------------------------------------

    def upstream_lost(self, upstream: Upstream, reason: str, runs: list[Run] | None = None) -> None:
        """``upstream`` failed; ``runs`` are this session's runs on it (a shared one says which)."""
        stats = self.config.stats
        if upstream.shared and self.master is upstream:
            self.master = None
        master = self.master
        if self.shared and upstream.route == "replica" and (master is None or master.closed):
            master = self.master = self.config.shared(self.config.topology.master)
        if upstream.route == "replica" and master is not None and not master.failed:
            stats.error("replica_lost")
            upstream.node.mark_down(reason)
            if upstream is self.replica:
                self.replica = None
                upstream.node.sessions -= 1
            if upstream in self.retired:
                self.retired.remove(upstream)
            if runs is None:
                runs = list(upstream.runs)
                upstream.runs.clear()
                upstream.node.inflight -= sum(run.need - run.got for run in runs)
            for run in runs:
                if run.discard:
                    run.got = run.need
                    continue
                stats.retries += run.need - run.got
                data = run.remaining_data()
                run.marks = None
                if master.shared:
                    master.send(run, data)
                else:
                    master.runs.append(run)
                    run.upstream = master
                    master.send_raw(data)
            self.flush()
            return
        stats.error("master_lost" if upstream.route == "master" else "replica_lost")
        if upstream.route == "master":
            upstream.node.mark_down(reason)
        message = b"-ERR upstream " + reason.encode(errors="replace") + b"\r\n"
        if runs is None:
            runs = list(upstream.runs)
            upstream.runs.clear()
        for run in runs:
            missing = run.need - run.got
            if missing < _FOREVER:
                run.chunks.append(message * missing)
            run.got = run.need
        self.closing = True
        self.flush()
        self.close()
