"""Go ``time.Duration`` text: parsing (``time.ParseDuration``) and printing (``Duration.String``).

Flags (``--period=10s``), env vars and config files (statsd_exporter's ``ttl: 1m30s``) write
durations the Go way, and podkit prints them back the Go way (``5m0s``). Durations are whole
nanoseconds here, exactly as in Go (overflow and all); :mod:`podkit.core.values` hands them to the
rest of podkit as float seconds.
"""

from __future__ import annotations

import re

__all__ = ["format_go_duration", "parse_go_duration"]

_NS_PER_UNIT = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,  # U+00B5 micro sign
    "μs": 1_000,  # U+03BC greek mu
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60 * 1_000_000_000,
    "h": 3600 * 1_000_000_000,
}
_COMPONENT = re.compile(r"([0-9]*)(?:\.([0-9]*))?([a-zµμ]*)")
_MAX_NS = (1 << 63) - 1


def parse_go_duration(text: str) -> int:
    """Parse a Go duration string into nanoseconds; raise ``ValueError`` with Go's reason."""
    s = text
    neg = False
    if s[:1] in ("+", "-"):
        neg = s[0] == "-"
        s = s[1:]
    if s == "0":
        return 0
    if not s:
        raise ValueError(f"invalid duration {text!r}")
    total = 0
    pos = 0
    while pos < len(s):
        m = _COMPONENT.match(s, pos)
        if m is None or m.end() == pos:
            raise ValueError(f"invalid duration {text!r}")
        whole, frac, unit = m.group(1), m.group(2), m.group(3)
        if not whole and not frac:
            raise ValueError(f"invalid duration {text!r}")
        if not unit:
            raise ValueError(f"missing unit in duration {text!r}")
        scale = _NS_PER_UNIT.get(unit)
        if scale is None:
            raise ValueError(f"unknown unit {unit!r} in duration {text!r}")
        ns = int(whole or "0") * scale
        if frac:
            ns += int(frac) * scale // (10 ** len(frac))
        total += ns
        if total > _MAX_NS + (1 if neg else 0):
            raise ValueError(f"invalid duration {text!r}: out of range")
        pos = m.end()
    return -total if neg else total


def _fmt_frac(value: int, digits: int) -> str:
    """``value`` / 10**digits printed like Go: no trailing zeros, no dot if whole."""
    whole, frac = divmod(value, 10**digits)
    if frac == 0:
        return str(whole)
    return f"{whole}.{frac:0{digits}d}".rstrip("0")


def format_go_duration(ns: int) -> str:
    """Print nanoseconds the way Go's ``time.Duration.String`` does (``1m2s``, ``5m0s``, ``1.5ms``)."""
    if ns == 0:
        return "0s"
    sign = "-" if ns < 0 else ""
    u = abs(ns)
    if u < 1_000_000_000:
        if u < 1_000:
            return f"{sign}{u}ns"
        if u < 1_000_000:
            return f"{sign}{_fmt_frac(u, 3)}µs"
        return f"{sign}{_fmt_frac(u, 6)}ms"
    hours, rem = divmod(u, 3600 * 1_000_000_000)
    minutes, rem = divmod(rem, 60 * 1_000_000_000)
    seconds = _fmt_frac(rem, 9) + "s"
    if hours:
        return f"{sign}{hours}h{minutes}m{seconds}"
    if minutes:
        return f"{sign}{minutes}m{seconds}"
    return f"{sign}{seconds}"
