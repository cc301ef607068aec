"""The base of every component: its common settings and the :class:`Service` lifecycle.

A component subclasses :class:`ServiceSettings` for its settings and :class:`Service` for its work,
overriding the ``on_*`` hooks. The base class owns what is the same everywhere: the metrics
registry, readiness and liveness, the admin server, counting in-flight work so shutdown can drain
it, background tasks that fail the service when they crash, and the service's own end (one-shot
components call :meth:`Service.finish`). A service is an async context manager, so an asyncio app
can embed it::

    async with StatsdAdapter(StatsdSettings(listen_udp=None)) as adapter:
        ...

:func:`podkit.core.run` runs one as a process, with signals and exit codes.
"""

from __future__ import annotations

import asyncio
import contextlib
import platform
from collections.abc import AsyncIterator, Coroutine
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Self, TypeVar

from podkit.core import values as v
from podkit.core.admin import AdminServer
from podkit.core.health import Health
from podkit.core.logs import get_logger
from podkit.core.redact import Redactor
from podkit.core.settings import Settings, setting

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry


class ServiceSettings(Settings):
    """Settings every component has; components change defaults with ``setting_overrides``."""

    config_setting = "config"

    config: Path | None = setting(
        default=None,
        help="YAML file of settings (keys are setting or flag names); flags and env vars win over it",
        metavar="FILE",
        group="general",
    )
    log_level: str = setting(
        default="info",
        parse=v.choice("debug", "info", "warning", "error"),
        help="log level",
        group="general",
    )
    log_format: str = setting(
        default="auto",
        parse=v.choice("auto", "json", "text"),
        help="log format: json, text, or auto (text on a terminal, json otherwise)",
        group="general",
    )
    admin_listen: v.HostPort | None = setting(
        default=v.HostPort("", 8080),
        parse=v.optional(v.HOST_PORT),
        help="address of the admin HTTP server (/healthz, /readyz, /metrics); the default, with no "
        "host, listens on every interface, IPv4 and IPv6, so the kubelet's probes reach it on the "
        "pod IP; empty turns it off",
        metavar="HOST:PORT",
        group="general",
    )
    shutdown_grace: float = setting(
        default=10.0,
        parse=v.non_negative(v.DURATION),
        help="on SIGTERM, how long in-flight work may take to finish before it is abandoned",
        metavar="DURATION",
        group="general",
    )


SettingsT = TypeVar("SettingsT", bound=ServiceSettings)


class Service(Generic[SettingsT]):
    """A podkit component: override :meth:`on_start`, :meth:`on_stop` and friends."""

    name: ClassVar[str] = "podkit-service"
    version: ClassVar[str] = "0.0.0"
    description: ClassVar[str | None] = None
    metrics_prefix: ClassVar[str] = "podkit"
    metrics_path: ClassVar[str] = "/metrics"
    settings_class: type[SettingsT]

    def __init__(
        self, settings: SettingsT | None = None, *, registry: CollectorRegistry | None = None
    ) -> None:
        self.settings: SettingsT = settings if settings is not None else self.settings_class()
        self._registry: CollectorRegistry | None = None
        self._given_registry = registry
        self.health = Health()
        self.redactor = Redactor(self.settings.secrets())
        """This service's secrets: its secret settings and whatever it registers while running."""
        self.log = get_logger(self.name, self.redactor)
        self.admin = AdminServer(
            name=self.name,
            version=self.version,
            registry=registry,
            health=self.health,
            listen=self.settings.admin_listen,
            metrics_path=self.metrics_path,
            metrics_enabled=self.metrics_enabled(),
            log=self.log.child("admin"),
        )
        if registry is not None:
            self._build_registry()
        self._inflight = 0
        self._idle: asyncio.Event | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._outcome: asyncio.Future[int] | None = None
        self._started = False
        self._stopping = False

    @property
    def registry(self) -> CollectorRegistry:
        """This service's metrics registry, built on first use.

        prometheus-client is imported only then (when ``/metrics`` is served, or a component
        registers a metric), so a component that serves no metrics never pays its start-up time
        and memory.
        """
        if self._registry is None:
            return self._build_registry()
        return self._registry

    def _build_registry(self) -> CollectorRegistry:
        from prometheus_client import (
            GC_COLLECTOR,
            PLATFORM_COLLECTOR,
            PROCESS_COLLECTOR,
            CollectorRegistry,
            Gauge,
        )

        registry = self._given_registry
        if registry is None:
            registry = CollectorRegistry(auto_describe=True)
            for collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
                with contextlib.suppress(ValueError):
                    registry.register(collector)
        self._registry = registry
        self.admin.registry = registry
        Gauge(
            f"{self.metrics_prefix}_build_info",
            "Build information of this component; the value is always 1.",
            ["version", "python"],
            registry=registry,
        ).labels(self.version, platform.python_version()).set(1)
        return registry

    # --- hooks for components --------------------------------------------------------------------

    @classmethod
    def preflight(cls, settings: SettingsT) -> int | None:
        """Run before the service is built by :func:`podkit.core.main`; an int ends the process.

        For one-shot modes such as ``--check-config`` that print a verdict and exit.
        """
        return None

    def log_level(self) -> str | int:
        """The log level :func:`run` configures (git-sync maps its ``-v`` count here)."""
        return self.settings.log_level

    def metrics_enabled(self) -> bool:
        """Whether ``/metrics`` is served (git-sync's ``--http-metrics`` turns it off)."""
        return True

    async def on_start(self) -> None:
        """Acquire resources, open listeners, start loops (with :meth:`spawn`)."""

    async def on_stop(self) -> None:
        """Stop taking new work (close listeners); in-flight work goes on draining after this."""

    async def on_close(self) -> None:
        """Release resources once in-flight work has drained or the grace period ran out."""

    async def on_reload(self) -> None:
        """React to SIGHUP; the default only says that nothing is reloadable."""
        self.log.info("reload requested; this component has nothing to reload")

    # --- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        """Start the admin server, then the component; ready once every condition clears."""
        if self._started:
            raise RuntimeError(f"{self.name} already started")
        self._started = True
        self._outcome = asyncio.get_running_loop().create_future()
        self._idle = asyncio.Event()
        self._idle.set()
        self.health.not_ready("lifecycle", "starting")
        if self.admin.listen is not None and self.admin.metrics_enabled:
            self.registry  # noqa: B018 - built now, so /metrics has it from the first scrape
        await self.admin.start()
        try:
            await self.on_start()
        except BaseException:
            await self._cancel_tasks()
            await self.admin.stop()
            raise
        self.health.ready("lifecycle")

    async def shutdown(self, grace: float | None = None) -> bool:
        """Stop new work, drain in-flight work for up to ``grace`` seconds, then close.

        Returns True when everything in flight finished in time.
        """
        if not self._started or self._stopping:
            return True
        self._stopping = True
        grace = self.settings.shutdown_grace if grace is None else grace
        self.health.not_ready("lifecycle", "shutting down")
        drained = True
        try:
            await self.on_stop()
            drained = await self.drain(grace)
            if not drained:
                self.log.warning(
                    "grace period over; abandoning in-flight work",
                    grace_seconds=grace,
                    in_flight=self._inflight,
                )
        finally:
            await self._cancel_tasks()
            try:
                await self.on_close()
            finally:
                await self.admin.stop()
                if self._outcome is not None and not self._outcome.done():
                    self._outcome.set_result(0)
        return drained

    async def drain(self, timeout: float) -> bool:
        """Wait until no :meth:`work` block is running, for up to ``timeout`` seconds."""
        assert self._idle is not None
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except TimeoutError:
            return False
        return True

    async def reload(self) -> None:
        """Run :meth:`on_reload`; a failure is logged and the service keeps its old state."""
        try:
            await self.on_reload()
        except Exception as exc:
            self.log.error("reload failed; keeping the previous configuration", error=str(exc))

    async def wait(self) -> int:
        """Wait for the service to end on its own: its exit code, or the exception that ended it."""
        if self._outcome is None:
            raise RuntimeError(f"{self.name} is not started")
        return await asyncio.shield(self._outcome)

    def finish(self, code: int = 0) -> None:
        """End the service with exit ``code`` (a one-shot run that completed, or gave up)."""
        if self._outcome is not None and not self._outcome.done():
            self._outcome.set_result(code)

    def fail(self, error: BaseException) -> None:
        """End the service with ``error`` (reported as one line, exit 1, by :func:`run`)."""
        if self._outcome is not None and not self._outcome.done():
            self._outcome.set_exception(error)

    @property
    def stopping(self) -> bool:
        return self._stopping

    @property
    def in_flight(self) -> int:
        return self._inflight

    @contextlib.asynccontextmanager
    async def work(self) -> AsyncIterator[None]:
        """Count a unit of work as in flight, so shutdown waits for it."""
        assert self._idle is not None, "work() before start()"
        self._inflight += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._inflight -= 1
            if self._inflight == 0:
                self._idle.set()

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        """Run ``coro`` in the background until it ends or shutdown cancels it.

        An exception escaping it fails the whole service: a crashed loop must not leave a
        half-working sidecar that still reports ready.
        """
        task = asyncio.create_task(coro, name=f"{self.name}:{name}")
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        error = task.exception()
        if error is not None:
            self.fail(error)

    async def _cancel_tasks(self) -> None:
        tasks = [task for task in self._tasks if not task.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.shutdown()
