"""Capture substitution in mapping ``name`` and ``labels`` values, precompiled at load time.

Two dialects, as in statsd_exporter:

* glob mappings (:class:`GlobTemplate`, ``fsm.TemplateFormatter``): ``$N``/``${N}`` is the N-th
  ``*`` (1-based). A reference is the longest run of ``[a-zA-Z0-9_$]`` after ``$`` (an optional
  ``{``/``}`` around it), so ``$1_foo`` names the capture ``1_foo`` -- which is not a number and
  becomes the empty string; write ``${1}_foo``. Out-of-range numbers also become empty.
* regex mappings (:class:`ExpandTemplate`, Go's ``Regexp.ExpandString``): ``$name``/``${name}``
  with ``name`` a group number or a named group; ``$$`` is a literal ``$``; an unknown group is
  empty; a malformed reference (``$`` not followed by a name) stays literal.

Both compile to a list of literal pieces and capture slots, so formatting is a join.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import cast

__all__ = ["ExpandTemplate", "GlobTemplate"]

_GLOB_REFERENCE = re.compile(r"\$\{?([a-zA-Z0-9_$]+)\}?")
_SLOT = "\x00"


class GlobTemplate:
    """A glob mapping's ``name`` or label value with ``$N`` references to the ``*`` captures.

    Compiled to a ``%``-format string and a C-level item getter, so formatting is one call.
    """

    __slots__ = ("_format", "_getter", "constant")

    def __init__(self, expression: str, capture_count: int) -> None:
        self.constant: str | None = None
        self._format = ""
        self._getter: Callable[[Sequence[str]], tuple[str, ...]] | None = None
        matches = list(_GLOB_REFERENCE.finditer(expression))
        if not matches:
            self.constant = expression
            return
        # statsd_exporter rewrites every occurrence of each reference text in turn; do the same
        # (with a slot marker instead of Sprintf's %s, so a literal '%' stays a '%').
        text = expression
        indexes: list[int] = []
        for match in matches:
            whole, reference = match.group(0), match.group(1)
            number = int(reference) if reference.isdigit() else 0
            if 1 <= number <= capture_count:
                text = text.replace(whole, _SLOT)
                indexes.append(number - 1)
            else:
                text = text.replace(whole, "")
        pieces = text.split(_SLOT)
        if len(pieces) == 1:
            self.constant = pieces[0]
            return
        # Sprintf semantics when counts disagree: a slot without an argument prints nothing
        # (fold it into the literal text); extra arguments are ignored.
        slots = len(pieces) - 1
        used = indexes[:slots]
        literal = [piece.replace("%", "%%") for piece in pieces]
        fmt = literal[0]
        for slot in range(slots):
            fmt += ("%s" if slot < len(used) else "") + literal[slot + 1]
        self._format = fmt
        self._getter = (
            cast("Callable[[Sequence[str]], tuple[str, ...]]", itemgetter(*used))
            if len(used) > 1
            else _single(used[0])
        )

    def format(self, captures: Sequence[str]) -> str:
        if self.constant is not None:
            return self.constant
        assert self._getter is not None
        return self._format % self._getter(captures)


def _single(index: int) -> Callable[[Sequence[str]], tuple[str]]:
    return lambda captures: (captures[index],)


def _extract(template: str) -> tuple[str, int, str] | None:
    """Go's ``regexp.extract``: (name, number or -1, rest) after a ``$``, or None if malformed."""
    if not template:
        return None
    brace = template[0] == "{"
    body = template[1:] if brace else template
    i = 0
    while i < len(body):
        ch = body[i]
        if not (ch.isalpha() or ch.isdecimal() or ch == "_"):
            break
        i += 1
    if i == 0:
        return None
    name = body[:i]
    if brace:
        if i >= len(body) or body[i] != "}":
            return None
        i += 1
    number = -1
    if (
        name.isascii()
        and name.isdigit()
        and len(name) <= 8
        and not (name[0] == "0" and len(name) > 1)
    ):
        number = int(name)
    return name, number, body[i:]


class ExpandTemplate:
    """A regex mapping's ``name`` or label value, expanded from a match like Go's ``Expand``."""

    __slots__ = ("_literals", "_references", "constant")

    def __init__(self, template: str) -> None:
        literals: list[str] = []
        references: list[int | str] = []
        literal: list[str] = []
        rest = template
        while True:
            dollar = rest.find("$")
            if dollar < 0:
                literal.append(rest)
                break
            literal.append(rest[:dollar])
            rest = rest[dollar + 1 :]
            if rest[:1] == "$":
                literal.append("$")
                rest = rest[1:]
                continue
            extracted = _extract(rest)
            if extracted is None:
                literal.append("$")
                continue
            name, number, rest = extracted
            literals.append("".join(literal))
            literal = []
            references.append(number if number >= 0 else name)
        literals.append("".join(literal))
        self._literals = tuple(literals)
        self._references = tuple(references)
        self.constant: str | None = literals[0] if not references else None

    def expand(self, match: re.Match[str]) -> str:
        if self.constant is not None:
            return self.constant
        literals = self._literals
        out = [literals[0]]
        group_count = match.re.groups
        named = match.re.groupindex
        for i, reference in enumerate(self._references):
            value: str | None = None
            if isinstance(reference, int):
                if reference <= group_count:
                    value = match.group(reference)
            elif reference in named:
                value = match.group(reference)
            out.append(value or "")
            out.append(literals[i + 1])
        return "".join(out)
