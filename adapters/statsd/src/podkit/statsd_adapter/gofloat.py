"""Number parsing with Go's ``strconv.ParseFloat(s, 64)`` rules, as statsd_exporter applies them.

Python's ``float()`` accepts things Go rejects (surrounding whitespace, non-ASCII digits such
as Arabic-Indic ones, ``"+nan"``) and returns ``inf`` where Go reports an overflow; Go accepts
hexadecimal floats (``0x1.8p3``) that ``float()`` does not. :func:`parse_float` gives Go's answer; the line
parser inlines the fast path (a string of ``[0-9.eE+-]`` only, where both agree) and falls back to
:func:`parse_float` for anything else.

Failures raise :class:`FloatSyntaxError` (Go returns 0 with ``ErrSyntax``) or
:class:`FloatRangeError` (Go returns +-Inf with ``ErrRange``); both carry the value Go returns
alongside the error in ``go_value``, which statsd_exporter goes on to use for sample rates.
"""

from __future__ import annotations

import math
import re

__all__ = [
    "NUMERIC_CHARS",
    "FloatRangeError",
    "FloatSyntaxError",
    "parse_float",
]

#: Strings made only of these characters parse the same in Go and Python (apart from overflow).
NUMERIC_CHARS = "0123456789.eE+-"

_INF = math.inf

_HEX_FLOAT = re.compile(
    r"(?P<sign>[+-]?)0[xX](?P<int>[0-9a-fA-F_]*)(?:\.(?P<frac>[0-9a-fA-F_]*))?"
    r"[pP](?P<exp>[+-]?[0-9_]+)"
)


class FloatSyntaxError(ValueError):
    """Not a number in Go's syntax; ``go_value`` is 0.0 as in Go."""

    go_value = 0.0


class FloatRangeError(ValueError):
    """A number too large for a float64; ``go_value`` is +-inf as in Go."""

    def __init__(self, text: str, go_value: float) -> None:
        super().__init__(f"value out of range: {text!r}")
        self.go_value = go_value


def _underscore_ok(s: str) -> bool:
    """Go's ``strconv.underscoreOK``: underscores only between digits (or after a base prefix)."""
    saw = "^"
    if s[:1] in ("+", "-"):
        s = s[1:]
    i = 0
    hexa = False
    if len(s) >= 2 and s[0] == "0" and s[1] in "bBoOxX":
        i = 2
        saw = "0"
        hexa = s[1] in "xX"
    while i < len(s):
        c = s[i]
        if "0" <= c <= "9" or (hexa and c in "abcdefABCDEF"):
            saw = "0"
        elif c == "_":
            if saw != "0":
                return False
            saw = "_"
        else:
            if saw == "_":
                return False
            saw = "!"
        i += 1
    return saw != "_"


def _special(s: str) -> float | None:
    """Go's ``special``: ``[+-]inf``, ``[+-]infinity`` and unsigned ``nan``, any case."""
    body = s
    sign = 1.0
    if s[:1] in ("+", "-"):
        body = s[1:]
        if s[0] == "-":
            sign = -1.0
        low = body.lower()
        if low in ("inf", "infinity"):
            return sign * _INF
        return None
    low = body.lower()
    if low in ("inf", "infinity"):
        return _INF
    if low == "nan":
        return math.nan
    return None


def _parse_hex(s: str) -> float:
    m = _HEX_FLOAT.fullmatch(s)
    if m is None or not _underscore_ok(s):
        raise FloatSyntaxError(f"invalid syntax: {s!r}")
    int_part = m.group("int").replace("_", "")
    frac = (m.group("frac") or "").replace("_", "")
    if not int_part and not frac:
        raise FloatSyntaxError(f"invalid syntax: {s!r}")
    text = f"{m.group('sign')}0x{int_part or '0'}.{frac or '0'}p{m.group('exp').replace('_', '')}"
    try:
        return float.fromhex(text)
    except OverflowError:
        raise FloatRangeError(s, -_INF if s.startswith("-") else _INF) from None


def parse_float(s: str) -> float:
    """Parse ``s`` the way Go's ``strconv.ParseFloat(s, 64)`` does, or raise ``ValueError``."""
    if not s or s.lstrip(NUMERIC_CHARS):  # not plain ``[0-9.eE+-]`` text: Go's rules first
        if not s or not s.isascii() or s[0] <= " " or s[-1] <= " ":
            raise FloatSyntaxError(f"invalid syntax: {s!r}")
        special = _special(s)
        if special is not None:
            return special
        unsigned = s[1:] if s[0] in "+-" else s
        if unsigned[:2] in ("0x", "0X") and len(unsigned) > 2:
            return _parse_hex(s)
        low = unsigned.lower()
        if "inf" in low or "nan" in low:
            raise FloatSyntaxError(f"invalid syntax: {s!r}")
    try:
        value = float(s)
    except ValueError:
        raise FloatSyntaxError(f"invalid syntax: {s!r}") from None
    if value == _INF or value == -_INF:
        raise FloatRangeError(s, value)
    return value
