"""``loki:URL``: Grafana Loki's push API (``POST /loki/api/v1/push``, JSON, optionally gzip).

A batch becomes one request: records grouped into streams by their labels — the ``--label``
values, the pod's ``namespace``, ``pod``, ``node`` and ``container`` (Downward API), and
``filename`` (the followed path) — each entry ``[<unix ns as a string>, <line>]`` in file order.
The entry's time is the record's own (``--parser`` with ``--time-key``) or the time it was read.
Loki answers ``204``; ``429``/``5xx`` are retried; another ``4xx`` (a malformed or too old
batch) is dropped and counted. ``--loki-tenant`` sets ``X-Scope-OrgID``. Loki drops an entry
identical to one it has (same stream, time and line), so a record re-sent after a restart is
de-duplicated when it carries its own timestamp. The URL is the server's base
(``http://loki:3100``) or the full push path.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence

from podkit.log_streamer.outputs.http import HttpOutput
from podkit.log_streamer.records import Record

__all__ = ["LokiOutput", "push_body"]

PUSH_PATH = "/loki/api/v1/push"


def push_body(streams: dict[tuple[tuple[str, str], ...], list[list[str]]]) -> bytes:
    return json.dumps(
        {
            "streams": [
                {"stream": dict(labels), "values": values} for labels, values in streams.items()
            ]
        },
        ensure_ascii=False,
    ).encode("utf-8", "surrogateescape")


class LokiOutput(HttpOutput):
    """Pushes batches to Loki."""

    @property
    def url(self) -> str:
        target = self.spec.target.rstrip("/")
        return target if target.endswith(PUSH_PATH) else target + PUSH_PATH

    def _labels(self, record: Record) -> tuple[tuple[str, str], ...]:
        meta = self.context.formatter.metadata
        labels = dict(meta.labels)
        labels.update(meta.pod)
        labels["filename"] = record.path
        return tuple(sorted(labels.items()))

    async def send(self, batch: Sequence[Record]) -> int:
        now = time.time()
        parser = self.context.formatter.parser
        streams: dict[tuple[tuple[str, str], ...], list[list[str]]] = {}
        for record in batch:
            parser.prepare(record)
            stamp = record.time if record.time is not None else now
            entry = [str(round(stamp * 1e6) * 1000), record.text()]
            streams.setdefault(self._labels(record), []).append(entry)
        headers = {}
        tenant = self.context.settings.loki_tenant
        if tenant:
            headers["X-Scope-OrgID"] = tenant
        reply = await self.post(self.url, push_body(streams), headers)
        if 200 <= reply.status < 300:
            return 0
        return self.rejected(reply, len(batch))
