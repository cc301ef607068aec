"""Record -> fields: JSON lines, a regex with named groups, or nothing; and the record's time.

A parser never fails a record: a line that is not JSON, or that the regex does not match, keeps
its message and gets no fields (counted as ``parse_failed``). With ``time_key`` the named field is
read as the record's own timestamp (RFC 3339 text or epoch seconds/milliseconds); otherwise the
time the line was read is used.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from podkit.log_streamer.records import Record

__all__ = ["RecordParser", "parse_time"]


def parse_time(value: Any) -> float | None:
    """Epoch seconds from an RFC 3339 string or a number (ms when it is implausibly large)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        seconds = float(value)
        return seconds / 1000.0 if seconds > 1e11 else seconds
    if isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            return datetime.fromisoformat(text).timestamp()
        except ValueError:
            try:
                return parse_time(float(text))
            except ValueError:
                return None
    return None


class RecordParser:
    """Fills :attr:`Record.fields` and :attr:`Record.time` once, on first need."""

    def __init__(self, kind: str = "none", regex: str | None = None, time_key: str | None = None):
        self.kind = kind
        self.regex = re.compile(regex) if regex else None
        self.time_key = time_key
        self.failed = 0

    def prepare(self, record: Record) -> None:
        if record.parsed:
            return
        record.parsed = True
        if self.kind == "none":
            return
        fields: dict[str, Any] | None = None
        if self.kind == "json":
            try:
                value = json.loads(record.data)
            except (ValueError, UnicodeDecodeError):
                value = None
            fields = value if isinstance(value, dict) else None
        elif self.regex is not None:
            match = self.regex.search(record.text())
            fields = (
                {k: v for k, v in match.groupdict().items() if v is not None} if match else None
            )
        if fields is None:
            self.failed += 1
            return
        record.fields = fields
        if self.time_key is not None and self.time_key in fields:
            record.time = parse_time(fields[self.time_key])
