"""One scrape: backend -> rules -> families, cut off by a timeout, remembered for ``/metrics``.

:class:`Scraper` owns the backend, the rule engine and the last completed :class:`ScrapeResult`.
A failed scrape (target down, wrong credentials, timeout) yields no families and
``error=True``; the adapter keeps serving that and its self-metrics. Concurrent callers of
:meth:`Scraper.fresh` share one scrape in flight.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from podkit.core import get_logger
from podkit.jmx_adapter.backend import Backend, BackendError, ScrapeFilter
from podkit.jmx_adapter.config import Config
from podkit.jmx_adapter.rules import Family, RuleEngine

__all__ = ["ScrapeResult", "Scraper"]

log = get_logger("podkit.jmx_adapter.scrape")


@dataclass(frozen=True)
class ScrapeResult:
    families: list[Family] = field(default_factory=list)
    error: bool = False
    reason: str = ""
    duration: float = 0.0
    finished: float = 0.0
    """``time.monotonic()`` when the scrape ended (0: never scraped)."""
    beans: int = 0
    cached_beans: int = 0


class Scraper:
    """Scrapes one target with one config; swap either with :meth:`use`."""

    def __init__(self, backend: Backend, config: Config, *, timeout: float) -> None:
        self.backend = backend
        self.config = config
        self.engine = RuleEngine(config)
        self.timeout = timeout
        self.last = ScrapeResult()
        self.scrapes = 0
        self._inflight: asyncio.Task[ScrapeResult] | None = None

    def use(self, config: Config, backend: Backend | None = None) -> None:
        """Take a new config (and backend); rule caches start empty."""
        self.config = config
        self.engine = RuleEngine(config)
        if backend is not None:
            self.backend = backend

    @property
    def filter(self) -> ScrapeFilter:
        return ScrapeFilter(self.config.include, self.config.exclude)

    async def scrape(self) -> ScrapeResult:
        """Scrape now (or join the scrape already running) and remember the result."""
        if self._inflight is None or self._inflight.done():
            self._inflight = asyncio.ensure_future(self._scrape())
        return await asyncio.shield(self._inflight)

    async def fresh(self, max_age: float) -> ScrapeResult:
        """The last result if younger than ``max_age`` seconds, else a new scrape's."""
        if self.last.finished and time.monotonic() - self.last.finished <= max_age:
            return self.last
        return await self.scrape()

    async def _scrape(self) -> ScrapeResult:
        start = time.perf_counter()
        engine = self.engine
        try:
            beans = await asyncio.wait_for(self.backend.scrape(self.filter), self.timeout)
            families = engine.evaluate(beans)
            result = ScrapeResult(
                families,
                duration=time.perf_counter() - start,
                finished=time.monotonic(),
                beans=len(beans),
                cached_beans=engine.cached_beans,
            )
        except TimeoutError:
            result = self._failed(start, f"scrape timed out after {self.timeout:g}s")
        except BackendError as exc:
            result = self._failed(start, str(exc))
        except Exception as exc:  # a backend bug must not end the scrape loop: report, go on
            result = self._failed(start, f"{type(exc).__name__}: {exc}")
        self.scrapes += 1
        if result.error and (not self.last.error or self.last.reason != result.reason):
            log.warning("JMX scrape failed", reason=result.reason, backend=self.backend.name)
        elif not result.error and self.last.error:
            log.info("JMX scrape succeeded again", beans=result.beans)
        self.last = result
        return result

    def _failed(self, start: float, reason: str) -> ScrapeResult:
        return ScrapeResult(
            error=True,
            reason=reason,
            duration=time.perf_counter() - start,
            finished=time.monotonic(),
        )
