"""The command table: which commands may be served by a replica, and which need special handling.

The table is built from the master's ``COMMAND`` reply (flags of every command and of every
subcommand such as ``object|encoding``) each time the health loop (re)connects to the master; a
built-in table is the fallback when ``COMMAND`` is unavailable (renamed or forbidden by ACL).
A command is *readonly* only when the table says so; anything unknown goes to the master. A
command is a *write* (its effects must be visible to later reads under session consistency) when
flagged ``write`` or ``may_replicate`` (scripts, functions), except PUBLISH/SPUBLISH, whose effect
no read can see; anything unknown counts as a write. Readonly commands that describe the server
rather than the data (``OBJECT ENCODING``, ``MEMORY USAGE``: a replica has its own encoding
thresholds and allocator) are served by the master, so a client sees the effect of its own
``CONFIG SET``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["BUILTIN_READONLY", "CommandTable"]

# Redis 7.0's readonly commands (and readonly subcommands as "parent|sub").
BUILTIN_READONLY = frozenset(
    {
        b"bitcount",
        b"bitfield_ro",
        b"bitpos",
        b"dbsize",
        b"dump",
        b"eval_ro",
        b"evalsha_ro",
        b"exists",
        b"expiretime",
        b"fcall_ro",
        b"geodist",
        b"geohash",
        b"geopos",
        b"georadius_ro",
        b"georadiusbymember_ro",
        b"geosearch",
        b"get",
        b"getbit",
        b"getrange",
        b"hexists",
        b"hget",
        b"hgetall",
        b"hkeys",
        b"hlen",
        b"hmget",
        b"hrandfield",
        b"hscan",
        b"hstrlen",
        b"hvals",
        b"keys",
        b"lcs",
        b"lindex",
        b"llen",
        b"lpos",
        b"lrange",
        b"memory|usage",
        b"mget",
        b"object|encoding",
        b"object|freq",
        b"object|idletime",
        b"object|refcount",
        b"pexpiretime",
        b"pfcount",
        b"pttl",
        b"randomkey",
        b"scan",
        b"scard",
        b"sdiff",
        b"sinter",
        b"sintercard",
        b"sismember",
        b"smembers",
        b"smismember",
        b"sort_ro",
        b"srandmember",
        b"sscan",
        b"strlen",
        b"substr",
        b"sunion",
        b"touch",
        b"ttl",
        b"type",
        b"xinfo|consumers",
        b"xinfo|groups",
        b"xinfo|stream",
        b"xlen",
        b"xpending",
        b"xrange",
        b"xread",
        b"xrevrange",
        b"zcard",
        b"zcount",
        b"zdiff",
        b"zinter",
        b"zintercard",
        b"zlexcount",
        b"zmscore",
        b"zrandmember",
        b"zrange",
        b"zrangebylex",
        b"zrangebyscore",
        b"zrank",
        b"zrevrange",
        b"zrevrangebylex",
        b"zrevrangebyscore",
        b"zrevrank",
        b"zscan",
        b"zscore",
        b"zunion",
    }
)

# readonly, but about the server's own representation: served by the master
SERVER_LOCAL = frozenset(
    {b"object|encoding", b"object|freq", b"object|idletime", b"object|refcount", b"memory|usage"}
)
_NOT_WRITES = frozenset({b"publish", b"spublish", b"object", b"memory", b"ping", b"echo", b"info"})

_BUILTIN_PARENTS = frozenset(name.split(b"|")[0] for name in BUILTIN_READONLY if b"|" in name)


class CommandTable:
    """Readonly commands by lower-case name; ``parents`` have readonly subcommands."""

    __slots__ = ("blocking", "nonwrites", "parents", "readonly", "source")

    def __init__(
        self,
        readonly: Iterable[bytes] = BUILTIN_READONLY,
        blocking: Iterable[bytes] = (),
        source: str = "builtin",
        nonwrites: Iterable[bytes] = (),
    ) -> None:
        self.readonly = frozenset(readonly) - SERVER_LOCAL
        self.parents = frozenset(name.split(b"|")[0] for name in self.readonly if b"|" in name)
        self.blocking = frozenset(blocking)
        self.source = source
        # known commands that are neither readonly nor writes (PING, INFO, CLIENT, CONFIG, ...)
        self.nonwrites = frozenset(nonwrites) | _NOT_WRITES | SERVER_LOCAL

    def is_write(self, name: bytes) -> bool:
        """Whether a command that is not readonly may change data (unknown ones may)."""
        return name not in self.nonwrites

    def is_readonly(self, name: bytes, args: list[bytes]) -> bool:
        """Whether the command (lower-case ``name``, full ``args``) may go to a replica."""
        if name in self.parents:
            if len(args) < 2:
                return False
            return name + b"|" + args[1].lower() in self.readonly
        return name in self.readonly

    def __len__(self) -> int:
        return len(self.readonly)

    @classmethod
    def from_command_reply(cls, reply: Any) -> CommandTable:
        """Build from a decoded RESP2 ``COMMAND`` reply (a list of command entries)."""
        if not isinstance(reply, list) or not reply:
            raise ValueError("COMMAND returned no commands")
        readonly: set[bytes] = set()
        blocking: set[bytes] = set()
        nonwrites: set[bytes] = set()
        writing: set[bytes] = set()

        def visit(entry: Any) -> None:
            if not isinstance(entry, list) or len(entry) < 3:
                return
            name = _bytes(entry[0]).lower()
            flags = {_bytes(flag).lower() for flag in entry[2] if isinstance(flag, bytes | str)}
            if b"readonly" in flags and b"write" not in flags:
                readonly.add(name)
            elif b"write" not in flags and b"may_replicate" not in flags:
                nonwrites.add(name)
            elif b"|" in name:  # a container with a writing subcommand counts as a write
                writing.add(name.split(b"|")[0])
            if b"blocking" in flags:
                blocking.add(name)
            if len(entry) >= 10 and isinstance(entry[9], list):
                for sub in entry[9]:
                    visit(sub)

        for entry in reply:
            visit(entry)
        if not readonly:
            raise ValueError("COMMAND reported no readonly command")
        return cls(readonly, blocking, source="master", nonwrites=nonwrites - writing)


def _bytes(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    return str(value).encode()


assert _BUILTIN_PARENTS  # object, memory, xinfo
