"""Value parsers shared by every component's settings.

Each parser turns one string (a flag value, an env var, a scalar from the YAML file) into a typed
value or raises :class:`ValueError`, and carries an ``expected`` phrase that error messages use to say
what a good value looks like. Durations (Go syntax), sizes, booleans, host:port pairs and URLs are
parsed here and nowhere else.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from urllib.parse import urlsplit

from podkit.core.durations import format_go_duration, parse_go_duration

T = TypeVar("T")


@dataclass(frozen=True)
class Parser(Generic[T]):
    """A named conversion from text (or an already typed YAML value) to ``T``."""

    convert: Callable[[Any], T]
    expected: str
    show: Callable[[Any], str] | None = None
    """How to print a value back (Go-style durations); ``None`` means ``str``."""
    metavar: str | None = None
    """What ``--help`` shows as the flag's argument (``DURATION``); ``None``: the setting's name."""

    def __call__(self, raw: Any) -> T:
        return self.convert(raw)

    def text(self, value: Any) -> str:
        return self.show(value) if self.show is not None else str(value)


# --- durations ---------------------------------------------------------------------------------


def parse_duration(raw: Any) -> float:
    """Parse a Go duration (``500ms``, ``10s``, ``1m30s``, ``-1.5h``, ``0``) into seconds.

    A plain number from a YAML file is taken as seconds; text needs units, as in Go.
    """
    if isinstance(raw, bool):
        raise ValueError("a boolean is not a duration")
    if isinstance(raw, int | float):
        return float(raw)
    return parse_go_duration(str(raw).strip()) / 1e9


def format_duration(seconds: float) -> str:
    """Format seconds the way Go prints a duration (``1m30s``, ``500ms``, ``0s``)."""
    return format_go_duration(round(seconds * 1e9))


DURATION: Parser[float] = Parser(
    parse_duration, "a duration such as 500ms, 10s or 1m30s", format_duration, "DURATION"
)


def non_negative(parser: Parser[float]) -> Parser[float]:
    """Wrap a numeric parser so that negative values are refused."""

    def convert(raw: Any) -> float:
        value = parser(raw)
        if value < 0:
            raise ValueError("must not be negative")
        return value

    return Parser(convert, f"{parser.expected}, not negative", parser.show, parser.metavar)


# --- sizes -------------------------------------------------------------------------------------

_SIZE_UNITS = {
    "": 1,
    "b": 1,
    "k": 1000,
    "kb": 1000,
    "m": 1000**2,
    "mb": 1000**2,
    "g": 1000**3,
    "gb": 1000**3,
    "t": 1000**4,
    "tb": 1000**4,
    "ki": 1024,
    "kib": 1024,
    "mi": 1024**2,
    "mib": 1024**2,
    "gi": 1024**3,
    "gib": 1024**3,
    "ti": 1024**4,
    "tib": 1024**4,
}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$")


def parse_size(raw: Any) -> int:
    """Parse a byte size: ``4096``, ``64KB`` (1000s), ``64KiB`` / ``64Ki`` (1024s), ``1.5GiB``."""
    if isinstance(raw, bool):
        raise ValueError("a boolean is not a size")
    if isinstance(raw, int):
        if raw < 0:
            raise ValueError("a size cannot be negative")
        return raw
    match = _SIZE.match(str(raw))
    if match is None:
        raise ValueError(f"cannot parse {raw!r} as a size")
    unit = match.group(2).lower()
    if unit not in _SIZE_UNITS:
        raise ValueError(f"unknown size unit {match.group(2)!r}")
    value = float(match.group(1)) * _SIZE_UNITS[unit]
    if not value.is_integer():
        raise ValueError(f"{raw!r} is not a whole number of bytes")
    return int(value)


SIZE: Parser[int] = Parser(parse_size, "a size such as 4096, 64KB or 16MiB", metavar="SIZE")


# --- scalars -----------------------------------------------------------------------------------

_TRUE = frozenset({"1", "t", "true", "yes", "y", "on"})
_FALSE = frozenset({"0", "f", "false", "no", "n", "off"})


def parse_bool(raw: Any) -> bool:
    """Parse a boolean the way Go's strconv.ParseBool does, plus yes/no and on/off."""
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"cannot parse {raw!r} as a boolean")


BOOL: Parser[bool] = Parser(parse_bool, "a boolean (true or false)", metavar="BOOL")


def parse_int(raw: Any) -> int:
    """Parse a whole number; a YAML float with no fraction is accepted."""
    if isinstance(raw, bool):
        raise ValueError("a boolean is not a number")
    if isinstance(raw, float) and raw.is_integer():
        return int(raw)
    if isinstance(raw, int):
        return raw
    return int(str(raw).strip(), 10)


INT: Parser[int] = Parser(parse_int, "a whole number", metavar="N")


def parse_float(raw: Any) -> float:
    """Parse a finite real number."""
    if isinstance(raw, bool):
        raise ValueError("a boolean is not a number")
    value = float(raw) if isinstance(raw, int | float) else float(str(raw).strip())
    if not math.isfinite(value):
        raise ValueError("must be finite")
    return value


FLOAT: Parser[float] = Parser(parse_float, "a number", metavar="NUMBER")


def parse_str(raw: Any) -> str:
    """Accept any scalar as text; refuse YAML collections."""
    if isinstance(raw, dict | list):
        raise ValueError("expected text, got a collection")
    if isinstance(raw, bool):
        return "true" if raw else "false"
    return str(raw)


STR: Parser[str] = Parser(parse_str, "text")


def choice(*options: str) -> Parser[str]:
    """A parser accepting exactly one of ``options`` (case-insensitive, returned as declared)."""
    lookup = {option.lower(): option for option in options}

    def convert(raw: Any) -> str:
        text = parse_str(raw).strip().lower()
        if text not in lookup:
            raise ValueError(f"{raw!r} is not one of {', '.join(options)}")
        return lookup[text]

    return Parser(convert, "one of " + ", ".join(options), metavar="{" + ",".join(options) + "}")


# --- addresses ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class HostPort:
    """A host and port; an empty host means every interface (as in Go's ``:9125``)."""

    host: str
    port: int

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def bind_host(self) -> str | None:
        """The host to hand to a socket bind: ``None`` (all interfaces) for an empty host."""
        return self.host or None


def parse_host_port(raw: Any, default_port: int | None = None) -> HostPort:
    """Parse ``host:port``, ``[v6]:port``, ``:port``, or ``host`` when a default port is given."""
    text = parse_str(raw).strip()
    if not text:
        raise ValueError("empty address")
    host: str
    port_text: str | None
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise ValueError(f"unclosed '[' in {text!r}")
        host = text[1:end]
        rest = text[end + 1 :]
        if rest and not rest.startswith(":"):
            raise ValueError(f"unexpected {rest!r} after ']'")
        port_text = rest[1:] if rest else None
    elif text.count(":") == 1:
        host, port_text = text.split(":")
    elif ":" in text:
        raise ValueError(f"an IPv6 address needs brackets: [{text}]:PORT")
    else:
        host, port_text = text, None
    if port_text is None or port_text == "":
        if default_port is None:
            raise ValueError(f"missing port in {text!r}")
        port = default_port
    else:
        if not port_text.isdigit():
            raise ValueError(f"port {port_text!r} is not a number")
        port = int(port_text)
    if not 0 <= port <= 65535:
        raise ValueError(f"port {port} is out of range 0-65535")
    return HostPort(host, port)


HOST_PORT: Parser[HostPort] = Parser(
    parse_host_port, "an address HOST:PORT such as 127.0.0.1:8080", metavar="HOST:PORT"
)


def host_port(default_port: int) -> Parser[HostPort]:
    """A host:port parser where the port may be left out."""
    return Parser(
        lambda raw: parse_host_port(raw, default_port),
        f"an address HOST[:PORT] (default port {default_port})",
        metavar="HOST[:PORT]",
    )


def url(*schemes: str) -> Parser[str]:
    """A parser for absolute URLs, optionally restricted to ``schemes``."""

    def convert(raw: Any) -> str:
        text = parse_str(raw).strip()
        parts = urlsplit(text)
        if not parts.scheme:
            raise ValueError(f"{text!r} has no scheme")
        if schemes and parts.scheme.lower() not in schemes:
            raise ValueError(f"scheme {parts.scheme!r} is not one of {', '.join(schemes)}")
        if parts.scheme.lower() in {"http", "https", "ws", "wss"} and not parts.hostname:
            raise ValueError(f"{text!r} has no host")
        try:
            _ = parts.port
        except ValueError as exc:
            raise ValueError(f"bad port in {text!r}") from exc
        return text

    kinds = "/".join(schemes) if schemes else "any scheme"
    return Parser(convert, f"an absolute URL ({kinds})", metavar="URL")


URL: Parser[str] = url()
HTTP_URL: Parser[str] = url("http", "https")


# --- collections -------------------------------------------------------------------------------


def list_of(item: Parser[T], separator: str = ",") -> Parser[list[T]]:
    """A list parser: text is split on ``separator`` (blank items dropped); a YAML list is used as is."""

    def convert(raw: Any) -> list[T]:
        parts: Sequence[Any]
        if isinstance(raw, list | tuple):
            parts = raw
        else:
            text = parse_str(raw)
            parts = [part.strip() for part in text.split(separator)] if text.strip() else []
            parts = [part for part in parts if part]
        return [item(part) for part in parts]

    def show(value: Any) -> str:
        return separator.join(item.text(part) for part in value)

    metavar = f"{item.metavar or 'ITEM'}[{separator}...]"
    return Parser(convert, f"a list of {item.expected}, separated by {separator!r}", show, metavar)


def optional(parser: Parser[T], *, empty: frozenset[str] = frozenset({""})) -> Parser[T | None]:
    """Allow an empty value (which means "off") in front of ``parser``."""

    def convert(raw: Any) -> T | None:
        if raw is None or (isinstance(raw, str) and raw.strip() in empty):
            return None
        return parser(raw)

    return Parser(
        convert, f"{parser.expected}, or empty to turn it off", parser.show, parser.metavar
    )
