"""Logging: one line per event, JSON off a terminal and text on one, secrets redacted.

:func:`configure_logging` installs one handler on the root logger (replacing any earlier podkit
handler); :func:`get_logger` returns a :class:`Logger` that takes structured fields as keyword
arguments (``log.info("synced", hash=h, seconds=0.4)``). Every formatted line, fields and
tracebacks included, passes through :data:`podkit.core.redact.REDACTOR`.
"""

from __future__ import annotations

import json
import logging
import sys
import time
import traceback
from collections.abc import Mapping
from typing import IO, Any, Literal

from podkit.core.redact import REDACTOR


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


class JsonFormatter(logging.Formatter):
    """``{"ts": ..., "level": ..., "logger": ..., "msg": ..., <fields>}`` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": _timestamp(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": REDACTOR(record.getMessage()),
        }
        for key, value in REDACTOR.fields(getattr(record, _FIELDS, {})).items():
            entry.setdefault(key, _jsonable(value))
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            entry["error"] = REDACTOR(f"{type(error).__name__}: {error}")
            entry["traceback"] = REDACTOR("".join(traceback.format_exception(*record.exc_info)))
        return json.dumps(entry, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """``2026-01-02T03:04:05.678Z INFO  logger: message key=value`` for people at a terminal."""

    def format(self, record: logging.LogRecord) -> str:
        fields = REDACTOR.fields(getattr(record, _FIELDS, {}))
        tail = "".join(f" {key}={_text_value(value)}" for key, value in fields.items())
        line = (
            f"{_timestamp(record.created)} {record.levelname:<7} {record.name}: "
            f"{REDACTOR(record.getMessage())}{tail}"
        )
        if record.exc_info and record.exc_info[1] is not None:
            trace = "".join(traceback.format_exception(*record.exc_info)).rstrip()
            line += "\n" + REDACTOR(trace)
        return line


def _text_value(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(_jsonable(value))
    return json.dumps(text) if (" " in text or not text) else text


class _PodkitHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Marks the handler podkit installed, so configuring again replaces it."""


def configure_logging(
    level: str | int = "info", fmt: LogFormat = "auto", stream: IO[str] | None = None
) -> None:
    """Send every log record to ``stream`` (stderr by default) in ``fmt`` at ``level``.

    ``auto`` writes text when the stream is a terminal and JSON otherwise.
    """
    stream = stream or sys.stderr
    if fmt == "auto":
        fmt = "text" if _isatty(stream) else "json"
    handler = _PodkitHandler(stream)
    handler.setFormatter(TextFormatter() if fmt == "text" else JsonFormatter())
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
    """A logger that takes structured fields as keyword arguments and can bind context."""

    def __init__(self, logger: logging.Logger, context: Mapping[str, Any] | None = None) -> None:
        self._logger = logger
        self._context = dict(context or {})

    @property
    def name(self) -> str:
        return self._logger.name

    def bind(self, **fields: Any) -> Logger:
        """A logger that adds ``fields`` to every line."""
        return Logger(self._logger, {**self._context, **fields})

    def is_enabled_for(self, level: int) -> bool:
        return self._logger.isEnabledFor(level)

    def log(self, level: int, msg: str, /, *, exc_info: bool = False, **fields: Any) -> None:
        if self._logger.isEnabledFor(level):
            self._logger.log(
                level,
                msg,
                exc_info=exc_info,
                extra={_FIELDS: {**self._context, **fields}},
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


def get_logger(name: str) -> Logger:
    """The structured logger named ``name``."""
    return Logger(logging.getLogger(name))
