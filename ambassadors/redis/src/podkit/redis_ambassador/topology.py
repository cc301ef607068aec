"""The upstream topology: the master and the replicas, with what the health loop last saw of each.

A :class:`Node` is one upstream server: its address, whether it is in the rotation, its replication
offset and lag, and how much work client sessions have on it. :class:`Topology` holds them, the
command table, and what session consistency compares: :attr:`Topology.required`, the master's
replication offset after the last write the ambassador acknowledged (raised by the write probes
in :mod:`.upstream`), which a replica must have applied before it serves a read. The health loop
(:mod:`.health`) writes the health fields; sessions read them, and raise offsets they observe.
"""

from __future__ import annotations

import asyncio
import itertools

from podkit.core import HostPort
from podkit.redis_ambassador.commands import CommandTable

__all__ = ["Node", "Topology"]


class Node:
    """One upstream server and its last observed health."""

    __slots__ = (
        "addr",
        "healthy",
        "inflight",
        "lag_seconds",
        "offset",
        "reason",
        "role",
        "sessions",
    )

    def __init__(self, addr: HostPort, role: str) -> None:
        self.addr = addr
        self.role = role  # "master" or "replica": what the configuration says it is
        self.healthy = False
        self.reason = "not checked yet"
        self.offset = -1
        self.lag_seconds = 0.0
        self.inflight = 0  # replies owed to sessions
        self.sessions = 0  # sessions bound to it for reads

    def mark_down(self, reason: str) -> None:
        self.healthy = False
        self.reason = reason

    def __repr__(self) -> str:
        state = "up" if self.healthy else f"down ({self.reason})"
        return f"Node({self.role} {self.addr} {state})"


class Topology:
    """The master, the replicas and the command table, shared by every session."""

    def __init__(self, master: HostPort | None, replicas: list[HostPort]) -> None:
        self.master = Node(master or HostPort("", 0), "master")
        if master is None:
            self.master.reason = "not discovered yet"
        self.replicas = [Node(addr, "replica") for addr in replicas]
        self.table = CommandTable()
        self.master_offset = -1  # the latest sample (health loop)
        self.master_replid = ""  # a new one (restart, failover) resets ``required``
        # session consistency: the master offset every read must see (see the module docstring)
        self.required = 0
        self.probes = True  # False once the master refused ROLE: reads then stay on the master
        self.probe_error = ""
        self.generation = 0  # bumped when the set of healthy replicas changes (rebalancing)
        self.master_up = asyncio.Event()  # set while the master is healthy (failover hold)
        self.poke = asyncio.Event()  # ask the health loop for an early round
        self._rr = itertools.count()

    def update(self, master: HostPort, replicas: list[HostPort]) -> bool:
        """Apply a discovered topology; True when the master changed (a failover)."""
        changed = master != self.master.addr
        if changed:
            self.master.mark_down(f"replaced by {master}")
            self.master = Node(master, "master")
            self.master_offset = -1
            self.master_up.clear()
        known = {node.addr: node for node in self.replicas}
        self.replicas = [
            known.pop(addr) if addr in known else Node(addr, "replica") for addr in replicas
        ]
        for gone in known.values():
            gone.mark_down("no longer a replica of the master")
        return changed

    def healthy_replicas(self) -> list[Node]:
        return [node for node in self.replicas if node.healthy]

    def choose(self, choice: str, include_master: bool = False) -> Node | None:
        """A node for a session's reads: a healthy replica (or the master too for ``any``)."""
        nodes = self.healthy_replicas()
        if include_master and self.master.healthy:
            nodes.append(self.master)
        if not nodes:
            return None
        if choice == "least-outstanding":
            return min(nodes, key=lambda node: (node.inflight, node.sessions))
        return nodes[next(self._rr) % len(nodes)]

    def probe_refused(self, reply: bytes) -> None:
        """The master refused the ROLE probe (ACL, renamed): session reads stay on the master."""
        if self.probes:
            self.probes = False
            self.probe_error = reply.decode(errors="replace").strip()
            self.poke.set()  # the health loop logs it
