"""Routing rules: which node serves each command of a client's batch, as a pure function.

:func:`plan` takes the parsed commands of one batch, a :class:`RouteState` snapshot of the
session (and the command table) and returns a :class:`Plan`: the batch cut into
:class:`Segment` runs, each bound for the master or for the session's read node, up to the first
command the session must handle itself (a :class:`Stop`). It changes nothing; the session sends
the segments, applies the stop and plans the rest again with its new state.

Ordinary commands are routed by the command table: readonly ones may go to the session's read
node, everything else to the master. The commands in :data:`SPECIAL` change per-connection state
(SELECT, HELLO, AUTH, CLIENT SETNAME, RESET), pin the connection to the master (MULTI, WATCH) or
turn it into a pass-through (SUBSCRIBE, MONITOR), are refused (SYNC, PSYNC, REPLCONF) or pin reads
to the master (CONFIG SET); :mod:`.session` handles them on a slow path. Commands a shared
upstream connection cannot take (blocking ones, state changes) stop the plan with
:data:`DEDICATE`. :class:`ReadRouter` picks which node is the read node.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from podkit.redis_ambassador.commands import CommandTable
from podkit.redis_ambassador.resp import Command
from podkit.redis_ambassador.topology import Node, Topology

__all__ = [
    "DEDICATE",
    "DEDICATED",
    "HANDLE",
    "HELLO",
    "MASTER",
    "PASSTHROUGH",
    "READ",
    "REFUSED",
    "SHARED_MAX_BATCH",
    "SPECIAL",
    "Plan",
    "ReadRouter",
    "RouteState",
    "Segment",
    "Stop",
    "needs_own",
    "plan",
]

# the connection becomes a byte-for-byte pass-through to the master: Redis itself answers every
# reply of these, in every state and with any number of arguments
PASSTHROUGH = frozenset(
    {
        b"subscribe",
        b"psubscribe",
        b"ssubscribe",
        b"unsubscribe",
        b"punsubscribe",
        b"sunsubscribe",
        b"monitor",
    }
)
# a replica's side of replication: refused with a clear error, the connection stays usable
REFUSED = frozenset({b"sync", b"psync", b"replconf"})

SPECIAL = frozenset(
    {
        b"auth",
        b"hello",
        b"select",
        b"client",
        b"reset",
        b"quit",
        b"multi",
        b"exec",
        b"discard",
        b"watch",
        b"unwatch",
        b"config",
        *PASSTHROUGH,
        *REFUSED,
    }
)


class ReadRouter:
    """Picks the node a session's reads go to, under the read policy and replica choice."""

    __slots__ = ("choice", "policy", "topology")

    def __init__(self, topology: Topology, policy: str, choice: str) -> None:
        self.topology = topology
        self.policy = policy
        self.choice = choice

    @property
    def splits(self) -> bool:
        """Whether reads may leave the master at all."""
        return self.policy != "master"

    def pick(self) -> Node | None:
        """A node for a session's reads; None when none is eligible (the master for most policies)."""
        topology = self.topology
        if self.policy == "master":
            return topology.master
        node = topology.choose(self.choice, include_master=self.policy == "any")
        if node is None and self.policy in ("prefer-replica", "any"):
            return topology.master
        return node


SHARED_MAX_BATCH = 128  # a client pipelining more commands per read gets its own connections
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
    }
)
# CLIENT subcommands a shared connection can take: library metadata (SETINFO), and
# MAINT_NOTIFICATIONS (redis-py's RESP3 handshake), which the session answers itself
_SHARED_CLIENT = frozenset({b"setinfo", b"maint_notifications"})
_WAITS = frozenset({b"wait", b"waitaof"})

# a segment's destination
MASTER = "master"
READ = "read"  # the session's read node (a replica, or the master when none is eligible)
# a stop's action
DEDICATE = "dedicate"  # leave the shared upstreams first, then plan again from this command
HELLO = "hello"  # special, once the session's replies from shared upstreams are in
HANDLE = "handle"  # the session handles this command itself, then plans the rest


class RouteState(NamedTuple):
    """What routing needs to know of a session, as of the start of a batch."""

    shared: bool  # on shared upstream connections
    want_dedicated: bool  # a slow reader: leave the shared connections at the next batch
    authed: bool
    splits: bool  # reads may leave the master now (policy, transaction, tracking, pinning)
    consistency: bool  # session consistency (reads after the client's writes see them)
    writes_outstanding: bool  # a write of this client is not answered yet
    wrote_shared: bool  # a write went through a shared connection (WAIT must sync first)
    local_password: bool  # the ambassador answers AUTH itself


class Segment(NamedTuple):
    """Contiguous commands ``first:last`` (bytes ``start:end`` of the batch) for one node."""

    dest: str  # MASTER or READ
    first: int
    last: int
    start: int
    end: int
    write: bool  # holds a write: its replies carry the session's consistency probe
    marks: list[int] | None  # reads only: each command's end, relative to ``start``
    # starts with a write while reads may be on a replica: the session defers the batch from
    # here while any of its reads (earlier ones, or this batch's READ segments) is on a replica
    fence: bool
    # WAIT after writes on a shared connection: the session moves its own connection's
    # replication offset past them first (and ``wrote_shared`` no longer holds)
    sync_woff: bool


class Stop(NamedTuple):
    """The command at ``at`` ends the plan: ``action`` says what the session does there."""

    at: int
    action: str  # DEDICATE, HELLO or HANDLE


class Plan(NamedTuple):
    segments: list[Segment]
    stop: Stop | None


_slow_cache: tuple[object, frozenset[bytes]] = (None, frozenset())


def _slow_names(table: CommandTable) -> frozenset[bytes]:
    """Names that leave the fast path: special, or needing the session's own upstreams."""
    global _slow_cache
    if _slow_cache[0] is not table:
        _slow_cache = (table, SPECIAL | DEDICATED | table.blocking)
    return _slow_cache[1]


def needs_own(cmd: Command, state: RouteState, table: CommandTable) -> bool:
    """Whether ``cmd`` needs the session's own upstream connections (not shared ones)."""
    name = cmd.name
    if name in SPECIAL:
        if name in (b"quit", *REFUSED):
            return False
        if name == b"auth":
            return not state.local_password  # AUTH as a user changes the connection
        if name == b"client" and len(cmd.args) > 1 and cmd.args[1].lower() in _SHARED_CLIENT:
            return False  # metadata only, or answered here: fine on a shared connection
        if name == b"hello" and len(cmd.args) <= 2:
            return False  # the protocol alone: the shared connections of that protocol
        return state.authed or name == b"hello"
    return name in DEDICATED or name in table.blocking


def plan(commands: Sequence[Command], state: RouteState, table: CommandTable) -> Plan:
    """Cut a batch into segments by destination, up to the first command that stops routing."""
    segments: list[Segment] = []
    shared = state.shared
    if shared and (state.want_dedicated or len(commands) > SHARED_MAX_BATCH):
        return Plan(segments, Stop(0, DEDICATE))
    authed = state.authed
    splits = state.splits
    consistency = state.consistency
    wrote = state.writes_outstanding  # a write of the client's precedes (answered or not)
    wrote_shared = state.wrote_shared
    slow = _slow_names(table)
    readonly, parents = table.readonly, table.parents
    dest = ""  # the open segment's, "" when none is open
    first = start = end = 0
    seg_write = fence = sync = False
    marks: list[int] = []
    for index, cmd in enumerate(commands):
        name = cmd.name
        sync_now = False
        if name in slow or not authed or cmd.end < 0:
            if not shared and wrote_shared and name in _WAITS:
                sync_now = True
                wrote_shared = False
            if shared and needs_own(cmd, state, table):
                stop: Stop | None = Stop(index, DEDICATE)
            elif name in SPECIAL or not authed or cmd.end < 0:
                stop = Stop(index, HELLO if shared and name == b"hello" else HANDLE)
            else:
                stop = None
            if stop is not None:
                if dest:
                    segments.append(
                        Segment(
                            dest,
                            first,
                            index,
                            start,
                            end,
                            seg_write,
                            None if seg_write else marks,
                            fence,
                            sync,
                        )
                    )
                return Plan(segments, stop)
        to = MASTER
        write = False
        if splits and (
            name in readonly if name not in parents else table.is_readonly(name, cmd.args)
        ):
            if not (consistency and wrote):  # else a write of this client may not be there
                to = READ
        elif name not in readonly:
            write = table.is_write(name)
        fence_now = write and splits and not (dest == MASTER and seg_write)
        if to == dest and end == cmd.start and not fence_now and not sync_now:
            end = cmd.end
            seg_write = seg_write or write
        else:
            if dest:
                segments.append(
                    Segment(
                        dest,
                        first,
                        index,
                        start,
                        end,
                        seg_write,
                        None if seg_write else marks,
                        fence,
                        sync,
                    )
                )
            dest, first, start, end = to, index, cmd.start, cmd.end
            seg_write, fence, sync = write, fence_now, sync_now
            marks = []
        wrote = wrote or write
        if not seg_write:
            marks.append(cmd.end - start)
    if dest:
        segments.append(
            Segment(
                dest,
                first,
                len(commands),
                start,
                end,
                seg_write,
                None if seg_write else marks,
                fence,
                sync,
            )
        )
    return Plan(segments, None)
