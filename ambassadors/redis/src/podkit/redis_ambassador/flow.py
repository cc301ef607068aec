"""Back-pressure: why a client's reading is paused, and when it may resume.

A client's reading pauses for several independent reasons: its transport's write buffer is over
``--max-output-buffer`` (``client``: it reads its replies too slowly), a shared upstream's write
buffer is full (``upstream``), its commands wait for replies they must not overtake (``switch``),
or for the master during a failover (``hold``). :class:`BackPressure` keeps the set of reasons and
pauses the transport on the first, resumes it when the last is gone (unless the session stopped
taking commands). A slow client also pauses the reading of its own upstream connections, so
replies wait in the servers' output buffers rather than in the ambassador's memory.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable

__all__ = ["BackPressure"]


class BackPressure:
    """The pause reasons of one client connection."""

    __slots__ = ("followers", "reasons", "transport")

    def __init__(self, followers: Callable[[], Iterable[asyncio.Transport]]) -> None:
        self.reasons: set[str] = set()
        self.transport: asyncio.Transport | None = None
        self.followers = followers  # the upstream transports a slow client pauses too

    def __bool__(self) -> bool:
        return bool(self.reasons)

    def pause(self, reason: str) -> bool:
        """Add ``reason``; False when it was there already."""
        if reason in self.reasons:
            return False
        if not self.reasons and self.transport is not None:
            self.transport.pause_reading()
        if reason == "client":
            for transport in self.followers():
                transport.pause_reading()
        self.reasons.add(reason)
        return True

    def resume(self, reason: str, may_read: bool) -> None:
        """Drop ``reason``; reading resumes when none is left and ``may_read``."""
        if reason not in self.reasons:
            return
        self.reasons.discard(reason)
        if reason == "client":
            for transport in self.followers():
                transport.resume_reading()
        if not self.reasons and may_read and self.transport is not None:
            self.transport.resume_reading()
