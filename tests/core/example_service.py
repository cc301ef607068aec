"""A one-file service written against podkit-core only, used by the tests as a real process.

It listens on TCP for lines ``sleep SECONDS`` and answers ``started`` at once and ``done SECONDS``
when the (simulated) work ends; that work is counted in flight, so SIGTERM drains it. Everything
else (flags, env vars, a YAML file, /healthz, /readyz, /metrics, logging, signals, exit codes) comes
from podkit-core with no code here.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from prometheus_client import Counter, Gauge

from podkit.core import HostPort, Service, ServiceSettings, main, setting
from podkit.core import values as v


class ExampleSettings(ServiceSettings):
    env_prefix = "EXAMPLE_"
    env_alias_prefixes = ("OLD_EXAMPLE_",)
    setting_overrides = {"admin_listen": {"default": HostPort("127.0.0.1", 9797)}}

    listen: HostPort = setting(
        default=HostPort("127.0.0.1", 9798), help="address for work requests", metavar="HOST:PORT"
    )
    ready_after: float = setting(
        default=0.0, parse=v.DURATION, help="stay unready this long after start"
    )
    ready_file: str = setting(default="", help="stay unready until this file exists")
    crash_after: float | None = setting(
        default=None, parse=v.optional(v.DURATION), help="crash a background task after this long"
    )
    fail_start: bool = setting(default=False, help="fail while starting")
    fail_build: bool = setting(default=False, help="fail while the service is built")
    check_only: bool = setting(default=False, help="print the settings' verdict and exit")
    token: str = setting(default="", secret=True, help="an API token (logged, to test redaction)")
    tags: list[str] = setting(default_factory=list, repeatable=True, help="a tag")
    max_jobs: int = setting(default=100, flag="--work.max-jobs", help="jobs at once")


class ExampleService(Service[ExampleSettings]):
    name = "podkit-example"
    version = "1.2.3"
    description = "A small service that does slow work, for testing podkit-core."
    metrics_prefix = "example"
    settings_class = ExampleSettings

    @classmethod
    def preflight(cls, settings: ExampleSettings) -> int | None:
        if settings.check_only:
            print(f"settings ok: {settings.max_jobs} jobs")
            return 0
        return None

    def __init__(self, settings: ExampleSettings | None = None) -> None:
        super().__init__(settings)
        if self.settings.fail_build:
            raise ValueError("cannot build:\n  bad thing")
        self.jobs = Counter("example_jobs", "Jobs finished.", registry=self.registry)
        self.reloads = Counter("example_reloads", "Reloads handled.", registry=self.registry)
        self.busy = Gauge("example_jobs_in_flight", "Jobs running now.", registry=self.registry)
        self._server: asyncio.Server | None = None

    async def on_start(self) -> None:
        if self.settings.fail_start:
            raise RuntimeError("told to fail at start")
        listen = self.settings.listen
        self._server = await asyncio.start_server(self._client, listen.bind_host, listen.port)
        self.log.info(
            "example started", token=self.settings.token, tags=self.settings.tags, url="x"
        )
        if self.settings.ready_after > 0:
            self.health.not_ready("warm-up", "warming up")
            self.spawn(self._warm_up(), "warm-up")
        if self.settings.ready_file:
            path = Path(self.settings.ready_file)
            self.health.add_readiness_check(
                "ready-file", lambda: path.exists() or f"{path.name} does not exist"
            )
        if self.settings.crash_after is not None:
            self.spawn(self._crash(self.settings.crash_after), "crash")

    async def _warm_up(self) -> None:
        await asyncio.sleep(self.settings.ready_after)
        self.health.ready("warm-up")

    async def _crash(self, delay: float) -> None:
        await asyncio.sleep(delay)
        raise ValueError("the background task broke")

    async def on_stop(self) -> None:
        if self._server is not None:
            self._server.close()

    async def on_close(self) -> None:
        if self._server is not None:
            await self._server.wait_closed()

    async def on_reload(self) -> None:
        self.reloads.inc()
        self.log.info("reloaded")

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while line := await reader.readline():
                seconds = float(line.decode().split()[1])
                async with self.work():
                    self.busy.inc()
                    writer.write(b"started\n")
                    await writer.drain()
                    try:
                        await asyncio.sleep(seconds)
                    finally:
                        self.busy.dec()
                    self.jobs.inc()
                    writer.write(f"done {seconds:g}\n".encode())
                    await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()


if __name__ == "__main__":
    sys.exit(main(ExampleService))
