"""The Jolokia backend against a fake Jolokia agent (no Jolokia jar is available here).

The fake answers bulk ``read`` requests with Jolokia-shaped JSON for the same MBeans the test
JVM registers, as Jolokia renders them: composites and tabular data as JSON objects.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from podkit.jmx_adapter.backend import BackendError, ScrapeFilter
from podkit.jmx_adapter.backend_jolokia import JolokiaBackend
from podkit.jmx_adapter.config import parse_config
from podkit.jmx_adapter.objectname import matches, parse_object_name
from podkit.jmx_adapter.service import JmxAdapter
from podkit.jmx_adapter.settings import JmxSettings
from tests.jmx_adapter.jmx_support import FEATURES, SAMPLES_SIMPLE, sample_lines
from tests.support.ports import free_port

BEANS: dict[str, dict[str, Any]] = {
    "podkit.test:type=Simple,name=alpha": {
        "Count": 42,
        "Ratio": 0.5,
        "Big": 1.5e10,
        "Enabled": True,
        "Disabled": False,
        "Label": "hello",
        "Numeric": "17",
        "Nothing": None,
        "Total": 12345678901,
    },
    "podkit.test:type=Structured": {
        "Usage": {"used": 100, "max": 200},
        "Map": {"a": 1, "b": 2},
        "Stats": {"users": {"cache": "users", "hits": 7, "misses": 3}},
    },
    "podkit.test:type=Dup,name=a,scope=x": {"Value": 1},
    "podkit.test:type=Dup,name=b,scope=x": {"Value": 2},
    "podkit.test:type=Camel": {"HeapUsedBytes": 5},
    "java.lang:type=Memory": {"HeapMemoryUsage": {"used": 1, "max": 2}},
}


def _matching(pattern: str) -> dict[str, Any]:
    return {
        name: attrs for name, attrs in BEANS.items() if matches(pattern, *parse_object_name(name))
    }


@pytest.fixture
async def jolokia() -> AsyncIterator[tuple[str, list[Any]]]:
    seen: list[Any] = []

    async def handle(request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != "Basic bW9uaXRvcjpzM2NyZXQ=":  # monitor:s3cret
            return web.Response(status=401)
        body = await request.json()
        seen.append(body)
        replies = []
        for item in body:
            found = _matching(item["mbean"])
            if not found:
                replies.append(
                    {"request": item, "status": 404, "error": "InstanceNotFoundException"}
                )
            else:
                replies.append({"request": item, "value": found, "status": 200, "timestamp": 1})
        return web.json_response(replies)

    app = web.Application()
    app.router.add_post("/jolokia/", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}/jolokia", seen
    await runner.cleanup()


async def test_jolokia_feature_samples(jolokia, engine_for) -> None:
    url, seen = jolokia
    config = parse_config(FEATURES.format(host_port="127.0.0.1:1"))
    backend = JolokiaBackend(url, username="monitor", password="s3cret")
    try:
        beans = await backend.scrape(ScrapeFilter(config.include, config.exclude))
    finally:
        await backend.close()
    assert len(seen) == 1  # one bulk request per scrape
    assert seen[0][0]["mbean"] == "podkit.test:*"
    assert seen[0][0]["config"]["canonicalNaming"] is False
    lines = sample_lines((await (await engine_for(config)).evaluate(beans)).text)
    # Jolokia's JSON makes tabular data look like composites, so the tabular rules match nothing;
    # every other sample is identical to the JMX backends'.
    assert sorted(lines) == sorted(SAMPLES_SIMPLE)


async def test_jolokia_default_naming_and_exclude(jolokia, engine_for) -> None:
    url, _ = jolokia
    config = parse_config(
        "includeObjectNames: ['podkit.test:type=Dup,*', 'java.lang:*']\n"
        "excludeObjectNames: ['podkit.test:type=Dup,name=b,*']\n"
    )
    backend = JolokiaBackend(url, username="monitor", password="s3cret")
    try:
        beans = await backend.scrape(ScrapeFilter(config.include, config.exclude))
    finally:
        await backend.close()
    engine = await engine_for(config)
    assert sorted(sample_lines((await engine.evaluate(beans)).text)) == [
        "java_lang_Memory_HeapMemoryUsage_max 2.0",
        "java_lang_Memory_HeapMemoryUsage_used 1.0",
        'podkit_test_Dup_Value{name="a",scope="x"} 1.0',
    ]


async def test_jolokia_errors(jolokia) -> None:
    url, _ = jolokia
    backend = JolokiaBackend(url, username="monitor", password="wrong")
    try:
        with pytest.raises(BackendError, match="HTTP 401"):
            await backend.scrape(ScrapeFilter())
    finally:
        await backend.close()
    down = JolokiaBackend(f"http://127.0.0.1:{free_port()}/jolokia")
    try:
        with pytest.raises(BackendError, match="cannot reach Jolokia"):
            await down.scrape(ScrapeFilter())
    finally:
        await down.close()
    ok = JolokiaBackend(url, username="monitor", password="s3cret")
    try:
        assert await ok.scrape(ScrapeFilter(("podkit.nothing:*",))) == []
    finally:
        await ok.close()


async def test_adapter_with_jolokia_backend(jolokia, tmp_path, helper_cache) -> None:  # type: ignore[no-untyped-def]
    """The service wired to Jolokia: an http(s) jmxUrl is the agent, the env password is used."""
    url, _ = jolokia
    config = tmp_path / "jmx.yaml"
    config.write_text(
        f"jmxUrl: {url}\nusername: monitor\nincludeObjectNames: ['podkit.test:type=Dup,*']\n"
        "rules: [{pattern: 'Dup, name=(\\w+)', name: dup, labels: {n: $1}}]\n"
    )
    settings = JmxSettings(
        config_file=config,
        backend="jolokia",
        password="s3cret",
        helper_cache_dir=str(helper_cache),
    )
    adapter = JmxAdapter(settings)
    try:
        result = await adapter.scraper.scrape()  # not started: the first scrape starts the helper
    finally:
        await adapter.scraper.backend.close()
        await adapter.helper.close()
    assert not result.error, result.reason
    assert sorted(sample_lines(result.text)) == ['dup{n="a"} 1.0', 'dup{n="b"} 2.0']
