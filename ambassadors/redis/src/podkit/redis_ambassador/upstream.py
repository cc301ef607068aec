"""Upstream connections: a session's own, the shared ones, and the runs of replies they fill.

A :class:`Run` is the replies owed for a batch of commands sent to one upstream (or a local
reply). Every upstream connection keeps a FIFO of runs and fills the one at its head as replies
arrive; the session that owns a run flushes its own FIFO in request order (:mod:`.replies`).

:class:`Upstream` is one connection from one session to one node. :class:`SharedUpstream` is one
connection to a node shared by every session in the default state (DB 0, no name, no
transaction, subscription or blocking command; one per protocol, RESP2 and RESP3), like
twemproxy's server connections: sessions'
commands are written to it once per event-loop iteration and each run remembers its session.
:class:`Pools` keeps the live shared connection of each node. Both kinds read replies with one
:meth:`Upstream.data_received`.

Consistency probes: a run may carry one extra ``ROLE`` command whose reply is not the client's.
After a write batch on the master (``probe`` at the end) it reads the master's replication
offset once the writes are applied, which every later read must see (``Topology.required``);
before a read batch on a replica (``probe`` at the start) it reads the replica's applied offset,
and a replica behind the requirement has the batch's replies thrown away and the reads resent to
the master (``Run.stale``).
"""

from __future__ import annotations

import asyncio
import sys
from collections import deque
from collections.abc import Callable
from ssl import SSLContext
from typing import TYPE_CHECKING, Protocol, cast

from podkit.redis_ambassador.metrics import Stats
from podkit.redis_ambassador.resp import ProtocolError, Scanners, encode_command
from podkit.redis_ambassador.router import ReadRouter
from podkit.redis_ambassador.topology import Node, Topology

if TYPE_CHECKING:
    from podkit.redis_ambassador.session import ClientSession
    from podkit.redis_ambassador.settings import RedisAmbassadorSettings

__all__ = [
    "FOREVER",
    "ROLE",
    "Owner",
    "Pools",
    "Run",
    "SessionConfig",
    "SharedUpstream",
    "Upstream",
    "role_offset",
]

FOREVER = sys.maxsize  # the ``need`` of a pass-through run: it never completes
ROLE = b"*1\r\n$4\r\nROLE\r\n"
# a connection finishing after its client left gets this long to flush what the client sent
FINISH_BOUND = 30.0
_MASTER_ROLE = b"*3\r\n$6\r\nmaster\r\n:"
_REPLICA_ROLE = b"*5\r\n$5\r\nslave\r\n"
_CONNECTED = b"$9\r\nconnected\r\n:"


def role_offset(frame: bytes) -> int | None:
    """The replication offset in a ``ROLE`` reply, or None (an error, a replica not connected).

    A master answers ``master_repl_offset``; a replica the offset of the replication stream it
    has applied (``master->reploff``), in RESP2 and RESP3 alike.
    """
    try:
        if frame.startswith(_MASTER_ROLE):
            start = len(_MASTER_ROLE)
            return int(frame[start : frame.index(b"\r\n", start)])
        if frame.startswith(_REPLICA_ROLE):
            at = frame.rfind(_CONNECTED)
            if at < 0:
                return None
            start = at + len(_CONNECTED)
            return int(frame[start : frame.index(b"\r\n", start)])
    except ValueError:
        return None
    return None


class Owner(Protocol):
    """What an upstream calls back on the session that owns a run."""

    def run_done(self, run: Run) -> None: ...
    def flush(self) -> None: ...
    def out_of_band(self, frame: bytes) -> None: ...
    def upstream_lost(
        self, upstream: Upstream, reason: str, runs: list[Run] | None = ...
    ) -> None: ...
    def auth_refused(self, upstream: Upstream) -> None: ...
    def pause(self, reason: str) -> None: ...
    def resume(self, reason: str) -> None: ...


class SessionConfig:
    """What every session shares: settings, topology, routing, counters and the shared pools."""

    def __init__(
        self,
        settings: RedisAmbassadorSettings,
        topology: Topology,
        stats: Stats,
        upstream_password: str,
        local_password: str,
        ssl: SSLContext | None = None,
        scanners: Scanners | None = None,
    ) -> None:
        self.settings = settings
        self.topology = topology
        self.stats = stats
        self.scanners = scanners or Scanners.load(settings.resp_scanner)
        self.router = ReadRouter(topology, settings.read_policy, settings.replica_choice)
        self.upstream_username = settings.upstream_username
        self.upstream_password = upstream_password
        self.local_password = local_password
        self.session_consistency = settings.consistency == "session"
        self.failover_hold = settings.failover_hold
        self.sessions: set[ClientSession] = set()
        self.ssl = ssl
        self.server_name = settings.upstream_tls_server_name
        self.share = settings.share_connections  # default-state sessions share connections
        self.pools = Pools(self)

    def auth(self) -> list[list[bytes]]:
        """The AUTH command that opens every upstream connection (none without a password)."""
        if not self.upstream_password:
            return []
        user = [self.upstream_username.encode()] if self.upstream_username else []
        return [[b"AUTH", *user, self.upstream_password.encode()]]


class Pools:
    """The live shared connection to each node."""

    def __init__(self, config: SessionConfig) -> None:
        self.config = config
        self.by_node: dict[tuple[Node, int], SharedUpstream] = {}

    def get(self, node: Node, proto: int = 2) -> SharedUpstream:
        """The live shared connection to ``node`` speaking RESP ``proto`` (new when none is)."""
        key = (node, proto)
        upstream = self.by_node.get(key)
        if upstream is None or upstream.closed:
            upstream = self.by_node[key] = SharedUpstream(self.config, node, proto)
            upstream.start([[b"HELLO", b"3"]] if proto == 3 else [])
        return upstream

    def drop(self, reason: str, master_only: bool = False) -> None:
        """Fail the shared connections (to the old master only, after a failover)."""
        for upstream in list(self.by_node.values()):
            if not master_only or upstream.route == "master":
                upstream.fail(reason)

    def forget(self, upstream: SharedUpstream) -> None:
        key = (upstream.node, upstream.proto)
        if self.by_node.get(key) is upstream:
            del self.by_node[key]

    def close(self) -> None:
        for upstream in list(self.by_node.values()):
            upstream.close()
        self.by_node.clear()


class Run:
    """Replies owed for a batch of commands sent to one upstream (or a local reply)."""

    __slots__ = (
        "check",
        "chunks",
        "data",
        "discard",
        "got",
        "marks",
        "min_offset",
        "need",
        "probe",
        "session",
        "stale",
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
        self.session: Owner | None = None
        self.probe = -1  # index of the ROLE reply among the run's replies (-1: none)
        self.min_offset = -1  # a replica read: the offset the replica must have applied
        self.stale = False  # the replica was behind min_offset: the reads go to the master
        self.check: Callable[[bytes], None] | None = None  # sees the reply (session.flush)

    @property
    def missing(self) -> int:
        """Client replies still owed (the probe's is not the client's)."""
        missing = self.need - self.got
        if self.probe >= self.got:
            missing -= 1
        return missing

    def unprobe(self) -> None:
        """Forget the probe (and stale replies), to resend what is left of the run elsewhere."""
        if self.stale:
            self.chunks.clear()
            self.got = 0
            self.stale = False
        elif 0 <= self.probe < self.got:
            self.got -= 1
        if self.probe >= 0:
            self.need -= 1
            self.probe = -1
            self.min_offset = -1

    def remaining_data(self) -> bytes:
        if self.got == 0 or self.marks is None:
            return self.data
        return self.data[self.marks[self.got - 1] :]


class Upstream(asyncio.Protocol):
    """One connection from a session to a node; fills that session's runs with replies."""

    shared = False

    def __init__(self, session: Owner, node: Node, config: SessionConfig) -> None:
        self.session = session
        self._setup(config, node)
        self.soft = -1  # index of the handshake command whose refusal is not fatal

    def _setup(self, config: SessionConfig, node: Node) -> None:
        self.config = config
        self.node = node
        self.route = "master" if node is config.topology.master else "replica"
        self.runs: deque[Run] = deque()
        self.scanner = config.scanners.ReplyScanner()
        self.transport: asyncio.Transport | None = None
        self.pending: list[bytes] = []
        self.handshake_left = 0
        self.hello_count = 0
        self.closed = False
        self.failed = False
        self.passthrough = False
        self.finishing = False
        self.hello: list[bytes] = []
        self.refused = False  # the client's AUTH was refused: replies are not the client's
        self.connected = False  # connection_made ran: what was sent may have reached the server

    # --- connecting ------------------------------------------------------------------------------

    def start(self, state: list[list[bytes]] | None = None, soft: int = -1) -> None:
        """Connect; ``state`` (commands) brings the connection to the session's state first."""
        self.hello = [encode_command(args) for args in self.config.auth() + (state or [])]
        self.soft = soft + len(self.config.auth()) if soft >= 0 else -1
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

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport = cast(asyncio.Transport, transport)  # uvloop's is no subclass
        self.connected = True
        if self.closed and not self.finishing:
            transport.close()
            return
        hello = self.hello
        self.handshake_left = self.hello_count = len(hello)
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
        n = len(ends)
        if not n:
            return
        prev = 0
        i = 0
        while self.handshake_left and i < n:
            self.handshake_left -= 1
            stop = abs(ends[i])
            if src[prev] == 45:  # '-'
                if self.hello_count - self.handshake_left - 1 == self.soft:
                    self.refused = True  # its reads ran as another user: the master answers
                    self.session.auth_refused(self)
                else:
                    self.fail(f"{self.route} refused the handshake: {src[prev + 1 : stop - 2]!r}")
                    return
            prev = stop
            i += 1
        runs = self.runs
        pushes = self.scanner.pushes
        if pushes and self.shared:
            self.fail(f"unexpected push frame from {self.route}")
            return
        replica = self.route == "replica"
        dirty: list[Owner] = []
        while i < n:
            if not runs:
                if pushes and ends[i] < 0:  # out-of-band push (RESP3), not a reply to a command
                    stop = -ends[i]
                    self.session.out_of_band(src[prev:stop])
                    if not dirty or dirty[-1] is not self.session:
                        dirty.append(self.session)
                    prev = stop
                    i += 1
                    continue
                self.fail(f"unexpected reply from {self.route}")
                return
            run = runs[0]
            got = run.got
            session = run.session
            assert session is not None
            if got == run.probe:
                stop = abs(ends[i])
                self._probed(run, src[prev:stop])
                take = 1
            elif pushes:  # slow path: one frame at a time, passing pushes through
                stop = ends[i]
                if stop < 0 and not self.passthrough:
                    session.out_of_band(src[prev:-stop])
                    prev = -stop
                    i += 1
                    continue
                take = 1
                stop = abs(stop)
                run.chunks.append(src[prev:stop])
            else:
                take = (run.probe if run.probe > got else run.need) - got
                if take > n - i:
                    take = n - i
                stop = ends[i + take - 1]
                run.chunks.append(src[prev:stop])
            prev = stop
            i += take
            run.got = got + take
            if replica:
                self.node.inflight -= take
            if run.got >= run.need:
                runs.popleft()
                if self.refused and not run.discard:
                    run.stale = True
                session.run_done(run)
            if not dirty or dirty[-1] is not session:
                dirty.append(session)
        for owner in dict.fromkeys(dirty) if len(dirty) > 1 else dirty:
            owner.flush()

    def _probed(self, run: Run, frame: bytes) -> None:
        """A consistency probe's ROLE reply (see the module docstring)."""
        offset = role_offset(frame)
        topology = self.config.topology
        if self.route == "master" or self.node is topology.master:
            if offset is None:
                topology.probe_refused(frame)
            elif offset > topology.required:
                topology.required = offset
            return
        if offset is not None and offset > self.node.offset:
            self.node.offset = offset
        if offset is None or offset < run.min_offset:
            run.stale = True

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


def _close_after_flush(transport: asyncio.Transport) -> None:
    """Close ``transport`` once its write buffer is sent, aborting it if that takes too long."""
    transport.pause_reading()
    transport.close()
    asyncio.get_running_loop().call_later(FINISH_BOUND, transport.abort)


class SharedUpstream(Upstream):
    """A connection to a node shared by every session in the default state (see the module).

    Sessions' commands are queued and written once per event-loop iteration; the runs of every
    session wait in one FIFO, so each reply goes to the session that sent the command, in order.
    Sessions that change their connection state move to their own :class:`Upstream` first.
    """

    shared = True

    def __init__(self, config: SessionConfig, node: Node, proto: int = 2) -> None:
        self._setup(config, node)
        self.proto = proto
        self.soft = -1
        self.scheduled = False
        self.paused = False
        self.blocked: set[Owner] = set()
        self.loop = asyncio.get_running_loop()

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
        by_session: dict[Owner, list[Run]] = {}
        for run in runs:
            assert run.session is not None
            by_session.setdefault(run.session, []).append(run)
        for session, lost in by_session.items():
            session.upstream_lost(self, reason, lost)
        blocked, self.blocked = self.blocked, set()
        for session in blocked:
            session.resume("upstream")

    def close(self) -> None:
        self.config.pools.forget(self)
        super().close()
