"""Glob matching: statsd_exporter's FSM mapper (``pkg/mapper/fsm``), ported rule for rule.

Patterns are dot-separated segments; ``*`` matches exactly one whole segment (never a dot) and is
captured; other segments match literally. All glob patterns go into one trie per metric type
(a pattern without ``match_metric_type`` is added under every type), each state remembering the
shortest and longest number of segments that can still follow it, so a lookup walks the metric's
segments once, preferring the literal transition and keeping ``*`` alternatives on a backtracking
stack.

Which mapping wins, as in statsd_exporter:

* ordering on (``glob_disable_ordering: false``, the default): every path is explored and the
  matching pattern that appears first in the file wins;
* ordering off: the first match found wins, literal segments before ``*`` at every level, with
  backtracking only when :func:`needs_backtracking` says some pattern could otherwise be missed.

Quirks kept for compatibility: a pattern that is a strict prefix of an *earlier* pattern (``a.b``
after ``a.b.c``) never matches, and of two identical patterns the first one's mapping answers with
the second one's priority -- statsd_exporter builds its trie the same way.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Generic, TypeVar

__all__ = ["GlobMatcher", "needs_backtracking"]

T = TypeVar("T")


class _State(Generic[T]):
    __slots__ = ("max_remaining", "min_remaining", "priority", "result", "transitions")

    def __init__(self, remaining: int = 0) -> None:
        self.transitions: dict[str, _State[T]] = {}
        self.min_remaining = remaining
        self.max_remaining = remaining
        self.result: T | None = None
        self.priority = 0


def _glob_regex(pattern: str) -> re.Pattern[str]:
    return re.compile("^" + pattern.replace(".", "\\.").replace("*", "([^.]*)") + "$")


def needs_backtracking(patterns: Sequence[str], ordering_disabled: bool) -> bool:
    """statsd_exporter's ``TestIfNeedBacktracking``: always True while ordering is on."""
    if not ordering_disabled:
        return True
    by_length: dict[int, list[tuple[str, re.Pattern[str]]]] = {}
    for pattern in patterns:
        by_length.setdefault(pattern.count(".") + 1, []).append((pattern, _glob_regex(pattern)))
    for rules in by_length.values():
        if len(rules) == 1:
            continue
        for i1, (r1, re1) in enumerate(rules):
            if "*" not in r1:
                continue
            needed = False
            # r1 = A.B.*.D needs backtracking if another rule shares the prefix before a '*'.
            for index, char in enumerate(r1):
                if char != "*":
                    continue
                prefix = re.compile("^" + r1[:index].replace(".", "\\.").replace("*", "\\*"))
                if any(prefix.search(r2) for i2, (r2, _) in enumerate(rules) if i2 != i1):
                    needed = True
            for i2, (r2, _) in enumerate(rules):
                if i2 != i1 and re1.search(r2):
                    needed = False
            for i2, (_, re2) in enumerate(rules):
                if i2 != i1 and re2.search(r1):
                    needed = False
            if needed:
                return True
    return False


class GlobMatcher(Generic[T]):
    """The FSM: add patterns in file order, then :meth:`finish`, then :meth:`match` many times."""

    __slots__ = ("_backtracking", "_count", "_ordering_disabled", "_patterns", "_roots", "_types")

    def __init__(self, metric_types: Iterable[str], *, ordering_disabled: bool) -> None:
        self._types = tuple(metric_types)
        self._roots: dict[str, _State[T]] = {t: _State() for t in self._types}
        self._ordering_disabled = ordering_disabled
        self._backtracking = True
        self._count = 0
        self._patterns: list[str] = []

    def add(self, pattern: str, metric_type: str | None, result: T) -> int:
        """Add ``pattern`` (for one metric type, or all when None); return its ``*`` count."""
        fields = pattern.split(".")
        last = len(fields) - 1
        roots = (
            [self._roots[t] for t in self._types]
            if metric_type is None
            else [self._roots[metric_type]]
        )
        captures = 0
        finals: list[_State[T]] = []
        for root in roots:
            captures = 0
            state = root
            for i, field in enumerate(fields):
                remaining = last - i
                nxt = state.transitions.get(field)
                if nxt is None:
                    nxt = _State(remaining)
                    state.transitions[field] = nxt
                    if i == last:
                        nxt.result = result
                else:
                    nxt.max_remaining = max(remaining, nxt.max_remaining)
                    nxt.min_remaining = min(remaining, nxt.min_remaining)
                if field == "*":
                    captures += 1
                state = nxt
            finals.append(state)
        for state in finals:
            state.priority = self._count
        self._count += 1
        self._patterns.append(pattern)
        return captures

    def finish(self) -> None:
        """Decide whether lookups must backtrack (call once, after the last :meth:`add`)."""
        self._backtracking = needs_backtracking(self._patterns, self._ordering_disabled)

    def match(self, metric: str, metric_type: str) -> tuple[T, list[str]] | None:
        """The winning mapping's result and the ``*`` captures, or None."""
        current = self._roots.get(metric_type)
        if current is None:
            return None
        fields = metric.split(".")
        count = len(fields)
        last = count - 1
        captures = [""] * count
        capture_index = 0
        backtracking = self._backtracking
        ordering_disabled = self._ordering_disabled
        stack: list[tuple[_State[T], int, int, str]] = []
        final: _State[T] | None = None
        final_captures: list[str] = captures
        resume = False
        state: _State[T] | None = None
        i = 0
        while True:
            while True:
                if not resume:
                    transitions = current.transitions
                    if not transitions:
                        break
                    field = fields[i]
                    left = last - i
                    state = transitions.get(field)
                    if state is None or left > state.max_remaining or left < state.min_remaining:
                        state = transitions.get("*")
                        if (
                            state is None
                            or left > state.max_remaining
                            or left < state.min_remaining
                        ):
                            break
                        captures[capture_index] = field
                        capture_index += 1
                    elif backtracking:
                        alternative = transitions.get("*")
                        if (
                            alternative is not None
                            and alternative.min_remaining <= left <= alternative.max_remaining
                        ):
                            stack.append((alternative, i, capture_index, field))
                assert state is not None
                if state.result is not None and i == last:
                    if ordering_disabled:
                        return state.result, captures
                    if final is None or final.priority > state.priority:
                        final = state
                        final_captures = captures.copy()
                    break
                i += 1
                if i >= count:
                    break
                resume = False
                current = state
            if not stack:
                break
            state, i, index, field = stack.pop()
            current = state
            capture_index = index + 1
            captures[index] = field
            resume = True
        if final is None or final.result is None:
            return None
        return final.result, final_captures
