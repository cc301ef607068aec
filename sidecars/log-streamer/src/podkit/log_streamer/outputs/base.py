"""The contract of an output, and the context every output is built with.

An output's :meth:`Output.send` returns only when the records are acknowledged — written to the
file, accepted by the kernel for stdout and plain syslog, answered ``200 OK`` by a RELP server,
accepted by an HTTP store — and returns how many it had to drop for good (a store rejecting a
record as malformed). Anything worth retrying raises :class:`OutputError`; the
:class:`~podkit.log_streamer.delivery.Channel` retries with backoff and never advances past an
unacknowledged record. An output may keep a small :meth:`Output.state` that is checkpointed in
the same transaction as its positions (the file output's length, so a restart after a kill
removes what was written but not checkpointed: exactly once).
"""

from __future__ import annotations

import ssl
from collections.abc import Sequence
from dataclasses import dataclass

from podkit.core import Logger
from podkit.log_streamer.formats import Formatter
from podkit.log_streamer.outputs.spec import OutputSpec
from podkit.log_streamer.records import Record
from podkit.log_streamer.settings import LogStreamerSettings

__all__ = ["Output", "OutputContext", "OutputError"]


class OutputError(Exception):
    """A send that failed and should be retried (connection refused, 5xx, 429, timeout)."""


@dataclass
class OutputContext:
    """What outputs share: settings, the formatter, a logger."""

    settings: LogStreamerSettings
    formatter: Formatter
    log: Logger

    def client_tls(self) -> ssl.SSLContext:
        """The TLS context of TLS outputs, from the ``--tls-*`` settings."""
        s = self.settings
        context = ssl.create_default_context(cafile=str(s.tls_ca_file) if s.tls_ca_file else None)
        if s.tls_cert_file and s.tls_key_file:
            context.load_cert_chain(str(s.tls_cert_file), str(s.tls_key_file))
        if s.tls_insecure:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context


class Output:
    """Base of every output; subclasses override :meth:`send` and what else they need."""

    linger: float = 0.0
    """How long the channel waits to fill a batch before sending a smaller one."""

    def __init__(self, spec: OutputSpec, context: OutputContext) -> None:
        self.spec = spec
        self.name = spec.name
        self.context = context
        self.log = context.log

    async def open(self, state: str | None) -> None:
        """Prepare to send; ``state`` is what :meth:`state` returned at the last checkpoint."""

    async def send(self, batch: Sequence[Record]) -> int:
        """Deliver ``batch``; return how many records were dropped for good."""
        raise NotImplementedError

    def state(self) -> str | None:
        """A small state checkpointed with this output's positions."""
        return None

    def reachable(self) -> bool | str:
        """For ``/readyz``: ``True`` or why not."""
        return True

    async def close(self) -> None:
        """Release connections and files."""
