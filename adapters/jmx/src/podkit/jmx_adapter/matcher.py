"""Rule patterns matched by ``java.util.regex`` itself, in the helper JVM, within a deadline.

jmx_exporter's rule patterns are Java regular expressions, and users copy them from its docs:
named groups, ``\\p{javaLowerCase}``, ``\\Q...\\E``, class intersections, possessive quantifiers,
inline flags anywhere. Rather than translate them to a Python engine (and differ in the corners),
the helper JVM compiles them exactly as jmx_exporter does (``^.*(?:PATTERN).*$``) and runs its
first-match-wins loop, including its match cache for ``cache: true`` rules. The text a pattern
reads fails once the scrape's deadline has passed, so a pattern with catastrophic backtracking
ends the scrape with a reason instead of wedging anything; the event loop only waits on a pipe.

:class:`JavaMatcher` sends the rule set (:meth:`~JavaMatcher.load`, which is also where an
invalid pattern is refused with Java's own message) and one batch of match requests per scrape
(:meth:`~JavaMatcher.match`); :func:`check_patterns` does the same check synchronously for
``--check-config``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from podkit.jmx_adapter.backend import BackendError
from podkit.jmx_adapter.config import Config, ConfigError, Rule, check_group_counts
from podkit.jmx_adapter.helper import Helper, run_once

__all__ = ["JavaMatcher", "MatchItem", "MatchResult", "check_patterns"]

MatchItem = tuple[int, str, str, str]
"""(index into the bean prefixes, attribute name, its snake_case form, the value's text)."""


@dataclass(frozen=True, slots=True)
class MatchResult:
    """The first matching rule of one item and its groups (``groups[0]`` unused), or none."""

    rule: int
    groups: tuple[str | None, ...]


def _rules_request(rules: Sequence[Rule]) -> dict[str, Any]:
    return {
        "op": "rules",
        "rules": [
            {"pattern": r.pattern, "snake": r.attr_name_snake_case, "cache": r.cache} for r in rules
        ],
    }


def _checked(config: Config, reply: dict[str, Any]) -> None:
    if not reply.get("ok"):
        raise ConfigError(f"{config.origin}: {reply.get('error')}")
    check_group_counts(config, [int(n) for n in reply["groups"]])


def check_patterns(
    config: Config,
    *,
    java: str = "java",
    java_options: tuple[str, ...] = (),
    cache_dir: Path | None = None,
) -> None:
    """Compile the config's patterns in a one-off helper JVM; :class:`ConfigError` if one is bad."""
    (reply,) = run_once(
        [_rules_request(config.rules)], java=java, java_options=java_options, cache_dir=cache_dir
    )
    _checked(config, reply)


class JavaMatcher:
    """Matches rule patterns in the helper JVM."""

    def __init__(self, helper: Helper) -> None:
        self.helper = helper
        self.cached = 0
        """Fresh entries of the match cache after the last :meth:`match` (jmx_scrape_cached_beans)."""

    async def load(self, config: Config) -> None:
        """Compile ``config``'s patterns; the helper keeps them (and gets them again on restart).

        Raises :class:`ConfigError` (the helper keeps the previous set) for an invalid pattern.
        """
        request = _rules_request(config.rules)
        try:
            reply = await self.helper.request(dict(request), None)
        except BackendError as exc:
            raise ConfigError(f"{config.origin}: cannot check the rule patterns: {exc}") from None
        _checked(config, reply)
        self.helper.replay_on_start(request)

    async def match(
        self, prefixes: list[str], items: list[MatchItem], timeout: float | None
    ) -> list[MatchResult | None]:
        """The first matching rule for each item; :class:`BackendError` past the deadline."""
        if not items:
            self.cached = 0
            return []
        reply = await self.helper.request(
            {"op": "match", "beans": prefixes, "items": items}, timeout
        )
        if not reply.get("ok"):
            raise BackendError(str(reply.get("error")))
        self.cached = int(reply.get("cached") or 0)
        return [
            None if raw == -1 else MatchResult(raw[0], (None, *raw[1])) for raw in reply["results"]
        ]
