"""The adapter as a service: HTTP /metrics, targets down, going away, slow, wrong credentials."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from podkit.core import HostPort, main
from podkit.jmx_adapter.config import ConfigError
from podkit.jmx_adapter.service import JmxAdapter
from podkit.jmx_adapter.settings import JmxSettings
from tests.jmx_adapter.jmx_support import KEYSTORE_PASSWORD, sample_lines
from tests.support.ports import free_port
from tests.support.waits import async_wait_until

SIMPLE = """
hostPort: {host_port}
includeObjectNames: ["podkit.test:type=Simple,*"]
rules:
  - pattern: 'podkit.test<type=Simple, name=alpha><>Count'
    name: app_count
    type: GAUGE
"""


def settings(config: Path, helper_cache: Path, **kw: object) -> JmxSettings:
    values: dict[str, object] = {
        "config_file": config,
        "listen": HostPort("127.0.0.1", 0),
        "helper_cache_dir": str(helper_cache),
        "scrape_interval": 0.2,
        "scrape_timeout": 5.0,
        "config_poll_interval": 0.1,
    }
    values.update(kw)
    return JmxSettings(**values)


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def metrics(http: aiohttp.ClientSession, adapter: JmxAdapter) -> str:
    async with http.get(f"{adapter.admin.url}/metrics") as response:
        assert response.status == 200
        return await response.text()


async def test_serves_metrics_and_self_metrics(
    jvm, helper_cache: Path, tmp_path: Path, http
) -> None:
    config = tmp_path / "jmx.yaml"
    config.write_text(SIMPLE.format(host_port=jvm.host_port))
    async with JmxAdapter(settings(config, helper_cache)) as adapter:
        await async_wait_until(lambda: adapter.scraper.scrapes >= 1)
        text = await metrics(http, adapter)
        lines = sample_lines(text)
        assert "app_count 42.0" in lines
        assert "jmx_scrape_error 0.0" in lines
        assert "jmx_config_reload_success_total 0.0" in lines
        assert "jmx_config_reload_failure_total 0.0" in lines
        assert "jmx_scrape_cached_beans 0.0" in lines
        assert any(line.startswith("jmx_scrape_duration_seconds ") for line in lines)
        async with http.get(f"{adapter.admin.url}/readyz") as response:
            assert response.status == 200


async def test_target_down_then_up_then_gone(
    start_jvm, helper_cache: Path, tmp_path: Path, http
) -> None:
    """Down at start: jmx_scrape_error 1 while serving; then up; then killed mid-run; then back."""
    port = free_port()
    config = tmp_path / "jmx.yaml"
    config.write_text(SIMPLE.format(host_port=f"127.0.0.1:{port}"))
    async with JmxAdapter(settings(config, helper_cache)) as adapter:
        await async_wait_until(lambda: adapter.scraper.scrapes >= 1)
        lines = sample_lines(await metrics(http, adapter))
        assert "jmx_scrape_error 1.0" in lines
        assert not any(line.startswith("app_count") for line in lines)
        assert "Connection refused" in adapter.scraper.last.reason

        target = start_jvm(port)
        await async_wait_until(lambda: not adapter.scraper.last.error)
        assert "app_count 42.0" in sample_lines(await metrics(http, adapter))

        target.stop()  # goes away while the adapter is connected
        await async_wait_until(lambda: adapter.scraper.last.error)
        lines = sample_lines(await metrics(http, adapter))
        assert "jmx_scrape_error 1.0" in lines

        start_jvm(port)  # restarted on the same port: the helper reconnects
        await async_wait_until(lambda: not adapter.scraper.last.error)
        assert "app_count 42.0" in sample_lines(await metrics(http, adapter))


@pytest.mark.parametrize("backend", ["persistent", "jmxquery"])
async def test_slow_target_is_cut_off(
    start_jvm, helper_cache: Path, tmp_path: Path, backend: str
) -> None:
    target = start_jvm(props={"podkit.slowMs": "5000"})
    config = tmp_path / "jmx.yaml"
    config.write_text(f"hostPort: {target.host_port}\nincludeObjectNames: ['podkit.test:*']\n")
    adapter = JmxAdapter(
        settings(config, helper_cache, scrape_timeout=1.5, scrape_interval=0, backend=backend)
    )
    result = await adapter.scraper.scrape()
    try:
        assert result.error
        assert "timed out after 1.5s" in result.reason
        if backend == "persistent":  # one slow scrape does not cost the next a JVM start
            assert adapter.helper.pid is not None
            assert adapter.helper.starts == 1
    finally:
        await adapter.helper.close()


async def test_jmxquery_target_down(helper_cache: Path, tmp_path: Path) -> None:
    config = tmp_path / "jmx.yaml"
    config.write_text(SIMPLE.format(host_port=f"127.0.0.1:{free_port()}"))
    adapter = JmxAdapter(settings(config, helper_cache, backend="jmxquery"))
    try:
        result = await adapter.scraper.scrape()
    finally:
        await adapter.helper.close()
    assert result.error
    assert "jmxquery: connection-error" in result.reason


async def test_start_delay_holds_readiness(jvm, helper_cache: Path, tmp_path: Path, http) -> None:
    config = tmp_path / "jmx.yaml"
    config.write_text(SIMPLE.format(host_port=jvm.host_port) + "startDelaySeconds: 1\n")
    async with JmxAdapter(settings(config, helper_cache)) as adapter:
        async with http.get(f"{adapter.admin.url}/readyz") as response:
            assert response.status == 503
            assert "startDelaySeconds" in await response.text()
        assert adapter.scraper.scrapes == 0
        await async_wait_until(lambda: adapter.scraper.scrapes >= 1)
        async with http.get(f"{adapter.admin.url}/readyz") as response:
            assert response.status == 200


async def test_wrong_credentials(
    start_jvm, auth_dir: Path, helper_cache: Path, tmp_path: Path
) -> None:
    target = start_jvm(auth=auth_dir)
    config = tmp_path / "jmx.yaml"
    body = SIMPLE.format(host_port=target.host_port) + "username: monitor\n"
    config.write_text(body + "password: wrong\n")
    adapter = JmxAdapter(settings(config, helper_cache))
    # the file's password is this service's secret: its logs never show it
    assert "wrong" not in adapter.redactor("JMX password is wrong")
    try:
        result = await adapter.scraper.scrape()
        assert result.error
        assert "Authentication failed" in result.reason or "SecurityException" in result.reason
    finally:
        await adapter.helper.close()
    # the env-only password wins over the file's
    good = JmxAdapter(settings(config, helper_cache, password="s3cret"))
    try:
        result = await good.scraper.scrape()
        assert not result.error, result.reason
        assert sample_lines(result.text) == ["app_count 42.0"]
    finally:
        await good.helper.close()


async def test_config_reload_on_change_and_bad_file_kept(
    jvm, helper_cache: Path, tmp_path: Path, http
) -> None:
    config = tmp_path / "jmx.yaml"
    config.write_text(SIMPLE.format(host_port=jvm.host_port))
    async with JmxAdapter(settings(config, helper_cache)) as adapter:
        await async_wait_until(lambda: adapter.scraper.scrapes >= 1)
        config.write_text("rules: [this is: not valid")
        os.utime(config, (1, 1))
        await async_wait_until(lambda: adapter.reloads["failure"] == 1)
        assert adapter.config.rules[0].name == "app_count"  # the old config stays
        config.write_text(SIMPLE.format(host_port=jvm.host_port).replace("app_count", "renamed"))
        os.utime(config, (2, 2))
        await async_wait_until(lambda: adapter.reloads["success"] == 1)
        await async_wait_until(
            lambda: any(f.name == "renamed" for f in adapter.scraper.last.families)
        )
        lines = sample_lines(await metrics(http, adapter))
        assert "renamed 42.0" in lines
        assert "jmx_config_reload_success_total 1.0" in lines
        assert "jmx_config_reload_failure_total 1.0" in lines
        # a pattern Java refuses is a failed reload too; the helper keeps the running rules
        config.write_text(SIMPLE.format(host_port=jvm.host_port).replace("Count'", "Count{,3}'"))
        os.utime(config, (3, 3))
        await async_wait_until(lambda: adapter.reloads["failure"] == 2)
        before = adapter.scraper.scrapes
        await async_wait_until(lambda: adapter.scraper.scrapes > before)
        assert sample_lines(adapter.scraper.last.text) == ["renamed 42.0"]


async def test_on_demand_scrapes(jvm, helper_cache: Path, tmp_path: Path, http) -> None:
    config = tmp_path / "jmx.yaml"
    config.write_text(SIMPLE.format(host_port=jvm.host_port))
    async with JmxAdapter(
        settings(config, helper_cache, scrape_interval=0, scrape_cache=0)
    ) as adapter:
        await async_wait_until(lambda: adapter.scraper.scrapes >= 1)
        before = adapter.scraper.scrapes
        assert "app_count 42.0" in sample_lines(await metrics(http, adapter))
        assert adapter.scraper.scrapes == before + 1


def test_malformed_config_fails_start(tmp_path: Path, capsys) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("hostPort: 127.0.0.1:1\nrules:\n  - name: x\n")
    assert main(JmxAdapter, ["127.0.0.1:0", str(config)], {}) == 1
    assert "a rule with a name needs a pattern" in capsys.readouterr().err
    with pytest.raises(ConfigError, match="needs a pattern"):
        JmxAdapter(JmxSettings(config_file=config))


def test_check_config(tmp_path: Path, capsys) -> None:
    good = tmp_path / "good.yaml"
    good.write_text("hostPort: 127.0.0.1:9999\nrules:\n  - pattern: '.*'\n")
    assert main(JmxAdapter, [str(good), "--check-config"], {}) == 0
    assert main(JmxAdapter, ["--check-config", "9404", str(good)], {}) == 0  # flag first, too
    assert "1 rules" in capsys.readouterr().out
    bad = tmp_path / "bad.yaml"
    bad.write_text("hostPort: 127.0.0.1:9999\njmxUrl: service:jmx:rmi:///x\n")
    assert main(JmxAdapter, ["9404", str(bad), "--check-config"], {}) == 1
    assert "at most one of hostPort and jmxUrl" in capsys.readouterr().err
    assert main(JmxAdapter, [str(good), "--check-config", "--backend=jolokia"], {}) == 1
    assert "needs an http(s) URL" in capsys.readouterr().err


def test_command_line_is_jmx_exporters(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("hostPort: 127.0.0.1:9999\n")
    s = JmxSettings.load(
        ["9404", str(config), "--backend", "jmxquery"], {"JMX_ADAPTER_PASSWORD": "pw"}
    )
    assert s.listen == HostPort("0.0.0.0", 9404)
    assert s.admin_listen == HostPort("0.0.0.0", 9404)
    assert s.config_file == config
    assert s.backend == "jmxquery"
    assert s.password == "pw"
    assert "pw" not in repr(s)
    s = JmxSettings.load(["127.0.0.1:9405", str(config)], {})
    assert s.admin_listen == HostPort("127.0.0.1", 9405)


async def test_ssl_target(start_jvm, keystore: Path, helper_cache: Path, tmp_path: Path) -> None:
    """``ssl: true`` with the truststore handed to the helper JVM by --java-option."""
    target = start_jvm(ssl=keystore)
    config = tmp_path / "jmx.yaml"
    config.write_text(SIMPLE.format(host_port=target.host_port) + "ssl: true\n")
    options = [
        f"-Djavax.net.ssl.trustStore={keystore}",
        f"-Djavax.net.ssl.trustStorePassword={KEYSTORE_PASSWORD}",
    ]
    adapter = JmxAdapter(settings(config, helper_cache, java_options=options))
    try:
        result = await adapter.scraper.scrape()
        assert not result.error, result.reason
        assert sample_lines(result.text) == ["app_count 42.0"]
    finally:
        await adapter.helper.close()
    plain = tmp_path / "plain.yaml"
    plain.write_text(SIMPLE.format(host_port=target.host_port))  # no ssl: the handshake fails
    adapter = JmxAdapter(settings(plain, helper_cache, java_options=options))
    try:
        result = await adapter.scraper.scrape()
        assert result.error
    finally:
        await adapter.helper.close()
    with pytest.raises(Exception, match="cannot use ssl"):
        JmxAdapter(settings(config, helper_cache, backend="jmxquery"))
    # jmx_exporter 1.x's map form: the truststore in the config, no JVM option needed
    mapped = tmp_path / "mapped.yaml"
    mapped.write_text(
        SIMPLE.format(host_port=target.host_port)
        + f"ssl:\n  enabled: true\n  trustStore:\n    filename: {keystore}\n"
        + f"    password: {KEYSTORE_PASSWORD}\n    type: PKCS12\n  protocols: [TLSv1.3, TLSv1.2]\n"
    )
    adapter = JmxAdapter(settings(mapped, helper_cache))
    try:
        result = await adapter.scraper.scrape()
        assert not result.error, result.reason
        assert sample_lines(result.text) == ["app_count 42.0"]
    finally:
        await adapter.helper.close()


async def test_target_goes_away_mid_scrape(start_jvm, helper_cache: Path, tmp_path: Path) -> None:
    """Killed while a getter is running: that scrape fails, the helper survives and reconnects."""
    target = start_jvm(props={"podkit.slowMs": "4000"})
    config = tmp_path / "jmx.yaml"
    config.write_text(f"hostPort: {target.host_port}\nincludeObjectNames: ['podkit.test:*']\n")
    adapter = JmxAdapter(settings(config, helper_cache, scrape_timeout=30.0, scrape_interval=0))
    try:
        scrape = asyncio.ensure_future(adapter.scraper.scrape())
        await asyncio.sleep(1.5)  # the helper is inside the slow getter now
        assert not scrape.done()
        target.stop()
        result = await scrape
        assert result.error
        assert "timed out" not in result.reason
        start_jvm(target.port)  # back on the same port, without the slow bean
        result = await adapter.scraper.scrape()
        assert not result.error, result.reason
        assert adapter.helper.starts == 1
    finally:
        await adapter.helper.close()


async def test_no_numbers_before_the_first_scrape(
    jvm, helper_cache: Path, tmp_path: Path, http
) -> None:
    """As jmx_exporter: /metrics answers 500 until a scrape has completed; /readyz says why.
    The helper JVM is already up and warm then, so the first scrape does not pay for it."""
    config = tmp_path / "jmx.yaml"
    config.write_text(SIMPLE.format(host_port=jvm.host_port) + "startDelaySeconds: 60\n")
    async with JmxAdapter(settings(config, helper_cache)) as adapter:
        async with http.get(f"{adapter.admin.url}/metrics") as response:
            assert response.status == 500
            assert "startDelaySeconds" in await response.text()
        async with http.get(f"{adapter.admin.url}/readyz") as response:
            assert response.status == 503
            assert "startDelaySeconds" in await response.text()
        assert adapter.helper.pid is not None
        assert adapter.helper.starts == 1
        assert adapter.scraper.scrapes == 0


async def test_bad_java_pattern_fails_start_with_javas_reason(
    helper_cache: Path, tmp_path: Path
) -> None:
    config = tmp_path / "jmx.yaml"
    config.write_text("hostPort: 127.0.0.1:1\nrules:\n  - pattern: 'a{,3}'\n    name: x\n")
    with pytest.raises(ConfigError, match=r"not a valid Java regex: Illegal repetition"):
        async with JmxAdapter(settings(config, helper_cache)):
            pass


async def test_skipped_attributes_are_counted(
    jvm, helper_cache: Path, tmp_path: Path, http, caplog
) -> None:
    config = tmp_path / "jmx.yaml"
    config.write_text(SIMPLE.format(host_port=jvm.host_port))
    caplog.set_level("DEBUG", logger="podkit-jmx-adapter.scrape")
    async with JmxAdapter(settings(config, helper_cache)) as adapter:
        await async_wait_until(lambda: adapter.scraper.scrapes >= 2)
        lines = sample_lines(await metrics(http, adapter))
        assert adapter.scraper.last.skipped == {"read_failed": 1, "unsupported_type": 1}
        scrapes = adapter.scraper.scrapes
        assert f'jmx_adapter_attributes_skipped_total{{reason="read_failed"}} {scrapes}.0' in lines
    logged = [r for r in caplog.records if r.getMessage().startswith("attribute skipped")]
    assert len(logged) == 2  # once per attribute and reason, however many scrapes


async def test_a_helper_that_stops_answering_is_replaced(
    jvm, helper_cache: Path, tmp_path: Path
) -> None:
    """One slow scrape keeps the helper; a helper silent through three requests in a row (here:
    stopped with SIGSTOP) is killed, and the next scrape runs on a fresh one."""
    config = tmp_path / "jmx.yaml"
    config.write_text(SIMPLE.format(host_port=jvm.host_port))
    adapter = JmxAdapter(settings(config, helper_cache, scrape_timeout=1.0, scrape_interval=0))
    try:
        assert not (await adapter.scraper.scrape()).error
        first = adapter.helper.pid
        assert first is not None
        os.kill(first, signal.SIGSTOP)
        for _ in range(3):
            result = await adapter.scraper.scrape()
            assert result.error
            assert "timed out after 1s" in result.reason
        await async_wait_until(lambda: adapter.helper.pid != first, what="the stalled helper gone")
        result = await adapter.scraper.scrape()
        assert not result.error, result.reason
        assert sample_lines(result.text) == ["app_count 42.0"]
        assert adapter.helper.starts == 2
    finally:
        await adapter.helper.close()
