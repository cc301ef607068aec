"""The admin HTTP server every component runs: ``/healthz``, ``/readyz``, ``/metrics`` and ``/``.

Built on aiohttp. ``/readyz`` and ``/healthz`` answer 200 ``ok`` or 503 with one reason per line
(JSON, with the reasons by check name, when the client sends ``Accept: application/json``).
``/metrics`` renders the component's prometheus-client registry, as OpenMetrics when the scraper
asks for it, gzip-compressed when it accepts that. ``/`` tells the name, version and endpoints.
Components add routes of their own (a reload endpoint, say) with :meth:`AdminServer.add_route`
before :meth:`AdminServer.start`.

aiohttp is imported only when the server starts (or a response is built), so a component whose
admin server is off, as git-sync's is by default, never pays its start-up time and memory.
"""

from __future__ import annotations

import asyncio
import platform
import socket
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from podkit.core.health import Health, Verdict
from podkit.core.logs import Logger, get_logger
from podkit.core.values import HostPort

if TYPE_CHECKING:
    from aiohttp import web
    from prometheus_client import CollectorRegistry

Handler = Callable[["web.Request"], Awaitable["web.StreamResponse"]]
TEXT_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
"""The text format's content type as Go's and Java's exporters send it."""


class AdminServer:
    """An aiohttp server for probes and metrics; ``listen=None`` turns it off."""

    def __init__(
        self,
        *,
        name: str,
        version: str,
        registry: CollectorRegistry | None,
        health: Health,
        listen: HostPort | None,
        metrics_path: str = "/metrics",
        metrics_enabled: bool = True,
        log: Logger | None = None,
    ) -> None:
        self.log = log or get_logger("podkit.admin")
        self.name = name
        self.version = version
        self.registry = registry
        self.health = health
        self.listen = listen
        self.metrics_path = metrics_path
        self.metrics_enabled = metrics_enabled
        self._runner: web.AppRunner | None = None
        self._sockets: list[socket.socket] = []
        self._routes: list[tuple[str, str, Handler]] = []

    def add_route(self, method: str, path: str, handler: Handler) -> None:
        """Serve ``handler`` at ``method path`` (call before :meth:`start`).

        A component may claim a built-in path (git-sync's ``/`` answers 503 until the first sync);
        the built-in handler is then left out.
        """
        self._routes.append((method, path, handler))

    def _add_builtin_routes(self) -> None:
        builtin: list[tuple[str, Handler]] = [
            ("/healthz", self._healthz),
            ("/readyz", self._readyz),
            ("/", self._index),
        ]
        if self.metrics_enabled:
            builtin.append((self.metrics_path, self._metrics))
        claimed = {path for method, path, _ in self._routes if method in ("GET", "*")}
        for path, handler in builtin:
            if path not in claimed:
                self.add_route("GET", path, handler)

    @property
    def port(self) -> int | None:
        """The bound port (useful with port 0), or None when not serving."""
        return self._sockets[0].getsockname()[1] if self._sockets else None

    @property
    def url(self) -> str | None:
        if not self._sockets or self.listen is None:
            return None
        host = self.listen.host or "127.0.0.1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    async def start(self) -> None:
        if self.listen is None:
            return
        from aiohttp import web

        self._add_builtin_routes()
        app = web.Application()
        for method, path, handler in self._routes:
            app.router.add_route(method, path, handler)
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, self.listen.bind_host, self.listen.port, reuse_address=True)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            raise OSError(
                exc.errno, f"cannot listen on {self.listen} for the admin server: {exc.strerror}"
            ) from None
        self._runner = runner
        server = site._server
        self._sockets = list(getattr(server, "sockets", None) or [])
        self.log.debug("admin server listening", url=self.url)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
            self._sockets = []

    # --- handlers ------------------------------------------------------------------------------

    async def _healthz(self, request: web.Request) -> web.StreamResponse:
        return _verdict_response(request, await self.health.liveness())

    async def _readyz(self, request: web.Request) -> web.StreamResponse:
        return _verdict_response(request, await self.health.readiness())

    async def _metrics(self, request: web.Request) -> web.StreamResponse:
        if self.registry is None:  # a Service builds its registry before the server starts
            raise RuntimeError("the admin server serves /metrics without a registry")
        return metrics_response(request, self.registry)

    async def _index(self, request: web.Request) -> web.StreamResponse:
        from aiohttp import web

        loop = asyncio.get_running_loop()
        info: dict[str, Any] = {
            "name": self.name,
            "version": self.version,
            "python": platform.python_version(),
            "event_loop": f"{type(loop).__module__}.{type(loop).__name__}",
            "endpoints": sorted({path for _, path, _ in self._routes}),
        }
        return web.json_response(info)


def metrics_response(
    request: web.Request, registry: CollectorRegistry, *, body: bytes | None = None
) -> web.Response:
    """A metrics page, gzipped if the scraper accepts it.

    Without ``body``: ``registry`` in the format the scraper asks for (OpenMetrics or text).
    With ``body``: that page as it is, a complete text-format exposition the component rendered
    itself (the StatsD adapter renders its series and its own metrics as one page).
    """
    from aiohttp import web
    from prometheus_client.exposition import choose_encoder

    if body is not None:
        content_type = TEXT_CONTENT_TYPE
    else:
        encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
        body = encoder(registry)
    response = web.Response(body=body, headers={"Content-Type": content_type})
    if "gzip" in request.headers.get("Accept-Encoding", ""):
        response.enable_compression()
    return response


def _verdict_response(request: web.Request, verdict: Verdict) -> web.Response:
    from aiohttp import web

    status = 200 if verdict.ok else 503
    if "application/json" in request.headers.get("Accept", ""):
        return web.json_response(
            {"status": "ok" if verdict.ok else "unavailable", "reasons": verdict.reasons},
            status=status,
        )
    if verdict.ok:
        return web.Response(text="ok\n", status=status)
    lines = "".join(f"{name}: {reason}\n" for name, reason in sorted(verdict.reasons.items()))
    return web.Response(text=lines, status=status)
