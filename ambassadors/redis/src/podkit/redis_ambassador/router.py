"""Routing rules: which commands the session handles itself, and which node serves a client's reads.

Ordinary commands are routed by the command table: readonly ones may go to the session's read
node, everything else to the master. The commands in :data:`SPECIAL` change per-connection state
(SELECT, HELLO, AUTH, CLIENT SETNAME, RESET), pin the connection to the master (MULTI, WATCH) or
turn it into a pass-through (SUBSCRIBE, MONITOR), are refused (SYNC, PSYNC, REPLCONF) or pin reads
to the master (CONFIG SET); :mod:`.session` handles them on a slow path.
"""

from __future__ import annotations

from podkit.redis_ambassador.topology import Node, Topology

__all__ = ["PASSTHROUGH", "REFUSED", "SPECIAL", "ReadRouter"]

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
