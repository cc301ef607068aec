"""JMX object names as text: splitting them the way jmx_exporter does, and matching patterns.

:func:`parse_object_name` keeps the key properties in the order the MBean was registered with
(jmx_exporter's ``getKeyPropertyList`` regex, quoted values keep their quotes).
:func:`matches` applies an ``ObjectName`` pattern (``*`` and ``?`` in the domain and in values, a
trailing ``,*`` property-list wildcard) for the backends that filter on this side;
:func:`compile_pattern` checks one (the config uses it to refuse bad patterns up front).
:func:`java_double` prints a float as ``Double.toString`` does (``1.0``, ``1.5E10``).
"""

from __future__ import annotations

import fnmatch
import math
import re
from decimal import Decimal
from functools import lru_cache

__all__ = ["compile_pattern", "java_double", "matches", "parse_object_name"]

_PROPERTY = re.compile(r'([^,=:*?]+)=("(?:[^\\"]|\\\\|\\n|\\"|\\\?|\\\*)*"|[^,=:"]*)')


@lru_cache(maxsize=4096)
def parse_object_name(name: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """``domain:k=v,k2=v2`` -> (domain, ((k, v), (k2, v2))), in the order written."""
    domain, sep, rest = name.partition(":")
    if not sep:
        raise ValueError(f"not an object name: {name!r}")
    props: list[tuple[str, str]] = []
    while rest:
        match = _PROPERTY.match(rest)
        if match is None:
            break
        props.append((match.group(1), match.group(2)))
        rest = rest[match.end() :]
        if rest.startswith(","):
            rest = rest[1:]
    return domain, tuple(props)


def _glob(pattern: str, text: str) -> bool:
    if "*" not in pattern and "?" not in pattern:
        return pattern == text
    return fnmatch.fnmatchcase(text, pattern.replace("[", "[[]"))


@lru_cache(maxsize=1024)
def compile_pattern(pattern: str) -> tuple[str, tuple[tuple[str, str], ...], bool]:
    """A pattern's domain, key properties and trailing ``,*``; ``ValueError`` if malformed."""
    domain, sep, rest = pattern.partition(":")
    if not sep:
        raise ValueError(f"not an object name pattern: {pattern!r}")
    wildcard = False
    parts: list[tuple[str, str]] = []
    for item in (p.strip() for p in rest.split(",")):
        if item == "*":
            wildcard = True
        elif item:
            key, eq, value = item.partition("=")
            if not eq:
                raise ValueError(f"bad key property {item!r} in {pattern!r}")
            parts.append((key, value))
    return domain, tuple(parts), wildcard


def matches(pattern: str, domain: str, properties: tuple[tuple[str, str], ...]) -> bool:
    """Whether the MBean (domain, properties) matches the ``ObjectName`` pattern."""
    p_domain, p_props, wildcard = compile_pattern(pattern)
    if not _glob(p_domain or "*", domain):
        return False
    have = dict(properties)
    for key, value in p_props:
        if key not in have or not _glob(value, have[key]):
            return False
    return wildcard or len(have) == len(p_props)


def java_double(value: float) -> str:
    """``Double.toString(value)``: ``1.0``, ``0.001``, ``1.0E7``, ``1.5E-4``, ``NaN``, ``Infinity``."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    sign = "-" if value < 0 else ""
    tup = Decimal(repr(abs(value))).normalize().as_tuple()
    digits = "".join(map(str, tup.digits))
    exponent = len(digits) + int(tup.exponent) - 1
    if 1e-3 <= abs(value) < 1e7:
        if exponent >= 0:
            whole = digits[: exponent + 1].ljust(exponent + 1, "0")
            frac = digits[exponent + 1 :] or "0"
        else:
            whole = "0"
            frac = "0" * (-exponent - 1) + digits
        return f"{sign}{whole}.{frac}"
    return f"{sign}{digits[0]}.{digits[1:] or '0'}E{exponent}"
