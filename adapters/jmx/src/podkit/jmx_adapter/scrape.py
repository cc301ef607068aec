"""One scrape: backend and rules -> exposition, within a deadline, remembered for ``/metrics``.

:class:`Scraper` owns the backend, the rule engine and the last completed :class:`ScrapeResult`.
:meth:`Scraper.start` starts (and warms) the helper JVM and loads the config into it before the
first scrape, so JVM start-up is never charged to a scrape's timeout. A scrape's timeout covers
reading the MBeans and applying the rules (both in the helper, which stops at the deadline
itself); a failed scrape (target down, wrong credentials, timeout, a pattern still backtracking
at the deadline) yields no samples, ``error=True`` and the reason. Attributes that could not be
exported are counted per kind of reason and logged once each, at debug. Concurrent callers of
:meth:`Scraper.fresh` share one scrape in flight.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field

from prometheus_client.core import Metric
from prometheus_client.parser import text_string_to_metric_families

from podkit.core import Logger, get_logger
from podkit.jmx_adapter.backend import Backend, BackendError, ScrapeFilter
from podkit.jmx_adapter.config import Config, ConfigError
from podkit.jmx_adapter.engine import Exposition, RuleEngine

__all__ = ["ScrapeResult", "Scraper", "skip_kind"]


def skip_kind(reason: str) -> str:
    """A skipped attribute's reason as a label value: ``unsupported_type``, ``read_failed``..."""
    if reason.startswith("unsupported type"):
        return "unsupported_type"
    if reason.startswith("cannot be read"):
        return "read_failed"
    if reason.startswith("left out of getAttributes"):
        return "getter_failed"
    return "other"


@dataclass(frozen=True)
class ScrapeResult:
    text: str = ""
    """The JMX samples as text exposition (format 0.0.4), as jmx_exporter writes them."""
    samples: int = 0
    error: bool = False
    reason: str = ""
    """Why the scrape failed (empty when it did not)."""
    duration: float = 0.0
    finished: float = 0.0
    """``time.monotonic()`` when the scrape ended (0: never scraped)."""
    beans: int = 0
    cached_beans: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    """Attributes that could not be exported in this scrape, per kind of reason."""

    @property
    def families(self) -> list[Metric]:
        """The samples as prometheus-client metric families (parsed from :attr:`text`)."""
        return list(text_string_to_metric_families(self.text))


class Scraper:
    """Scrapes one target with one config; swap either with :meth:`use`."""

    def __init__(
        self,
        backend: Backend,
        engine: RuleEngine,
        config: Config,
        *,
        timeout: float,
        log: Logger | None = None,
    ) -> None:
        self.log = log or get_logger("podkit.jmx_adapter.scrape")
        self.backend = backend
        self.engine = engine
        self.config = config
        self.timeout = timeout
        self.last = ScrapeResult()
        self.scrapes = 0
        self.skipped_total: Counter[str] = Counter()
        self._logged_skips: set[tuple[str, str, str]] = set()
        self._inflight: asyncio.Task[ScrapeResult] | None = None
        self._started = False

    async def start(self) -> None:
        """Start the helper JVM and load the config into it; :class:`ConfigError` if it is bad.

        The service calls this before its first scrape; a scrape started without it calls it
        first (outside the scrape's timeout).
        """
        await self.engine.helper.start()
        await self.engine.load(self.config)
        self._started = True

    async def use(self, config: Config, backend: Backend | None = None) -> None:
        """Take a new config (and backend); the match cache starts empty.

        Raises :class:`ConfigError` (keeping the running config) if a pattern is invalid.
        """
        await self.engine.load(config)
        self._started = True
        self.config = config
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
        if not self._started:
            try:
                await self.start()
            except (BackendError, ConfigError) as exc:
                return self._remember(self._failed(time.perf_counter(), str(exc)))
        start = time.perf_counter()
        try:
            async with asyncio.timeout(self.timeout):
                out = await self.backend.collect(self.engine, self.filter, self.timeout)
            result = ScrapeResult(
                out.text,
                out.samples,
                duration=time.perf_counter() - start,
                finished=time.monotonic(),
                beans=out.beans,
                cached_beans=out.cached,
                skipped=self._skipped(out),
            )
        except TimeoutError:
            result = self._failed(start, f"scrape timed out after {self.timeout:g}s")
        except BackendError as exc:
            reason = str(exc) or type(exc).__name__
            if reason.startswith("no answer within"):
                reason = f"scrape timed out after {self.timeout:g}s (the helper is still busy)"
            elif "scrape timeout ran out" in reason:  # the helper stopped at the deadline
                reason = f"scrape timed out after {self.timeout:g}s: {reason}"
            result = self._failed(start, reason)
        except Exception as exc:  # a backend bug must not end the scrape loop: report, go on
            result = self._failed(start, f"{type(exc).__name__}: {exc}")
        return self._remember(result)

    def _remember(self, result: ScrapeResult) -> ScrapeResult:
        self.scrapes += 1
        if result.error and (not self.last.error or self.last.reason != result.reason):
            self.log.warning("JMX scrape failed", reason=result.reason, backend=self.backend.name)
        elif not result.error and self.last.error:
            self.log.info("JMX scrape succeeded again", beans=result.beans)
        self.last = result
        return result

    def _skipped(self, out: Exposition) -> dict[str, int]:
        counts: Counter[str] = Counter()
        for bean, attr, reason in out.skipped:
            counts[skip_kind(reason)] += 1
            key = (bean, attr, reason)
            if key not in self._logged_skips:
                self._logged_skips.add(key)
                self.log.debug("attribute skipped", mbean=bean, attribute=attr, reason=reason)
        self.skipped_total.update(counts)
        return dict(counts)

    def _failed(self, start: float, reason: str) -> ScrapeResult:
        return ScrapeResult(
            error=True,
            reason=reason,
            duration=time.perf_counter() - start,
            finished=time.monotonic(),
        )
