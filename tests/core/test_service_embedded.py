"""A service embedded in an asyncio app: start/stop, readiness, admin routes, drain, failures."""

from __future__ import annotations

import asyncio
import gzip
import logging
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from podkit.core import AdminServer, Health, HostPort, Service, ServiceSettings, run
from tests.core.example_service import ExampleService, ExampleSettings
from tests.support.ports import free_port


def settings(**changes: object) -> ExampleSettings:
    values: dict[str, object] = {
        "admin_listen": HostPort("127.0.0.1", free_port()),
        "listen": HostPort("127.0.0.1", free_port()),
    }
    values.update(changes)
    return ExampleSettings(**values)


async def get(url: str, **headers: str) -> tuple[int, str, aiohttp.typedefs.LooseHeaders]:
    async with aiohttp.ClientSession() as session, session.get(url, headers=headers) as response:
        return response.status, await response.text(), response.headers


async def test_embedded_service_serves_probes_and_stops_cleanly(tmp_path: Path) -> None:
    flag = tmp_path / "warm"
    async with ExampleService(settings(ready_file=str(flag))) as service:
        base = service.admin.url
        assert base is not None
        status, body, _ = await get(base + "/readyz")
        assert (status, body) == (503, "ready-file: warm does not exist\n")
        flag.touch()
        assert (await get(base + "/readyz"))[:2] == (200, "ok\n")
        assert (await get(base + "/healthz"))[:2] == (200, "ok\n")
    # stopped: the admin port is closed
    with pytest.raises(aiohttp.ClientConnectionError):
        await get(base + "/healthz")


async def test_readiness_reports_shutting_down_during_drain() -> None:
    service = ExampleService(settings())
    await service.start()
    reader, writer = await asyncio.open_connection("127.0.0.1", service.settings.listen.port)
    writer.write(b"sleep 0.5\n")
    assert await reader.readline() == b"started\n"
    stopping = asyncio.create_task(service.shutdown())
    await asyncio.sleep(0.1)
    status, body, _ = await get(service.admin.url + "/readyz")
    assert (status, body) == (503, "lifecycle: shutting down\n")
    assert await stopping is True
    assert await reader.readline() == b"done 0.5\n"
    writer.close()


async def test_drain_gives_up_after_grace() -> None:
    service = ExampleService(settings(shutdown_grace=0.1))
    await service.start()
    reader, writer = await asyncio.open_connection("127.0.0.1", service.settings.listen.port)
    writer.write(b"sleep 30\n")
    assert await reader.readline() == b"started\n"
    assert service.in_flight == 1
    assert await service.shutdown() is False
    writer.close()


async def test_finish_and_fail_end_the_service() -> None:
    service = ExampleService(settings(admin_listen=None))
    await service.start()
    assert service.admin.url is None
    service.finish(3)
    assert await service.wait() == 3
    await service.shutdown()

    service = ExampleService(settings(admin_listen=None, crash_after=0.05))
    await service.start()
    with pytest.raises(ValueError, match="background task broke"):
        await service.wait()
    await service.shutdown()


async def test_failed_start_releases_the_admin_port() -> None:
    port = free_port()
    service = ExampleService(settings(admin_listen=HostPort("127.0.0.1", port), fail_start=True))
    with pytest.raises(RuntimeError, match="told to fail"):
        await service.start()
    # the port is free again
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", port)
    server.close()


async def test_admin_port_in_use_is_a_clear_error() -> None:
    blocker = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = blocker.sockets[0].getsockname()[1]
    try:
        service = ExampleService(settings(admin_listen=HostPort("127.0.0.1", port)))
        with pytest.raises(
            OSError, match=f"cannot listen on 127.0.0.1:{port} for the admin server"
        ):
            await service.start()
    finally:
        blocker.close()


async def test_reload_failure_keeps_running() -> None:
    class Fragile(ExampleService):
        async def on_reload(self) -> None:
            raise ValueError("bad mapping file")

    service = Fragile(settings(admin_listen=None))
    await service.start()
    await service.reload()  # logged, not raised
    assert not service.stopping
    await service.shutdown()


async def test_admin_server_routes_checks_and_compression() -> None:
    from prometheus_client import CollectorRegistry, Counter

    registry = CollectorRegistry()
    Counter("things", "Things.", registry=registry).inc(7)
    health = Health(check_timeout=0.1)
    admin = AdminServer(
        name="t",
        version="1",
        registry=registry,
        health=health,
        listen=HostPort("127.0.0.1", 0),
        metrics_path="/custom-metrics",
    )

    async def reload(request: web.Request) -> web.Response:
        return web.Response(text="reloaded")

    admin.add_route("POST", "/-/reload", reload)
    calls = 0

    async def slow_check() -> bool:
        await asyncio.sleep(1)
        return True

    def counting_check() -> str | None:
        nonlocal calls
        calls += 1
        return None if calls > 1 else "upstream down"

    health.add_readiness_check("upstream", counting_check)
    await admin.start()
    try:
        base = admin.url
        assert base == f"http://127.0.0.1:{admin.port}"
        assert (await get(base + "/readyz"))[:2] == (503, "upstream: upstream down\n")
        assert (await get(base + "/readyz"))[0] == 200
        health.add_readiness_check("slow", slow_check)
        status, body, _ = await get(base + "/readyz", Accept="application/json")
        assert status == 503 and "timed out" in body
        health.remove_readiness_check("slow")
        health.add_liveness_check("loop", lambda: False)
        assert (await get(base + "/healthz"))[:2] == (503, "loop: not ready\n")
        async with aiohttp.ClientSession(auto_decompress=False) as session:
            async with session.get(
                base + "/custom-metrics", headers={"Accept-Encoding": "gzip"}
            ) as r:
                assert r.headers["Content-Encoding"] == "gzip"
                assert b"things_total 7.0" in gzip.decompress(await r.read())
            async with session.post(base + "/-/reload") as r:
                assert await r.text() == "reloaded"
        assert (await get(base + "/metrics"))[0] == 404
    finally:
        await admin.stop()


async def test_a_service_with_only_defaults() -> None:
    class Minimal(Service[ServiceSettings]):
        settings_class = ServiceSettings

    service = Minimal(ServiceSettings(admin_listen=HostPort("127.0.0.1", 0)))
    async with service:
        status, body, _ = await get(service.admin.url + "/metrics")
        assert status == 200 and "podkit_build_info" in body


async def test_a_component_can_claim_a_builtin_path() -> None:
    class FirstSync(Service[ServiceSettings]):
        settings_class = ServiceSettings
        synced = False

        def __init__(self, settings: ServiceSettings) -> None:
            super().__init__(settings)
            self.admin.add_route("GET", "/", self.index)

        async def index(self, request: web.Request) -> web.Response:
            return web.Response(status=200 if self.synced else 503)

    service = FirstSync(ServiceSettings(admin_listen=HostPort("127.0.0.1", 0)))
    async with service:
        assert (await get(service.admin.url + "/"))[0] == 503
        service.synced = True
        assert (await get(service.admin.url + "/"))[0] == 200
        assert (await get(service.admin.url + "/readyz"))[0] == 200


async def test_admin_server_listens_on_ipv4_and_ipv6_by_default() -> None:
    port = free_port()
    service = ExampleService(settings(admin_listen=HostPort("", port)))
    assert ServiceSettings().admin_listen == HostPort("", 8080)  # the default: every interface
    async with service:
        for host in ("127.0.0.1", "[::1]"):
            assert (await get(f"http://{host}:{port}/healthz"))[:2] == (200, "ok\n"), host


def test_run_leaves_the_apps_logging_alone() -> None:
    root = logging.getLogger()
    before = (list(root.handlers), root.level)
    assert run(ExampleService(settings(fail_start=True))) == 1
    assert (list(root.handlers), root.level) == before


async def test_two_services_keep_their_secrets_apart() -> None:
    first = ExampleService(settings(token="first-token-1"))
    second = ExampleService(settings(token="second-token-2"))
    assert first.log.redactor("first-token-1 second-token-2") == "*** second-token-2"
    assert second.log.redactor("first-token-1 second-token-2") == "first-token-1 ***"
