"""Compile a ``match_type: regex`` pattern written for Go's RE2 into a Python ``re`` pattern.

statsd_exporter compiles mapping regexes with Go's ``regexp`` (RE2 syntax, unanchored search,
leftmost-first submatches, ASCII ``\\d``/``\\w``/``\\s``). Python's ``re`` agrees on the common
subset; this module bridges the differences that show up in real mapping files and refuses,
with a clear reason, what RE2 itself would refuse (so a config valid here is valid there):

* translated: ``(?<name>...)`` -> ``(?P<name>...)``, ``\\z`` -> ``\\Z``, ``\\Q...\\E`` literals,
  ``\\x{10FFFF}`` code points, ``[[:alpha:]]``-style ASCII classes; always compiled ``re.ASCII``;
* refused (not RE2): lookahead/lookbehind, backreferences ``\\1``, atomic groups, possessive
  quantifiers, Python's ``\\Z``; refused (RE2 only): ``\\p{...}`` Unicode classes, ``\\C``.
"""

from __future__ import annotations

import re

__all__ = ["GoRegexError", "compile_go_regex"]

_POSIX_CLASSES = {
    "alnum": "0-9A-Za-z",
    "alpha": "A-Za-z",
    "ascii": "\\x00-\\x7f",
    "blank": "\\t ",
    "cntrl": "\\x00-\\x1f\\x7f",
    "digit": "0-9",
    "graph": "!-~",
    "lower": "a-z",
    "print": " -~",
    "punct": "!-/:-@\\[-`{-~",
    "space": "\\t\\n\\v\\f\\r ",
    "upper": "A-Z",
    "word": "0-9A-Za-z_",
    "xdigit": "0-9A-Fa-f",
}
_QUANTIFIER_END = frozenset("*+?}")


class GoRegexError(ValueError):
    """The pattern is not valid RE2, or uses RE2 syntax Python cannot express."""


def _translate(pattern: str) -> str:
    out: list[str] = []
    i = 0
    n = len(pattern)
    in_class = False
    prev_quantifier = False
    while i < n:
        c = pattern[i]
        if c == "\\":
            if i + 1 >= n:
                raise GoRegexError("trailing backslash at end of expression")
            e = pattern[i + 1]
            if e == "Q":
                end = pattern.find("\\E", i + 2)
                literal = pattern[i + 2 :] if end < 0 else pattern[i + 2 : end]
                out.append(re.escape(literal) if not in_class else _escape_in_class(literal))
                i = n if end < 0 else end + 2
                prev_quantifier = False
                continue
            if e == "z" and not in_class:
                out.append("\\Z")
            elif e == "x" and i + 2 < n and pattern[i + 2] == "{":
                end = pattern.find("}", i + 3)
                if end < 0:
                    raise GoRegexError(f"invalid escape sequence: {pattern[i:]!r}")
                digits = pattern[i + 3 : end]
                try:
                    code = int(digits, 16)
                except ValueError:
                    raise GoRegexError(
                        f"invalid escape sequence: {pattern[i : end + 1]!r}"
                    ) from None
                if code > 0x10FFFF:
                    raise GoRegexError(f"invalid escape sequence: {pattern[i : end + 1]!r}")
                out.append(f"\\U{code:08x}")
                i = end + 1
                prev_quantifier = False
                continue
            elif e in "pP":
                raise GoRegexError(
                    f"Unicode class escape \\{e} is not supported here; use an explicit character class"
                )
            elif e == "C":
                raise GoRegexError("\\C (any byte) is not supported")
            elif e in "123456789":
                raise GoRegexError(f"invalid escape sequence: \\{e} (RE2 has no backreferences)")
            elif e in "ZuUNgG" or (e == "A" and in_class):
                raise GoRegexError(f"invalid escape sequence: \\{e}")
            else:
                out.append(pattern[i : i + 2])
            i += 2
            prev_quantifier = False
            continue
        if in_class:
            if c == "[" and pattern.startswith("[:", i):
                end = pattern.find(":]", i + 2)
                if end > 0:
                    name = pattern[i + 2 : end]
                    negated = name.startswith("^")
                    ranges = _POSIX_CLASSES.get(name.lstrip("^"))
                    if ranges is None:
                        raise GoRegexError(f"invalid character class range: [:{name}:]")
                    if negated:
                        raise GoRegexError(f"negated POSIX class [:{name}:] is not supported")
                    out.append(ranges)
                    i = end + 2
                    continue
            if c == "]":
                in_class = False
            elif c == "[":
                out.append("\\[")
                i += 1
                continue
            out.append(c)
            i += 1
            continue
        if c == "[":
            in_class = True
            out.append(c)
            i += 1
            # a leading ']' (or '^]') is a literal in both dialects
            if pattern.startswith("^", i):
                out.append("^")
                i += 1
            if pattern.startswith("]", i):
                out.append("\\]")
                i += 1
            prev_quantifier = False
            continue
        if c == "(" and pattern.startswith("(?", i):
            rest = pattern[i + 2 : i + 4]
            if rest[:1] in ("=", "!") or rest in ("<=", "<!"):
                raise GoRegexError("lookahead/lookbehind assertions are not supported by RE2")
            if rest[:1] == ">":
                raise GoRegexError("atomic groups are not supported by RE2")
            if rest[:1] == "(":
                raise GoRegexError("conditional groups are not supported by RE2")
            if rest[:1] == "<":
                out.append("(?P<")
                i += 3
                prev_quantifier = False
                continue
        if c == "+" and prev_quantifier:
            raise GoRegexError(
                "invalid nested repetition operator (possessive quantifiers are not RE2)"
            )
        prev_quantifier = c in _QUANTIFIER_END
        out.append(c)
        i += 1
    return "".join(out)


def _escape_in_class(literal: str) -> str:
    return "".join("\\" + ch if ch in "\\]^-[" else ch for ch in literal)


def compile_go_regex(pattern: str) -> re.Pattern[str]:
    """Compile RE2 ``pattern`` for unanchored ``search``; raise :class:`GoRegexError` if invalid."""
    translated = _translate(pattern)
    try:
        return re.compile(translated, re.ASCII)
    except re.error as exc:
        raise GoRegexError(str(exc)) from None
