"""Liveness and readiness: the conditions and checks a component registers, and their verdict.

A component says it is not ready with :meth:`Health.not_ready` (``"first sync not done"``) and
ready again with :meth:`Health.ready`, or registers a check function that is called on every probe
and returns ``True``/``None`` when fine, or ``False``/a reason when not. Liveness works the same
way through :meth:`Health.add_liveness_check`, for the rarer case where the process can tell it is
wedged. The admin server turns the verdict
into ``/healthz`` and ``/readyz``.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

CheckResult = bool | str | None
Check = Callable[[], CheckResult | Awaitable[CheckResult]]


@dataclass
class Verdict:
    """The outcome of a probe: ``ok`` and, by check name, why not."""

    ok: bool
    reasons: dict[str, str] = field(default_factory=dict)


class _Probe:
    def __init__(self) -> None:
        self.conditions: dict[str, str] = {}
        self.checks: dict[str, Check] = {}

    async def verdict(self, timeout: float) -> Verdict:
        reasons = dict(self.conditions)
        for name, check in list(self.checks.items()):
            reason = await _run_check(check, timeout)
            if reason is not None:
                reasons[name] = reason
        return Verdict(ok=not reasons, reasons=reasons)


async def _run_check(check: Check, timeout: float) -> str | None:
    try:
        result = check()
        if inspect.isawaitable(result):
            result = await asyncio.wait_for(result, timeout)
    except TimeoutError:
        return f"check timed out after {timeout:g}s"
    except Exception as exc:
        return f"check failed: {type(exc).__name__}: {exc}"
    if result is None or result is True:
        return None
    if result is False:
        return "not ready"
    return str(result)


class Health:
    """Readiness and liveness state shared by a service and its admin server."""

    def __init__(self, check_timeout: float = 2.0) -> None:
        self.check_timeout = check_timeout
        self._ready = _Probe()
        self._live = _Probe()

    def not_ready(self, name: str, reason: str) -> None:
        """Mark the service not ready for ``name`` until :meth:`ready` is called with it."""
        self._ready.conditions[name] = reason

    def ready(self, name: str) -> None:
        self._ready.conditions.pop(name, None)

    def add_readiness_check(self, name: str, check: Check) -> None:
        self._ready.checks[name] = check

    def remove_readiness_check(self, name: str) -> None:
        self._ready.checks.pop(name, None)

    def add_liveness_check(self, name: str, check: Check) -> None:
        self._live.checks[name] = check

    async def readiness(self) -> Verdict:
        return await self._ready.verdict(self.check_timeout)

    async def liveness(self) -> Verdict:
        return await self._live.verdict(self.check_timeout)
