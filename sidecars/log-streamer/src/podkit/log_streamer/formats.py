"""A record as one line of output: ``raw`` (the bytes as read) or ``json`` (with its metadata).

Shared by the stdout and file outputs. JSON lines carry ``time`` (the record's own time when
parsed, else when it was read, RFC 3339 UTC), ``message`` (invalid UTF-8 kept as ``\\xNN``),
``path``, ``id`` (file identity and offset: stable across restarts), the pod's Downward API
fields, ``labels`` and the parsed ``fields``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from podkit.log_streamer.metadata import Metadata
from podkit.log_streamer.parsers import RecordParser
from podkit.log_streamer.records import Record

__all__ = ["Formatter", "rfc3339"]


def rfc3339(epoch: float) -> str:
    """``2024-05-01T10:00:00.123456Z``."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Formatter:
    """Renders batches of records; one instance is shared by the outputs of a streamer."""

    def __init__(self, parser: RecordParser, metadata: Metadata) -> None:
        self.parser = parser
        self.metadata = metadata

    def document(self, record: Record, now: float | None = None) -> dict[str, Any]:
        """The record with its metadata as a JSON-able mapping."""
        self.parser.prepare(record)
        doc: dict[str, Any] = {
            "time": rfc3339(record.time if record.time is not None else (now or time.time())),
            "message": record.text(),
            "path": record.path,
            "id": record.id,
        }
        doc.update(self.metadata.pod)
        if self.metadata.labels:
            doc["labels"] = self.metadata.labels
        if record.fields is not None:
            doc["fields"] = record.fields
        return doc

    def lines(self, batch: Sequence[Record], fmt: str) -> bytes:
        """``batch`` as newline-terminated lines; never splits or interleaves records."""
        if not batch:
            return b""
        if fmt == "raw":
            return b"\n".join([r.data for r in batch]) + b"\n"
        now = time.time()
        dumps = json.dumps
        return "".join(
            [dumps(self.document(r, now), ensure_ascii=False) + "\n" for r in batch]
        ).encode("utf-8", "surrogateescape")
