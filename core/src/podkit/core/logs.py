"""Logging: one line per event, JSON off a terminal and text on one, secrets redacted.

:func:`get_logger` returns a :class:`Logger` that takes structured fields as keyword arguments
(``log.info("synced", hash=h, seconds=0.4)``) and carries a :class:`~podkit.core.redact.Redactor`:
message and fields are redacted when the record is made, so whatever handler an embedding app
installs sees no secret, and podkit's formatters redact tracebacks with the same redactor. A
service's loggers carry the service's own redactor (``service.log.child("auth")``).

:func:`configure_logging` installs podkit's handler on the root logger (replacing an earlier podkit
handler). Only the command-line path (:func:`podkit.core.main`) calls it: an embedding app keeps its
own logging configuration.
"""

from __future__ import annotations

import json
import logging
import sys
import time
import traceback
from collections.abc import Mapping
from typing import IO, Any, Literal

from podkit.core.redact import Redactor


def one_line(error: BaseException) -> str:
    """``error`` as one line of text for a log or an error file (its type's name when it says
    nothing)."""
    return " ".join(str(error).split()) or type(error).__name__


LogFormat = Literal["auto", "json", "text"]
LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}
_FIELDS = "podkit_fields"
_REDACTOR = "podkit_redactor"
_SHAPES_ONLY = Redactor()  # never given a value: hides only the shapes of secrets


def _record_redactor(record: logging.LogRecord, default: Redactor) -> tuple[Redactor, bool]:
    """The redactor for ``record``, and whether message and fields are redacted already."""
    own = getattr(record, _REDACTOR, None)
    return (own, True) if isinstance(own, Redactor) else (default, False)


def _trace(record: logging.LogRecord) -> str | None:
    if record.exc_info and record.exc_info[1] is not None:
        return "".join(traceback.format_exception(*record.exc_info))
    return None


def _timestamp(created: float) -> str:
    seconds = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(created))
    return f"{seconds}.{int(created % 1 * 1000):03d}Z"


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, Mapping):
        return {str(key): _jsonable(item) for key, item in value.items()}
    return str(value)


class _PodkitFormatter(logging.Formatter):
    """Redacts records that did not come through a podkit :class:`Logger` with ``redactor``."""

    def __init__(self, redactor: Redactor | None = None) -> None:
        super().__init__()
        self.redactor = redactor or _SHAPES_ONLY

    def parts(self, record: logging.LogRecord) -> tuple[str, dict[str, Any], Redactor]:
        redactor, done = _record_redactor(record, self.redactor)
        fields: dict[str, Any] = getattr(record, _FIELDS, {})
        if done:
            return record.getMessage(), fields, redactor
        return redactor(record.getMessage()), redactor.fields(fields), redactor


class JsonFormatter(_PodkitFormatter):
    """``{"ts": ..., "level": ..., "logger": ..., "msg": ..., <fields>}`` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        msg, fields, redactor = self.parts(record)
        entry: dict[str, Any] = {
            "ts": _timestamp(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": msg,
        }
        for key, value in fields.items():
            entry.setdefault(key, _jsonable(value))
        trace = _trace(record)
        if trace is not None and record.exc_info:
            error = record.exc_info[1]
            entry["error"] = redactor(f"{type(error).__name__}: {error}")
            entry["traceback"] = redactor(trace)
        return json.dumps(entry, ensure_ascii=False)


class TextFormatter(_PodkitFormatter):
    """``2026-01-02T03:04:05.678Z INFO  logger: message key=value`` for people at a terminal."""

    def format(self, record: logging.LogRecord) -> str:
        msg, fields, redactor = self.parts(record)
        tail = "".join(f" {key}={_text_value(value)}" for key, value in fields.items())
        line = f"{_timestamp(record.created)} {record.levelname:<7} {record.name}: {msg}{tail}"
        trace = _trace(record)
        if trace is not None:
            line += "\n" + redactor(trace.rstrip())
        return line


def _text_value(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(_jsonable(value))
    return json.dumps(text) if (" " in text or not text) else text


class _PodkitHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Marks the handler podkit installed, so configuring again replaces it."""


def configure_logging(
    level: str | int = "info",
    fmt: LogFormat = "auto",
    stream: IO[str] | None = None,
    *,
    redactor: Redactor | None = None,
) -> None:
    """Send every log record to ``stream`` (stderr by default) in ``fmt`` at ``level``.

    ``auto`` writes text when the stream is a terminal and JSON otherwise. ``redactor`` (the
    service's, on the command-line path) also covers records from other libraries.
    """
    stream = stream or sys.stderr
    if fmt == "auto":
        fmt = "text" if _isatty(stream) else "json"
    handler = _PodkitHandler(stream)
    handler.setFormatter(TextFormatter(redactor) if fmt == "text" else JsonFormatter(redactor))
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _PodkitHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(LEVELS.get(level, logging.INFO) if isinstance(level, str) else level)
    # aiohttp logs every probe at INFO; that belongs at DEBUG in a sidecar
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)


def _isatty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class Logger:
    """A logger that takes structured fields as keyword arguments, binds context and redacts."""

    def __init__(
        self,
        logger: logging.Logger,
        context: Mapping[str, Any] | None = None,
        redactor: Redactor | None = None,
    ) -> None:
        self._logger = logger
        self._context = dict(context or {})
        self._redactor = redactor or _SHAPES_ONLY

    @property
    def name(self) -> str:
        return self._logger.name

    @property
    def redactor(self) -> Redactor:
        return self._redactor

    def bind(self, **fields: Any) -> Logger:
        """A logger that adds ``fields`` to every line."""
        return Logger(self._logger, {**self._context, **fields}, self._redactor)

    def child(self, suffix: str) -> Logger:
        """The logger ``<name>.<suffix>``, with the same context and redactor."""
        return Logger(self._logger.getChild(suffix), self._context, self._redactor)

    def is_enabled_for(self, level: int) -> bool:
        return self._logger.isEnabledFor(level)

    def log(self, level: int, msg: str, /, *, exc_info: bool = False, **fields: Any) -> None:
        if self._logger.isEnabledFor(level):
            redactor = self._redactor
            self._logger.log(
                level,
                redactor(msg),
                exc_info=exc_info,
                extra={
                    _FIELDS: redactor.fields({**self._context, **fields}),
                    _REDACTOR: redactor,
                },
                stacklevel=3,
            )

    def debug(self, msg: str, /, **fields: Any) -> None:
        self.log(logging.DEBUG, msg, **fields)

    def info(self, msg: str, /, **fields: Any) -> None:
        self.log(logging.INFO, msg, **fields)

    def warning(self, msg: str, /, **fields: Any) -> None:
        self.log(logging.WARNING, msg, **fields)

    def error(self, msg: str, /, **fields: Any) -> None:
        self.log(logging.ERROR, msg, **fields)

    def exception(self, msg: str, /, **fields: Any) -> None:
        self.log(logging.ERROR, msg, exc_info=True, **fields)


def get_logger(name: str, redactor: Redactor | None = None) -> Logger:
    """The structured logger named ``name``; ``redactor`` hides registered secret values too."""
    return Logger(logging.getLogger(name), redactor=redactor)
