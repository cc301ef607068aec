"""One client connection: its state, and the glue between its commands and its upstreams.

:class:`ClientSession` is the asyncio Protocol of a client. It scans each received buffer into
commands, sends contiguous runs of commands bound for the same upstream as one write, and keeps a
FIFO of :class:`~.upstream.Run` objects in request order; each upstream fills its own runs with
replies, and the session flushes the FIFO head while it is complete, so replies go back in
request order however a pipeline mixes reads and writes, with one write per batch.

Clients in the default state (DB 0, no name, no transaction, subscription or blocking command;
``HELLO 3`` and ``CLIENT SETINFO`` keep a client there) share one
:class:`~.upstream.SharedUpstream` per server and protocol. A session whose state leaves the
default (or that pipelines more than :data:`~.router.SHARED_MAX_BATCH` commands per read, or
reads its replies too slowly) switches to upstream connections of its own once its replies from
the shared ones are in, so its commands keep their order; it stays on them for the rest of its
life.

Per-connection state (SELECT, HELLO protocol, CLIENT SETNAME, the client's AUTH) is replayed on
every upstream, whose replies to the replays are discarded. MULTI and WATCH pin reads to the
master until the transaction ends; SUBSCRIBE / PSUBSCRIBE / SSUBSCRIBE / their UNSUBSCRIBEs and
MONITOR make the connection a pass-through to the master. A replica connection that dies has its
unanswered reads resent to the master.

Session consistency (the default): a write batch on the master carries a ROLE probe, and a read
batch on a replica that may not have the latest acknowledged write carries one too (see
:mod:`.upstream`); a client's read while its own write is still in flight goes to the master.

Failover hold: when the master connection is lost (a restart, a Sentinel failover), the session
keeps its reads in flight and its next commands in a :class:`~.hold.FailoverHold`, stops reading
the client, and resumes them on the master once it (or its successor) answers, within
``--failover-hold``. A write in flight when the connection died gets an error, never a retry: it
may have been applied.

Routing is :func:`~.router.plan`'s: the session snapshots its state as a
:class:`~.router.RouteState`, sends the segments the plan returns and handles the command the
plan stops at (a special command, or the switch to its own upstreams), then plans the rest.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from time import monotonic
from typing import cast

from podkit.redis_ambassador.auth import (
    HELLO_NOAUTH,
    NOAUTH,
    WRONGPASS,
    parse_hello,
    password_matches,
)
from podkit.redis_ambassador.flow import BackPressure
from podkit.redis_ambassador.hold import FailoverHold
from podkit.redis_ambassador.replies import ReplyOrder
from podkit.redis_ambassador.resp import Command, encode_command
from podkit.redis_ambassador.router import (
    DEDICATE,
    HELLO,
    MASTER,
    PASSTHROUGH,
    REFUSED,
    RouteState,
    Segment,
    plan,
)
from podkit.redis_ambassador.topology import Node
from podkit.redis_ambassador.upstream import (
    FOREVER,
    ROLE,
    Run,
    SessionConfig,
    Upstream,
)

__all__ = ["ClientSession"]

_WOFF_MARKER = encode_command([b"PUBLISH", b"__podkit_redis_ambassador__", b"wait"])
_REFUSED = (
    b"-ERR %s is not served through the Redis ambassador: "
    b"a replica must connect to the master itself\r\n"
)


class ClientSession(asyncio.Protocol):
    """A client connection: scans commands, routes them, returns replies in request order."""

    def __init__(self, config: SessionConfig) -> None:
        self.config = config
        settings = config.settings
        self.scanner = config.scanners.RequestScanner(
            max_bulk=settings.max_bulk_len,
            max_multibulk=settings.max_multibulk,
            max_inline=settings.max_inline,
            max_query=settings.max_query_buffer,
        )
        self.topology = config.topology
        self.table = config.topology.table
        self.replies = ReplyOrder()  # the runs owed, in request order (see replies.py)
        self.transport: asyncio.Transport | None = None
        self.master: Upstream | None = None
        self.replica: Upstream | None = None
        self.replica_generation = -1
        self.retired: list[Upstream] = []
        self.proto = 2
        self.db = 0
        self.client_name = b""
        self.user_auth: list[bytes] | None = None  # the client's AUTH, once the master took it
        self.authed = not config.local_password
        self.in_multi = False
        self.watching = False
        self.tracking = False  # CLIENT TRACKING on: reads stay where the invalidations come from
        self.pinned = False  # CONFIG SET, or a replica refused the client's AUTH: reads on master
        self.auth_pending = 0  # AUTHs sent to the master, not answered yet
        self.passthrough: Upstream | None = None
        self.closing = False
        self.stopped = False
        self.gone = False  # the client closed its connection
        self.writes_outstanding = 0  # write runs not answered yet (session consistency)
        self.flow = BackPressure(self._own_transports)
        # on shared upstreams until its state leaves the default (see SharedUpstream)
        self.shared = config.share
        self._want_dedicated = False
        self._deferred: list[Command] | None = None  # commands waiting (see _defer)
        self._deferred_for_replica = False  # waiting for reads on a replica, not the switch
        self._deferred_src = b""
        self._deferred_more: list[tuple[bytes, list[Command]]] = []
        self._deferred_error = False
        self.wrote_shared = False  # a write went through a shared connection (see _sync_woff)
        self.hold = FailoverHold()  # the reads and commands kept while the master is away

    # --- connection ------------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = self.flow.transport = transport = cast(asyncio.Transport, transport)
        transport.set_write_buffer_limits(high=self.config.settings.max_output_buffer)
        self.config.sessions.add(self)
        stats = self.config.stats
        stats.clients += 1
        stats.clients_total += 1
        self.master = self._new_master()

    def _new_master(self) -> Upstream:
        node = self.topology.master
        if self.shared:
            return self.config.pools.get(node, self.proto)
        upstream = Upstream(self, node, self.config)
        upstream.start(self._state()[0])
        return upstream

    def _new_replica(self, node: Node | None = None) -> Upstream | None:
        """A read upstream on ``node``, or one the router picks (None: no eligible node)."""
        if node is None:
            node = self.config.router.pick()
        if node is None:
            return None
        if node is self.topology.master:
            return self.master
        replica: Upstream
        if self.shared:
            replica = self.config.pools.get(node, self.proto)
        else:
            replica = Upstream(self, node, self.config)
            state, soft = self._state()
            replica.start(state, soft)
        node.sessions += 1
        self.replica = replica
        self.replica_generation = self.topology.generation
        return replica

    def _state(self) -> tuple[list[list[bytes]], int]:
        """Commands that bring a new upstream connection to the session's state, and the index
        of the one whose refusal is not fatal (the client's AUTH: ACL users are per server)."""
        commands: list[list[bytes]] = []
        soft = -1
        if self.user_auth is not None:
            soft = 0
            commands.append(self.user_auth)
        if self.proto == 3:
            commands.append([b"HELLO", b"3"])
        if self.db:
            commands.append([b"SELECT", b"%d" % self.db])
        if self.client_name:
            commands.append([b"CLIENT", b"SETNAME", self.client_name])
        return commands, soft

    def connection_lost(self, exc: Exception | None) -> None:
        """The client went away: what it sent still runs, as it would on Redis (see finish)."""
        self.transport = self.flow.transport = None
        self.gone = True
        if self._deferred is None and not self.hold.active:
            self.closing = True
            self._close_upstreams()
        # else: the deferred commands go out when the shared replies are in (flush), then close
        if self in self.config.sessions:
            self.config.sessions.discard(self)
            self.config.stats.clients -= 1

    def _close_upstreams(self) -> None:
        self._deferred = None
        self.hold.cancel()
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

    def _own_transports(self) -> list[asyncio.Transport]:
        return [
            upstream.transport
            for upstream in (self.master, self.replica, *self.retired)
            if upstream is not None and upstream.transport is not None and not upstream.shared
        ]

    def pause(self, reason: str) -> None:
        """Stop reading the client (and, when the client is slow, its upstreams' replies)."""
        if self.flow.pause(reason) and reason == "client":
            self._want_dedicated = True  # a slow reader gets back-pressure of its own

    def resume(self, reason: str) -> None:
        self.flow.resume(reason, not (self.stopped or self.closing))

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
        return bool(self.replies) and self.transport is not None and self.passthrough is None

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
        elif self.hold.active:
            if commands:
                self.hold.keep(src, commands)
        elif commands:
            self._route(src, commands)
        if scanner.error is not None:
            if self._deferred is not None or self.hold.active:
                self._deferred_error = True
            else:
                self._protocol_error()
        if self.closing or self.replies.head_ready():
            self.flush()

    def _protocol_error(self) -> None:
        error = self.scanner.error
        self.config.stats.error("protocol")
        self._local(b"-ERR Protocol error: " + str(error).encode() + b"\r\n")
        self.closing = True
        if self.transport is not None:
            self.transport.pause_reading()

    def _shared_inflight(self) -> bool:
        return self.replies.owed()

    def _replica_inflight(self) -> bool:
        return self.replies.owed("replica")

    def _defer(self, src: bytes, commands: list[Command], for_replica: bool) -> None:
        """Keep ``commands`` (reading paused) until the replies they must not overtake are in.

        For the switch to own upstreams: every reply from a shared upstream. Before a write:
        every read of this session on a replica, which would otherwise see the write (a replica
        applies it whenever it arrives, maybe before the earlier read).
        """
        self._deferred = commands
        self._deferred_src = src
        self._deferred_for_replica = for_replica
        self.pause("switch")

    def _deferred_ready(self) -> bool:
        if self._deferred_for_replica:
            return not self._replica_inflight()
        return not self._shared_inflight()

    def _dedicate(self, src: bytes, commands: list[Command]) -> bool:
        """Leave the shared upstreams; False when that must wait for replies still in flight.

        Then ``commands`` are kept, and reading paused, until the session's last reply from a
        shared upstream is in: so a command on the new connection never overtakes one the
        session sent before on a shared one.
        """
        if self._shared_inflight():
            self._defer(src, commands, False)
            return False
        self.shared = False
        self.master = self._new_master()
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
        self.replies.append(run)
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
            if self.hold.active:
                self.hold.keep(src, commands)
            else:
                self._route(src, commands)
        if self._deferred_error and not self.hold.active:
            self._deferred_error = False
            self._protocol_error()
        self.resume("switch")

    def _splits(self) -> bool:
        """Whether this session's reads may leave the master now."""
        return (
            self.config.router.splits
            and not (self.in_multi or self.watching or self.tracking or self.pinned)
            and not self.auth_pending
            and (self.topology.probes or not self.config.session_consistency)
        )

    def _route_state(self) -> RouteState:
        return RouteState(
            shared=self.shared,
            want_dedicated=self._want_dedicated,
            authed=self.authed,
            splits=self._splits(),
            consistency=self.config.session_consistency,
            writes_outstanding=self.writes_outstanding > 0,
            wrote_shared=self.wrote_shared,
            local_password=bool(self.config.local_password),
        )

    def _route(self, src: bytes, commands: list[Command]) -> None:
        """Send a batch as :func:`~.router.plan` cuts it, handling each command it stops at."""
        while commands:
            if self.hold.active:
                self.hold.keep(src, commands)
                return
            if self.shared:
                if self.master is None or self.master.closed:
                    self.master = self.config.pools.get(self.topology.master, self.proto)
            elif self.master is None:
                self.master = self._new_master()
            segments, stop = plan(commands, self._route_state(), self.table)
            if segments and not self._send(src, commands, segments):
                return
            if stop is None:
                return
            rest = commands[stop.at :]
            if stop.action == DEDICATE:
                if not self._dedicate(src, rest):
                    return
                commands = rest
                continue
            if stop.action == HELLO and self._shared_inflight():
                # the protocol's shared connections must not overtake the current ones
                self._defer(src, rest, False)
                return
            self._special(rest[0])
            if self.closing or self.hold.active:
                if self.hold.active and len(rest) > 1:
                    self.hold.keep(src, rest[1:])
                return
            if self.passthrough is not None:
                if len(rest) > 1:
                    self.passthrough.send_raw(
                        b"".join(
                            encode_command(c.args) if c.end < 0 else src[c.start : c.end]
                            for c in rest[1:]
                        )
                    )
                return
            commands = rest[1:]

    def _send(self, src: bytes, commands: list[Command], segments: list[Segment]) -> bool:
        """Send a plan's segments (adjacent ones that meet on one upstream as one run).

        False when the batch was deferred at a fence: a write while reads are on a replica.
        """
        master = self.master
        assert master is not None
        stats = self.config.stats
        counts_master = stats.commands["master"]
        counts_replica = stats.commands["replica"]
        read_up: Upstream | bool | None = False  # the read upstream, once looked up
        on_replica = False  # a read of this batch went to a replica
        busy: bool | None = None  # reads of earlier batches on a replica, once looked up
        pending: Upstream | None = None  # the run being built: upstream, bytes, count, marks
        p_start = p_end = p_count = 0
        p_write = False
        p_marks: list[int] | None = None
        for seg in segments:
            if seg.sync_woff:
                if pending is not None:
                    self._emit(pending, src[p_start:p_end], p_count, p_write, p_marks)
                    pending = None
                self._sync_woff()
            up: Upstream | None = master
            if seg.dest != MASTER:
                if read_up is False:
                    read_up = self._read_upstream()
                up = cast("Upstream | None", read_up)
                if up is None:
                    if pending is not None:
                        self._emit(pending, src[p_start:p_end], p_count, p_write, p_marks)
                        pending = None
                    for _ in range(seg.last - seg.first):
                        stats.error("no_replica")
                        self._local(b"-ERR no healthy replica for a read (read policy replica)\r\n")
                    continue
                if up.route == "replica":
                    on_replica = True
            elif seg.fence:
                if busy is None:
                    busy = bool(self.replies) and self._replica_inflight()
                if on_replica or busy:
                    # a read before it is still on a replica: it must not see this write
                    if pending is not None:
                        self._emit(pending, src[p_start:p_end], p_count, p_write, p_marks)
                    self._defer(src, commands[seg.first :], True)
                    return False
            counts = counts_master if up is master else counts_replica
            for cmd in commands[seg.first : seg.last]:
                name = cmd.name
                counts[name] = counts.get(name, 0) + 1
            count = seg.last - seg.first
            if up is pending and p_end == seg.start:
                p_end = seg.end
                p_count += count
                if p_write or seg.write:
                    p_write, p_marks = True, None
                elif p_marks is not None and seg.marks is not None:
                    shift = seg.start - p_start
                    p_marks = p_marks + [mark + shift for mark in seg.marks]
                continue
            if pending is not None:
                self._emit(pending, src[p_start:p_end], p_count, p_write, p_marks)
            pending, p_start, p_end, p_count = up, seg.start, seg.end, count
            p_write, p_marks = seg.write, seg.marks
        if pending is not None:
            self._emit(pending, src[p_start:p_end], p_count, p_write, p_marks)
        return True

    def _emit(
        self,
        up: Upstream,
        data: bytes,
        count: int,
        write: bool,
        marks: list[int] | None,
        check: Callable[[bytes], None] | None = None,
    ) -> None:
        run = Run(up, count, data, None if write else marks, write=write)
        run.session = self
        run.t0 = monotonic()
        run.check = check
        config = self.config
        if write:
            if up.shared:
                self.wrote_shared = True
            if config.session_consistency:
                self.writes_outstanding += 1
                if not self.in_multi and config.router.splits and self.topology.probes:
                    run.probe = count  # the master's offset once these writes are applied
                    run.need += 1
                    data += ROLE
        elif (
            config.session_consistency
            and up.route == "replica"
            and self.topology.required > up.node.offset
        ):
            run.probe = 0  # the replica's offset before these reads
            run.need += 1
            run.min_offset = self.topology.required
            data = ROLE + data
        self.replies.append(run)
        up.send(run, data)

    def _read_upstream(self) -> Upstream | None:
        """The upstream for this session's next read (None: no eligible node)."""
        replica = self.replica
        if replica is None or not replica.node.healthy or replica.failed:
            if replica is not None:
                self._retire(replica)
            return self._new_replica()
        if self.replica_generation != self.topology.generation:
            # the healthy replicas changed: spread again, at this command boundary
            self.replica_generation = self.topology.generation
            node = self.config.router.pick()
            if node is not None and node is not replica.node:
                self._retire(replica)
                return self._new_replica(node)
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
        self.replies.local(reply)
        self.config.stats.commands["local"][b"reply"] = (
            self.config.stats.commands["local"].get(b"reply", 0) + 1
        )

    def _to_master(
        self, args: list[bytes], write: bool = False, check: Callable[[bytes], None] | None = None
    ) -> None:
        assert self.master is not None
        name = args[0].lower()
        counts = self.config.stats.commands["master"]
        counts[name] = counts.get(name, 0) + 1
        data = encode_command(args)
        self._emit(self.master, data, 1, write, [len(data)], check)

    def _replay(self, args: list[bytes], check: Callable[[bytes], None] | None = None) -> None:
        """Apply a state command to the replica connection too; its reply is not the client's."""
        for upstream in (self.replica, *self.retired):
            if upstream is not None and not upstream.failed and not upstream.shared:
                run = Run(upstream, 1, discard=True)
                run.session = self
                run.check = check
                self.replies.append(run)
                upstream.send(run, encode_command(args))

    def _pin_on_error(self, reply: bytes) -> None:
        """A replayed AUTH the replica refused: its reads would not run as the client's user."""
        if reply[:1] == b"-":
            self.pinned = True

    def auth_refused(self, upstream: Upstream) -> None:
        """A new replica connection refused the client's AUTH (an ACL user only the master has)."""
        self.pinned = True

    def _check_password(self, username: bytes | None, password: bytes) -> bytes | None:
        """None when the credentials are right, else the error reply (local password set)."""
        if password_matches(self.config.local_password, username, password):
            return None
        self.config.stats.error("auth")
        return WRONGPASS

    def _auth_upstream(self, args: list[bytes], auth: list[bytes]) -> None:
        """AUTH (or HELLO ... AUTH) answered by the master; on success the session's upstreams
        are re-authenticated as that user, so the user's ACLs apply to its commands."""

        def on_reply(reply: bytes) -> None:
            self.auth_pending -= 1
            if reply[:1] != b"-":
                self.user_auth = auth
            else:
                self.config.stats.error("auth")

        self.auth_pending += 1  # reads stay on the master until the answer is in
        self._to_master(args, check=on_reply)
        self._replay(auth, check=self._pin_on_error)

    def _special(self, cmd: Command) -> None:
        args = cmd.args
        name = cmd.name
        if not self.authed and name not in (b"auth", b"hello", b"quit"):
            self._local(NOAUTH)
            return
        if name == b"auth":
            if len(args) not in (2, 3):
                self._local(b"-ERR wrong number of arguments for 'auth' command\r\n")
            elif not self.config.local_password:
                self._auth_upstream(args, args)
            else:
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
            self._to_master(args)
        elif name == b"client":
            sub = args[1].lower() if len(args) > 1 else b""
            if sub == b"maint_notifications":
                # endpoint moves of a managed Redis are the ambassador's business, not the app's:
                # answered as a Redis without them answers (clients then carry on without)
                self._local(b"-ERR unknown subcommand '%s'. Try CLIENT HELP.\r\n" % args[1][:128])
                return
            if len(args) == 3 and sub == b"setname":
                self.client_name = args[2]
                self._replay(args)
            elif sub == b"tracking" and len(args) > 2:
                # the master tracks the keys this connection reads: so they are read there
                self.tracking = args[2].lower() == b"on"
            self._to_master(args)
        elif name == b"config":
            if len(args) > 1 and args[1].lower() == b"set":
                self.pinned = True  # the client's reads see the master's new configuration
            self._to_master(args)
        elif name == b"reset":
            self.proto, self.db, self.client_name = 2, 0, b""
            self.in_multi = self.watching = self.tracking = self.pinned = False
            self.user_auth = None
            self.authed = not self.config.local_password
            if self.replica is not None and not self.replica.shared:
                self._retire(self.replica)  # RESET does not undo AUTH on the replica connection
            self._to_master(args)
        elif name == b"quit":
            self._local(b"+OK\r\n")
            self.closing = True
        elif name in REFUSED:
            self.config.stats.error("refused")
            self._local(_REFUSED % args[0].upper())
        elif name == b"multi":
            self.in_multi = True
            self._to_master(args)
        elif name in (b"exec", b"discard"):
            self.in_multi = self.watching = False
            self._to_master(args, write=name == b"exec")
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
            run = Run(self.master, FOREVER)
            run.session = self
            self.replies.append(run)
            self.master.runs.append(run)
            self.master.passthrough = True
            self.passthrough = self.master
            if self.replica is not None:
                self._retire(self.replica)
        else:  # an inline command that is not special
            data = encode_command(args)
            self._route(data, [self.config.scanners.Command(args, 0, len(data))])

    def _hello(self, args: list[bytes]) -> None:
        hello = parse_hello(args)
        if isinstance(hello, bytes):
            self._local(hello)
            return
        proto = self.proto if hello.proto is None else hello.proto
        username, password, setname = hello.username, hello.password, hello.setname
        upstream_auth: list[bytes] | None = None
        if password is not None:
            assert username is not None
            if self.config.local_password:
                error = self._check_password(username, password)
                if error is not None:
                    self._local(error)
                    return
                self.authed = True
            else:
                upstream_auth = [b"AUTH", username, password]
        if not self.authed:
            self._local(HELLO_NOAUTH)
            return
        if self.shared and proto != self.proto:  # to the shared connections of that protocol
            self.proto = proto
            self.master = self.config.pools.get(self.topology.master, proto)
            if self.replica is not None:
                self._retire(self.replica)
        self.proto = proto
        upstream_args = [b"HELLO", b"%d" % proto]
        if setname is not None:
            self.client_name = setname
            upstream_args += [b"SETNAME", setname]
        if upstream_auth is not None:
            self._auth_upstream(
                [*upstream_args, b"AUTH", username or b"", password or b""], upstream_auth
            )
            self._replay(upstream_args)
            return
        self._replay(upstream_args)
        self._to_master(upstream_args)

    # --- replies ---------------------------------------------------------------------------------

    def out_of_band(self, frame: bytes) -> None:
        self.replies.out_of_band(frame)

    def run_done(self, run: Run) -> None:
        """An upstream filled ``run``: account for it (it is flushed in FIFO order)."""
        upstream = run.upstream
        if run.stale:  # the replica was behind: the same reads go to the master
            self.config.stats.stale_retries += 1
            run.unprobe()
            run.t0 = monotonic()
            if self.master is None or self.master.closed:
                self.upstream_lost(upstream or self.replica, "stale", [run])  # type: ignore[arg-type]
                return
            self.master.send(run, run.data)
            return
        if upstream is not None and run.t0:
            self.config.stats.latency[upstream.route].observe(monotonic() - run.t0)
            if run.write and self.config.session_consistency:
                self.writes_outstanding -= 1

    def flush(self) -> None:
        """Write every complete reply at the FIFO head, in request order, in one write."""
        if self._deferred is not None and not self.closing and self._deferred_ready():
            self._resume_deferred()  # the switch to own upstreams can happen now
            if self.gone:
                self.closing = True
                self._close_upstreams()
        out = self.replies.take()
        transport = self.transport
        if out and transport is not None:
            data = out[0] if len(out) == 1 else b"".join(out)
            self.config.stats.bytes_out += len(data)
            transport.write(data)
        if (self.closing or self.stopped) and not self.replies and not self.hold.active:
            self.close()

    def master_changed(self) -> None:
        """The master was replaced: leave the old one (held, or failed when that cannot be)."""
        if self.master is not None and not self.master.shared:
            self.master.fail("master changed (failover)")
        elif self.master is not None and self.master.closed:
            self.master = None

    # --- upstream failures -----------------------------------------------------------------------

    def upstream_lost(self, upstream: Upstream, reason: str, runs: list[Run] | None = None) -> None:
        """``upstream`` failed; ``runs`` are this session's runs on it (a shared one says which)."""
        stats = self.config.stats
        if runs is None:
            runs = list(upstream.runs)
            upstream.runs.clear()
            if upstream.route == "replica":
                upstream.node.inflight -= sum(run.need - run.got for run in runs)
        if upstream.route == "master" or upstream is self.master:
            self._master_lost(upstream, reason, runs)
            return
        master = self.master
        if self.shared and (master is None or master.closed):
            master = self.master = self.config.pools.get(self.topology.master, self.proto)
        stats.error("replica_lost")
        if reason != "stale":
            upstream.node.mark_down(reason)
        if upstream is self.replica:
            self.replica = None
            upstream.node.sessions -= 1
        if upstream in self.retired:
            self.retired.remove(upstream)
        for run in runs:
            if run.discard:
                run.got = run.need
                continue
            run.unprobe()
            stats.retries += run.need - run.got
            run.data = run.remaining_data()  # what is not answered yet
            run.marks = None
            if master is None or master.failed:
                self._hold(reason, [run])
            else:
                master.send(run, run.data)
        self.flush()

    def _master_lost(self, upstream: Upstream, reason: str, runs: list[Run]) -> None:
        """The master connection failed: hold what can be held, fail what cannot."""
        stats = self.config.stats
        stats.error("master_lost")
        if upstream.node is self.topology.master and reason != "master changed (failover)":
            upstream.node.mark_down(reason)
            self.topology.master_up.clear()
        if upstream is self.master:
            self.master = None
        holdable = self.config.failover_hold > 0 and not (
            self.in_multi or self.watching or self.tracking or self.passthrough is not None
        )
        message = b"-ERR upstream " + reason.encode(errors="replace")
        if not holdable:
            for run in runs:
                missing = run.missing
                if missing < FOREVER - 1:
                    run.chunks.append((message + b"\r\n") * missing)
                run.got = run.need
            self.closing = True
            self.flush()
            self.close()
            return
        keep: list[Run] = []
        sent = upstream.connected  # else nothing reached a server: every run may be resent
        for run in runs:
            run.unprobe()
            if run.write and sent:
                # it may have been applied: never resent
                self.writes_outstanding -= 1
                run.chunks.append(
                    (message + b"; the command may have been applied\r\n") * (run.need - run.got)
                )
                run.got = run.need
            elif run.discard:
                run.got = run.need
            else:
                keep.append(run)
        self._hold(reason, keep)
        self.flush()

    def _hold(self, reason: str, runs: list[Run]) -> None:
        """Keep ``runs`` (reads, safe to resend) until the master answers again."""
        if not self.hold.active:
            self.pause("hold")
        self.hold.start(
            reason,
            runs,
            self.topology,
            self.config.failover_hold,
            self._resume_hold,
            self._hold_expired,
        )

    def _resume_hold(self) -> None:
        """The master is back: resend the held reads, then route the held batches."""
        held_runs, held = self.hold.release()
        if self.gone and not held_runs and not held:
            self.closing = True
            self._close_upstreams()
            return
        self.master = master = self._new_master()
        for run in held_runs:
            run.t0 = monotonic()
            data = run.data
            if run.write and self.config.session_consistency and self.topology.probes:
                run.probe = run.need  # as in _emit: the offset later reads must see
                run.need += 1
                data += ROLE
            master.send(run, data)
        for src, commands in held:
            if self.closing or self.hold.active:
                if self.hold.active:
                    self.hold.keep(src, commands)
                continue
            self._route(src, commands)
        if self._deferred_error and not self.hold.active:
            self._deferred_error = False
            self._protocol_error()
        if not self.hold.active:
            self.resume("hold")
            if self.gone:  # the client left while held: what it sent runs, then end-of-file
                self.closing = True
                self._close_upstreams()
        self.flush()

    def _hold_expired(self) -> None:
        """The master did not come back in time: what was held gets errors, and the connection
        closes, like a Redis that went away (an idle session stays, to try again when used)."""
        message = self.hold.error()
        held_runs, held = self.hold.release()
        if not held_runs and not held:
            self.resume("hold")
            if self.gone:
                self.closing = True
                self._close_upstreams()
            return
        for run in held_runs:
            run.chunks.append(message * (run.need - run.got))
            run.got = run.need
        for _src, commands in held:
            for _ in commands:
                self._local(message)
        self.config.stats.error("failover_hold_expired")
        self.closing = True
        self.flush()
        self.close()
