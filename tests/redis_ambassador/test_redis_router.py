"""The routing function on its own: commands x session states -> segments and a stop.

:func:`podkit.redis_ambassador.router.plan` is pure, so these tables need no server: each row is
a batch (commands as a client would pipeline them), a session state, and the plan expected.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from podkit.redis_ambassador.commands import CommandTable
from podkit.redis_ambassador.resp import encode_command
from podkit.redis_ambassador.resp.python import PyCommand
from podkit.redis_ambassador.router import (
    DEDICATE,
    HANDLE,
    HELLO,
    MASTER,
    READ,
    SHARED_MAX_BATCH,
    RouteState,
    Stop,
    plan,
)

TABLE = CommandTable()

# a dedicated session that may split reads, under session consistency, nothing outstanding
BASE = RouteState(
    shared=False,
    want_dedicated=False,
    authed=True,
    splits=True,
    consistency=True,
    writes_outstanding=False,
    wrote_shared=False,
    local_password=False,
)
SHARED = BASE._replace(shared=True)
EVENTUAL = BASE._replace(consistency=False)


def batch(*commands: str) -> list[PyCommand]:
    """Commands as one scanned buffer; a leading ``!`` makes one inline (no RESP bytes)."""
    out: list[PyCommand] = []
    offset = 0
    for text in commands:
        args = [arg.encode() for arg in text.lstrip("!").split()]
        if text.startswith("!"):
            out.append(PyCommand(args, 0, -1))
            continue
        size = len(encode_command(args))
        out.append(PyCommand(args, offset, offset + size))
        offset += size
    return out


@dataclass
class Row:
    commands: list[str]
    state: RouteState
    # each segment as (dest, first, last, write, fence, sync_woff)
    segments: list[tuple[str, int, int, bool, bool, bool]]
    stop: Stop | None = None
    note: str = field(default="")


ROWS = {
    "reads to the read node": Row(["GET a", "MGET a b"], BASE, [(READ, 0, 2, False, False, False)]),
    "no split: all on the master": Row(
        ["GET a", "SET a 1", "GET a"],
        BASE._replace(splits=False),
        [(MASTER, 0, 3, True, False, False)],
    ),
    "session: a read after the batch's write stays with it": Row(
        ["SET a 1", "GET a", "SET b 2", "GET b"], BASE, [(MASTER, 0, 4, True, True, False)]
    ),
    "session: a read after an unanswered write goes to the master": Row(
        ["GET a"], BASE._replace(writes_outstanding=True), [(MASTER, 0, 1, False, False, False)]
    ),
    "eventual: reads leave the master after a write, each write is fenced": Row(
        ["SET a 1", "GET a", "SET b 2"],
        EVENTUAL,
        [
            (MASTER, 0, 1, True, True, False),
            (READ, 1, 2, False, False, False),
            (MASTER, 2, 3, True, True, False),
        ],
    ),
    "a write after reads is fenced": Row(
        ["GET a", "SET a 1"],
        BASE,
        [(READ, 0, 1, False, False, False), (MASTER, 1, 2, True, True, False)],
    ),
    "a non-write before a write: the fence starts at the write": Row(
        ["PING", "SET a 1", "SET b 2"],
        BASE,
        [(MASTER, 0, 1, False, False, False), (MASTER, 1, 3, True, True, False)],
    ),
    "no fence without splitting": Row(
        ["PING", "SET a 1"], BASE._replace(splits=False), [(MASTER, 0, 2, True, False, False)]
    ),
    "PUBLISH is no write": Row(
        ["PUBLISH ch m", "GET a"],
        BASE,
        [(MASTER, 0, 1, False, False, False), (READ, 1, 2, False, False, False)],
    ),
    "OBJECT ENCODING describes the server: master": Row(
        ["OBJECT ENCODING a", "OBJECT", "GET a"],
        BASE,
        [(MASTER, 0, 2, False, False, False), (READ, 2, 3, False, False, False)],
    ),
    "unknown commands are writes": Row(["FROBNICATE a"], BASE, [(MASTER, 0, 1, True, True, False)]),
    "a special command stops the plan": Row(
        ["GET a", "SELECT 1", "GET b"], BASE, [(READ, 0, 1, False, False, False)], Stop(1, HANDLE)
    ),
    "MULTI is special": Row(["MULTI", "SET a 1", "EXEC"], BASE, [], Stop(0, HANDLE)),
    "an inline command is handled by the session": Row(
        ["GET a", "!GET b"], BASE, [(READ, 0, 1, False, False, False)], Stop(1, HANDLE)
    ),
    "not authenticated: the session answers": Row(
        ["GET a"], BASE._replace(authed=False), [], Stop(0, HANDLE)
    ),
    "a blocking command on own connections is routed": Row(
        ["BLPOP q 0"], BASE, [(MASTER, 0, 1, True, True, False)]
    ),
    "shared: a blocking command needs own connections": Row(
        ["GET a", "BLPOP q 0"], SHARED, [(READ, 0, 1, False, False, False)], Stop(1, DEDICATE)
    ),
    "shared: a slow reader leaves at the next batch": Row(
        ["GET a"], SHARED._replace(want_dedicated=True), [], Stop(0, DEDICATE)
    ),
    "shared: HELLO 3 waits for the shared replies": Row(
        ["PING", "HELLO 3"], SHARED, [(MASTER, 0, 1, False, False, False)], Stop(1, HELLO)
    ),
    "shared: HELLO with AUTH needs own connections": Row(
        ["HELLO 3 AUTH u p"], SHARED, [], Stop(0, DEDICATE)
    ),
    "shared: CLIENT SETINFO stays shared": Row(
        ["CLIENT SETINFO LIB-NAME x"], SHARED, [], Stop(0, HANDLE)
    ),
    "shared: CLIENT SETNAME needs own connections": Row(
        ["CLIENT SETNAME x"], SHARED, [], Stop(0, DEDICATE)
    ),
    "shared: AUTH answered locally stays shared": Row(
        ["AUTH pw"], SHARED._replace(local_password=True), [], Stop(0, HANDLE)
    ),
    "shared: AUTH as an upstream user needs own connections": Row(
        ["AUTH u pw"], SHARED, [], Stop(0, DEDICATE)
    ),
    "shared, not authenticated: HELLO with AUTH still needs own connections": Row(
        ["HELLO 3 AUTH u p"], SHARED._replace(authed=False), [], Stop(0, DEDICATE)
    ),
    "shared: SYNC is refused, not dedicated": Row(["SYNC"], SHARED, [], Stop(0, HANDLE)),
    # (the built-in table does not know WAIT, so it counts as a write)
    "WAIT after shared writes syncs the offset once": Row(
        ["SET a 1", "WAIT 1 0", "WAIT 1 0"],
        BASE._replace(wrote_shared=True),
        [(MASTER, 0, 1, True, True, False), (MASTER, 1, 3, True, False, True)],
    ),
    "WAIT without shared writes": Row(
        ["WAIT 1 0"], BASE._replace(splits=False), [(MASTER, 0, 1, True, False, False)]
    ),
}


@pytest.mark.parametrize("row", ROWS.values(), ids=list(ROWS))
def test_plan(row: Row) -> None:
    commands = batch(*row.commands)
    segments, stop = plan(commands, row.state, TABLE)
    got = [(s.dest, s.first, s.last, s.write, s.fence, s.sync_woff) for s in segments]
    assert got == row.segments
    assert stop == row.stop
    for seg in segments:  # byte ranges cover exactly the segment's commands
        assert seg.start == commands[seg.first].start
        assert seg.end == commands[seg.last - 1].end


def test_read_segments_mark_each_command_end() -> None:
    commands = batch("GET a", "GET bb", "MGET a b")
    (segment,), _ = plan(commands, BASE, TABLE)
    assert segment.marks == [cmd.end - segment.start for cmd in commands]
    (write,), _ = plan(batch("SET a 1", "GET a"), BASE, TABLE)
    assert write.marks is None  # a write's replies are never resent: no marks


def test_a_batch_too_long_to_share_leaves_the_shared_connections() -> None:
    commands = batch(*["GET a"] * (SHARED_MAX_BATCH + 1))
    assert plan(commands, SHARED, TABLE) == ([], Stop(0, DEDICATE))
    segments, stop = plan(commands[:SHARED_MAX_BATCH], SHARED, TABLE)
    assert stop is None
    assert [(s.dest, s.last) for s in segments] == [(READ, SHARED_MAX_BATCH)]


def test_subcommand_tables_from_the_master_route_by_subcommand() -> None:
    table = CommandTable(readonly={b"get", b"xinfo|stream"})
    segments, _ = plan(batch("XINFO STREAM s", "XINFO GROUPS s"), BASE, table)
    assert [(s.dest, s.first, s.last) for s in segments] == [(READ, 0, 1), (MASTER, 1, 2)]


def test_plan_changes_neither_the_state_nor_the_commands() -> None:
    commands = batch("SET a 1", "WAIT 1 0", "SELECT 2")
    state = BASE._replace(wrote_shared=True)
    before = [(c.args, c.start, c.end) for c in commands]
    first = plan(commands, state, TABLE)
    assert plan(commands, state, TABLE) == first
    assert state.wrote_shared
    assert [(c.args, c.start, c.end) for c in commands] == before
