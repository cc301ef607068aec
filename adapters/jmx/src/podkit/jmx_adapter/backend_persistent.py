"""The persistent backend: the helper JVM reads the target over one long-lived JMX connection.

The helper (:mod:`.helper`) keeps the connection across scrapes and reopens it when the target
restarts; the target and credentials travel in each scrape request over its stdin (never its
command line, where ``ps`` would show them). It reads every bean with one ``getAttributes`` call
(one by one when that fails, as jmx_exporter does) and applies the rules in the same pass
(:mod:`.engine`), so one request per scrape returns the finished exposition.
"""

from __future__ import annotations

from podkit.jmx_adapter.backend import BackendError, ScrapeFilter, Target
from podkit.jmx_adapter.engine import Exposition, RuleEngine

__all__ = ["PersistentBackend"]


class PersistentBackend:
    """Scrapes through the helper JVM, which stays up (and connected) between scrapes."""

    name = "persistent"

    def __init__(self, target: Target) -> None:
        if not target.url:
            raise BackendError("no JMX target: set hostPort or jmxUrl in the config")
        self.target = target

    async def collect(
        self, engine: RuleEngine, beans: ScrapeFilter, timeout: float | None
    ) -> Exposition:
        return await engine.scrape(self.target, beans, timeout)

    async def close(self) -> None:
        """The helper belongs to the service (it runs the rules for every backend)."""
