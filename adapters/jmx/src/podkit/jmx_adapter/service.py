"""The JMX adapter as a podkit service: scrape loop -> backend -> rules -> ``/metrics``.

Wires the stages together and owns what changes at run time: the config (loaded at start,
reloaded when the file's modification time changes and on SIGHUP; a bad file keeps the old
config and counts ``jmx_config_reload_failure_total``), the backend (rebuilt when the target or
credentials change), and the scrape schedule (every ``--scrape-interval``, or on demand with a
``--scrape-cache`` lifetime). ``/metrics`` always answers from the last completed scrape.
Embeddable::

    async with JmxAdapter(JmxSettings(config_file=Path("jmx.yaml"), listen=None)) as adapter:
        result = await adapter.scraper.scrape()
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from pathlib import Path

from aiohttp import web
from prometheus_client.exposition import generate_latest

from podkit.core import Service, metrics_response
from podkit.jmx_adapter import __version__
from podkit.jmx_adapter.backend import Backend, BackendError, Target
from podkit.jmx_adapter.backend_jmxquery import JmxqueryBackend
from podkit.jmx_adapter.backend_jolokia import JolokiaBackend
from podkit.jmx_adapter.backend_persistent import PersistentBackend
from podkit.jmx_adapter.config import Config, ConfigError, load_config
from podkit.jmx_adapter.engine import RuleEngine, check_patterns
from podkit.jmx_adapter.helper import Helper
from podkit.jmx_adapter.metrics import JmxCollector
from podkit.jmx_adapter.scrape import Scraper
from podkit.jmx_adapter.settings import JmxSettings

__all__ = ["JmxAdapter", "make_backend"]


def make_helper(settings: JmxSettings) -> Helper:
    """The helper JVM (rule matching for every backend, MBean reads for ``persistent``)."""
    return Helper(
        java=settings.java,
        java_options=tuple(settings.java_options),
        cache_dir=Path(settings.helper_cache_dir) if settings.helper_cache_dir else None,
        call_timeout=settings.scrape_timeout,
    )


def target_of(settings: JmxSettings, config: Config) -> Target:
    """The config's target, with ``JMX_ADAPTER_PASSWORD`` winning over the file's password."""
    return Target(
        config.jmx_url,
        config.username,
        settings.password or config.password,
        config.ssl,
        config.ssl_options,
    )


def make_backend(settings: JmxSettings, config: Config) -> Backend:
    """The backend ``settings.backend`` names, aimed at the config's target."""
    target = target_of(settings, config)
    if settings.backend == "jolokia":
        url = settings.jolokia_url or config.jmx_url
        return JolokiaBackend(url, username=target.username, password=target.password)
    if settings.backend == "jmxquery":
        return JmxqueryBackend(
            target, java=settings.java, java_options=tuple(settings.java_options)
        )
    return PersistentBackend(target)


class JmxAdapter(Service[JmxSettings]):
    """Reads MBeans from one JVM, maps them with jmx_exporter's rules, serves Prometheus metrics."""

    name = "podkit-jmx-adapter"
    version = __version__
    description = (
        "JMX to Prometheus adapter, compatible with jmx_exporter's standalone command line "
        "([HOST:]PORT CONFIG.yaml) and YAML config."
    )
    metrics_prefix = "jmx_adapter"
    settings_class = JmxSettings

    def __init__(self, settings: JmxSettings | None = None) -> None:
        super().__init__(settings)
        s = self.settings
        config = load_config(s.config_file)
        self._secrets(config)
        self._mtime = self._config_mtime()
        self.reloads = {"success": 0, "failure": 0}
        self._waiting = "the adapter has not started"
        self.helper = make_helper(s)
        self.scraper = Scraper(
            make_backend(s, config),
            RuleEngine(self.helper),
            config,
            timeout=s.scrape_timeout,
            log=self.log.child("scrape"),
        )
        self.registry.register(JmxCollector(self.scraper, self.reloads))
        self.admin.add_route("GET", self.metrics_path, self._metrics)
        self._warn(config)

    def _secrets(self, config: Config) -> None:
        """The config file's secrets join the service's redactor (the env password is a setting)."""
        options = config.ssl_options
        stores = () if options is None else (options.key_store, options.trust_store)
        for secret in (config.password, *(s.password for s in stores if s is not None)):
            if secret:
                self.redactor.add(secret)

    def _warn(self, config: Config) -> None:
        for warning in config.warnings:
            self.log.warning("config key ignored", detail=warning)

    @classmethod
    def preflight(cls, settings: JmxSettings) -> int | None:
        """``--check-config``: parse the config file, print the verdict, exit 0 or 1."""
        if not settings.check_config:
            return None
        try:
            config = load_config(settings.config_file)
            make_backend(settings, config)  # the backend accepts the target (nothing starts)
            check_patterns(
                config,
                java=settings.java,
                java_options=tuple(settings.java_options),
                cache_dir=Path(settings.helper_cache_dir) if settings.helper_cache_dir else None,
            )
        except (ConfigError, BackendError) as exc:
            print(f"{exc}", file=sys.stderr)
            return 1
        for warning in config.warnings:
            print(f"warning: {warning}", file=sys.stderr)
        target = config.jmx_url or "no target"
        print(
            f"{settings.config_file}: {len(config.rules)} rules, target {target}; configuration OK"
        )
        return 0

    def metrics_enabled(self) -> bool:
        return False  # the adapter serves /metrics itself, so on-demand scrapes can run first

    @property
    def config(self) -> Config:
        return self.scraper.config

    # --- lifecycle --------------------------------------------------------------------------------

    async def on_start(self) -> None:
        self._not_ready_yet("starting the helper JVM")
        await self.scraper.start()  # JVM start-up and warm-up, never charged to a scrape
        self._not_ready_yet("waiting for the first scrape")
        self.spawn(self._scrape_loop(), "scrape")
        if self.settings.config_poll_interval > 0:
            self.spawn(self._watch_config(), "config-watch")
        self.log.info(
            "scraping JMX",
            target=self.config.jmx_url or self.settings.jolokia_url,
            backend=self.settings.backend,
            interval_seconds=self.settings.scrape_interval,
            rules=len(self.config.rules),
        )

    def _not_ready_yet(self, reason: str) -> None:
        self._waiting = reason
        self.health.not_ready("first-scrape", reason)

    async def on_close(self) -> None:
        await self.scraper.backend.close()
        await self.helper.close()

    async def _scrape_loop(self) -> None:
        delay = self.config.start_delay_seconds
        if delay:
            self._not_ready_yet(f"startDelaySeconds: waiting {delay}s")
            await asyncio.sleep(delay)
        self._not_ready_yet("the first scrape is running")
        await self.scraper.scrape()
        self.health.ready("first-scrape")
        interval = self.settings.scrape_interval
        if interval <= 0:
            return  # on demand from here on
        while True:
            await asyncio.sleep(interval)
            async with self.work():
                await self.scraper.scrape()

    # --- config -----------------------------------------------------------------------------------

    def _config_mtime(self) -> int | None:
        try:
            return self.settings.config_file.stat().st_mtime_ns
        except OSError:
            return None

    async def _watch_config(self) -> None:
        while True:
            await asyncio.sleep(self.settings.config_poll_interval)
            mtime = self._config_mtime()
            if mtime is not None and mtime != self._mtime:  # on_reload records the new mtime
                self.log.info("config file changed; reloading", file=str(self.settings.config_file))
                await self.reload()

    async def on_reload(self) -> None:
        """Load the config file again; a bad file keeps the running config and is counted."""
        self._mtime = self._config_mtime()
        try:
            config = load_config(self.settings.config_file)
            self._secrets(config)
            backend = None
            if target_of(self.settings, config) != target_of(self.settings, self.config):
                backend = make_backend(self.settings, config)
            await self.scraper.use(config, backend)
        except Exception as exc:
            self.reloads["failure"] += 1
            raise ConfigError(f"config reload failed, keeping the old config: {exc}") from None
        old = self.scraper.backend if backend is not None else None
        if old is not None:
            with contextlib.suppress(Exception):
                await old.close()
        self.reloads["success"] += 1
        self.log.info("config reloaded", rules=len(config.rules))
        self._warn(config)

    # --- HTTP -------------------------------------------------------------------------------------

    async def _metrics(self, request: web.Request) -> web.StreamResponse:
        if not self._scraped_once():
            # as jmx_exporter (its collector throws until it can scrape): no numbers that a
            # dashboard could read as healthy before a scrape has completed
            return web.Response(
                status=500, text=f"no JMX scrape has completed yet: {self._waiting}\n"
            )
        result = self.scraper.last
        if self.settings.scrape_interval <= 0:
            result = await self.scraper.fresh(self.settings.scrape_cache)
        # the JMX samples come rendered by the helper (as jmx_exporter renders them), the
        # adapter's own metrics after them
        page = result.text.encode() + generate_latest(self.registry)
        return metrics_response(request, self.registry, body=page)

    def _scraped_once(self) -> bool:
        return self.scraper.last.finished > 0
