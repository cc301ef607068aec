"""``bulk:URL``: the Elasticsearch / OpenSearch ``_bulk`` API (NDJSON, optionally gzip).

Each record is a ``create`` action with ``_id`` set to the record's stable id (file identity and
offset) and the JSON document of :meth:`~podkit.log_streamer.formats.Formatter.document`
(``@timestamp`` added), so a record sent twice — after a restart, or a retried batch — is
stored once: the second ``create`` answers ``409``, which counts as delivered. The reply is read
item by item: ``201``/``200``/``409`` are done, ``429`` and ``5xx`` items are sent again (only
they, with backoff), any other item error (a mapping error) is dropped, counted as ``rejected``
and logged with its reason. ``--bulk-index`` may hold strftime codes for daily indices. The URL
is the cluster's base (``http://es:9200``) or ends with ``/_bulk``.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from podkit.log_streamer.outputs.base import OutputError
from podkit.log_streamer.outputs.http import HttpOutput
from podkit.log_streamer.records import Record

__all__ = ["BulkOutput"]

MAX_ROUNDS = 1_000_000


class BulkOutput(HttpOutput):
    """Indexes batches with ``_bulk``; see the module docstring."""

    content_type = "application/x-ndjson"

    @property
    def url(self) -> str:
        target = self.spec.target.rstrip("/")
        return target if target.endswith("/_bulk") else target + "/_bulk"

    def _index(self, stamp: float) -> str:
        pattern = self.context.settings.bulk_index
        if "%" not in pattern:
            return pattern
        return datetime.fromtimestamp(stamp, UTC).strftime(pattern)

    def _body(self, batch: Sequence[Record], now: float) -> bytes:
        lines: list[str] = []
        formatter = self.context.formatter
        for record in batch:
            doc = formatter.document(record, now)
            stamp = record.time if record.time is not None else now
            doc["@timestamp"] = doc.pop("time")
            action = {"create": {"_index": self._index(stamp), "_id": record.id}}
            lines.append(json.dumps(action))
            lines.append(json.dumps(doc, ensure_ascii=False))
        return ("\n".join(lines) + "\n").encode("utf-8", "surrogateescape")

    async def send(self, batch: Sequence[Record]) -> int:
        pending = list(batch)
        dropped = 0
        now = time.time()
        backoff = 0.1
        while pending:
            reply = await self.post(self.url, self._body(pending, now))
            if not 200 <= reply.status < 300:
                return dropped + self.rejected(reply, len(pending))
            try:
                result: dict[str, Any] = json.loads(reply.body)
                items = result["items"]
                if len(items) != len(pending):
                    raise ValueError(f"{len(items)} items for {len(pending)} actions")
            except (ValueError, KeyError, TypeError) as exc:
                raise OutputError(f"{self.name}: unreadable _bulk reply: {exc}") from None
            if not result.get("errors"):
                return dropped
            retry: list[Record] = []
            reasons: dict[str, int] = {}
            for record, item in zip(pending, items, strict=True):
                outcome: dict[str, Any] = next(iter(item.values()), {})
                status = int(outcome.get("status", 500))
                if status < 300 or status == 409:
                    continue
                if status == 429 or status >= 500:
                    retry.append(record)
                    continue
                error = outcome.get("error") or {}
                reason = error.get("type", str(status)) if isinstance(error, dict) else str(error)
                reasons[reason] = reasons.get(reason, 0) + 1
                dropped += 1
            if reasons:
                self.log.error(
                    "bulk store rejected records; dropping them", output=self.name, reasons=reasons
                )
            pending = retry
            if pending:
                self.log.warning(
                    "bulk store asked to retry some records", output=self.name, records=len(pending)
                )
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, max(self.context.settings.retry_max_backoff, 0.1))
        return dropped
