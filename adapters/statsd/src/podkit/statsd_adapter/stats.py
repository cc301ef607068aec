"""Parse counters: what the line parser saw and rejected, by statsd_exporter's reason strings.

The parser only increments plain integers here (cheap on the hot path); the exporter turns them
into statsd_exporter's self-metrics at scrape time:

================================  =====================================================
``lines_received``                ``statsd_exporter_lines_total`` (every line, empty ones too)
``samples_received``              ``statsd_exporter_samples_total``
``tags_received``                 ``statsd_exporter_tags_total``
``tag_errors``                    ``statsd_exporter_tag_errors_total``
``sample_errors[reason]``         ``statsd_exporter_sample_errors_total{reason=...}``
================================  =====================================================

:data:`SAMPLE_ERROR_REASONS` lists every reason the parser can count, so the exporter can
pre-create each labelled series at zero.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "ILLEGAL_EVENT",
    "INVALID_EXTENDED_AGGREGATE_TYPE",
    "INVALID_LABEL_NAME",
    "INVALID_SAMPLE_FACTOR",
    "MALFORMED_COMPONENT",
    "MALFORMED_CONTAINER_ID",
    "MALFORMED_LINE",
    "MALFORMED_VALUE",
    "MIXED_TAGGING_STYLES",
    "NOT_ENOUGH_PARTS_AFTER_COLON",
    "SAMPLE_ERROR_REASONS",
    "ParseStats",
]

MALFORMED_LINE: Final = "malformed_line"
MIXED_TAGGING_STYLES: Final = "mixed_tagging_styles"
NOT_ENOUGH_PARTS_AFTER_COLON: Final = "not_enough_parts_after_colon"
INVALID_EXTENDED_AGGREGATE_TYPE: Final = "invalid_extended_aggregate_type"
MALFORMED_COMPONENT: Final = "malformed_component"
MALFORMED_VALUE: Final = "malformed_value"
INVALID_SAMPLE_FACTOR: Final = "invalid_sample_factor"
MALFORMED_CONTAINER_ID: Final = "malformed_container_id"
ILLEGAL_EVENT: Final = "illegal_event"
INVALID_LABEL_NAME: Final = "invalid_label_name"
"""podkit's: a tag named ``__...`` (reserved by Prometheus); statsd_exporter has no such reason."""

SAMPLE_ERROR_REASONS: Final[tuple[str, ...]] = (
    MALFORMED_LINE,
    MIXED_TAGGING_STYLES,
    NOT_ENOUGH_PARTS_AFTER_COLON,
    INVALID_EXTENDED_AGGREGATE_TYPE,
    MALFORMED_COMPONENT,
    MALFORMED_VALUE,
    INVALID_SAMPLE_FACTOR,
    MALFORMED_CONTAINER_ID,
    ILLEGAL_EVENT,
    INVALID_LABEL_NAME,
)


class ParseStats:
    """Running totals of one parser (or of several parsers sharing one instance)."""

    __slots__ = (
        "lines_received",
        "sample_errors",
        "samples_received",
        "tag_errors",
        "tags_received",
    )

    def __init__(self) -> None:
        self.lines_received = 0
        self.samples_received = 0
        self.tags_received = 0
        self.tag_errors = 0
        self.sample_errors: dict[str, int] = {}

    def add_sample_error(self, reason: str) -> None:
        self.sample_errors[reason] = self.sample_errors.get(reason, 0) + 1

    def snapshot(self) -> dict[str, object]:
        """A plain copy, handy in tests and debug endpoints."""
        return {
            "lines_received": self.lines_received,
            "samples_received": self.samples_received,
            "tags_received": self.tags_received,
            "tag_errors": self.tag_errors,
            "sample_errors": dict(self.sample_errors),
        }

    def __repr__(self) -> str:
        return f"ParseStats({self.snapshot()!r})"
